"""Hypothesis throws arbitrary JSON at the referral endpoint: never a 500, never half-stored."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from triage.models import Household, OutboxMessage, Person, Referral, ReferralPerson

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)

FIELDS = ["channel", "referrer", "postcode", "people", "answers", "consent",
          "information_only", "step_down", "concerns"]


def _counts(rt) -> tuple[int, ...]:
    with rt.db.reader() as session:
        return tuple(session.exec(select(func.count()).select_from(m)).one()
                     for m in (Referral, Person, Household, ReferralPerson, OutboxMessage))


@st.composite
def mutated_bodies(draw, base):
    body = json.loads(json.dumps(base))
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        if draw(st.booleans()):
            body.pop(field, None)
        else:
            body[field] = draw(json_values)
    if draw(st.booleans()):
        person = dict(body["people"][0]) if isinstance(body.get("people"), list) and body[
            "people"] and isinstance(body["people"][0], dict) else {}
        person[draw(st.sampled_from(["ref", "role", "date_of_birth", "given_name"]))] = draw(
            json_values)
        body["people"] = [person]
    if draw(st.booleans()):
        answers = body.get("answers") if isinstance(body.get("answers"), dict) else {}
        answers[draw(st.sampled_from(["memory_concern", "school_exclusion", "nope",
                                      "child_at_risk_of_harm"]))] = draw(json_values)
        body["answers"] = answers
    return body


BASE = {
    "channel": "staff", "postcode": "LE13 0AB",
    "people": [{"ref": "p1", "role": "subject", "given_name": "Gwen", "family_name": "Smith",
                "date_of_birth": "1932-03-01"}],
    "answers": {"memory_concern": True}, "consent": "given",
}


@pytest.fixture
def headers(auth):
    return auth("front_door")


# PostgreSQL too: there the intake's writes go in as parts of fewer, larger statements.
@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=st.one_of(json_values, mutated_bodies(BASE)))
def test_arbitrary_json_never_500_and_never_half_stored(client, rt, headers, body):
    before = _counts(rt)
    response = client.post("/api/v1/referrals", json=body, headers=headers)
    after = _counts(rt)
    assert response.status_code in (201, 422), response.json
    assert isinstance(response.json["message"] if response.status_code == 422 else
                      response.json["reference"], str)
    if response.status_code == 422:
        assert response.json["errors"], "a 422 names at least one field"
        assert after == before, "a rejected referral left rows behind"
    else:
        assert after[0] == before[0] + 1


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_never_500(client, headers, raw):
    response = client.post("/api/v1/referrals", data=raw,
                           headers={**headers, "Content-Type": "application/json"})
    assert response.status_code in (201, 422)
