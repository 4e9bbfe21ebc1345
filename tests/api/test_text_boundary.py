"""Text that no database can store (a NUL, U+0000) or that is not Unicode at all (a lone
surrogate such as U+D800) is refused where it comes in, with a 422 naming the field, the
same on SQLite and PostgreSQL; nothing is recorded."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from tests.api.cases_helpers import fire, open_case, team
from triage.models import AuditEvent, Person, Referral

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
BAD = pytest.mark.parametrize("bad", ["x\x00y", "x\ud800y"], ids=["nul", "lone_surrogate"])


def count(rt, model) -> int:
    with rt.db.reader() as session:
        return session.exec(select(func.count()).select_from(model)).scalar_one()


def post_json(client, url: str, body, headers: dict):
    """JSON as a client library writes it: non-ASCII escaped, so a lone surrogate is sent
    as the six characters \\ud800 (the only way one can arrive)."""
    return client.post(url, data=json.dumps(body), content_type="application/json",
                       headers=headers)


@both_databases
@BAD
@pytest.mark.parametrize("where", ["given_name", "family_name", "concerns", "referrer"])
def test_a_referral_with_unstorable_text_is_refused_naming_the_field(
        client, auth, rt, referral_body, bad, where):
    body = referral_body()
    if where == "concerns":
        body["concerns"], path = f"Worried {bad}", "concerns"
    elif where == "referrer":
        body["referrer"]["name"], path = bad, "referrer.name"
    else:
        body["people"][0][where], path = bad, f"people.0.{where}"
    response = post_json(client, "/api/v1/referrals", body, auth("front_door"))
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]) == [path]
    assert "U+" in response.json["errors"][path][0]
    assert count(rt, Referral) == 0 and count(rt, Person) == 0


@both_databases
def test_a_matched_person_s_new_spelling_with_a_lone_surrogate_is_refused_not_dropped(
        client, auth, rt, referral_body):
    headers = auth("front_door")
    assert post_json(client, "/api/v1/referrals", referral_body(), headers).status_code == 201
    body = referral_body()
    body["people"][0]["given_name"] = "Gw\ud800en"
    response = post_json(client, "/api/v1/referrals", body, headers)
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["people.0.given_name"]
    assert count(rt, Referral) == 1


@both_databases
def test_a_preview_and_a_json_batch_name_the_field_with_its_place_in_the_list(
        client, auth, referral_body):
    headers = auth("partner")
    body = referral_body()
    body["people"][1]["relationship"] = "so\x00n"
    preview = post_json(client, "/api/v1/triage/preview", body, headers)
    assert preview.status_code == 422
    assert list(preview.json["errors"]) == ["people.1.relationship"]
    batch = post_json(client, "/api/v1/referrals/batch",
                      {"referrals": [referral_body(), body]}, headers)
    assert batch.status_code == 422
    assert list(batch.json["errors"]) == ["referrals.1.people.1.relationship"]


@both_databases
def test_a_csv_cell_with_a_nul_is_refused_by_row_and_column(client, auth, rt):
    csv_file = ("postcode,consent,subject_date_of_birth,subject_given_name,subject_family_name,"
                "concerns\r\n"
                "LE11 1AB,given,2015-05-05,Amy,Ward,fine\r\n"
                "LE11 1AB,given,2015-05-05,Ben,Ward,home \x00alone\r\n")
    response = client.post("/api/v1/referrals/batch", data=csv_file.encode(),
                           content_type="text/csv", headers=auth("partner"))
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]) == ["rows.3.concerns"]
    assert count(rt, Referral) == 0


@both_databases
def test_a_reference_a_query_and_a_key_with_a_nul_are_refused_naming_them(
        client, auth, referral_body):
    headers = auth("front_door")
    # A reference with a NUL in it matches no route (a reference is letters, a year and a
    # number), so the address as a whole is named.
    response = client.get("/api/v1/referrals/EH-2026-0%00001", headers=headers)
    assert response.status_code == 422 and list(response.json["errors"]) == ["path"]
    response = client.post("/api/v1/referrals/EH-2026-0%00001/consent",
                           json={"consent": "given"}, headers=headers)
    assert response.status_code == 422 and list(response.json["errors"]) == ["path"]
    response = client.get("/api/v1/people?q=Sm%00ith", headers=headers)
    assert response.status_code == 422 and list(response.json["errors"]) == ["q"]
    response = client.get("/api/v1/referrals?status=routed%00", headers=headers)
    assert response.status_code == 422 and list(response.json["errors"]) == ["status"]
    response = client.post("/api/v1/referrals", json=referral_body(),
                           headers={**headers, "Idempotency-Key": "key\x00one"})
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["Idempotency-Key"]


@both_databases
@BAD
def test_a_case_event_with_unstorable_text_is_refused_for_the_team_and_for_others(
        client, auth, rt, referral_body, bad):
    own = auth("practitioner", team=team("local_area_coordination"))
    _, case_id = open_case(client, auth("front_door"), referral_body,
                           "local_area_coordination")
    before = client.get(f"/api/v1/cases/{case_id}", headers=own).json
    event = before["allowed_events"][0]["event"]
    response = post_json(client, f"/api/v1/cases/{case_id}/events",
                         {"event": f"{event}{bad}"}, own)
    assert response.status_code == 422 and list(response.json["errors"]) == ["event"]
    response = post_json(client, f"/api/v1/cases/{case_id}/events",
                         {"event": event, "reason": bad}, own)
    assert response.status_code == 422 and list(response.json["errors"]) == ["reason"]
    # Another team's member: refused either way, never a 500, and the refusal is recorded.
    other = auth("practitioner", team=team("first_contact_plus"))
    audits = count(rt, AuditEvent)
    response = post_json(client, f"/api/v1/cases/{case_id}/events",
                         {"event": f"{event}{bad}"}, other)
    assert response.status_code in (403, 422), response.json
    assert count(rt, AuditEvent) >= audits
    after = client.get(f"/api/v1/cases/{case_id}", headers=own).json
    assert after["state"] == before["state"] and after["history"] == before["history"]
    assert fire(client, own, case_id, event, reason="Seen the family.").status_code == 200


@both_databases
def test_a_nul_in_a_path_no_route_matches_is_still_a_clean_answer(client, auth):
    headers = auth("partner")
    response = client.get("/api/v1/nothing%00here", headers=headers)
    assert response.status_code in (404, 422)
    response = client.post("/api/v1/referrals/EH%00/close", json={}, headers=headers)
    assert response.status_code in (403, 422), response.json


def test_ordinary_text_in_any_script_is_kept_as_sent(client, auth, referral_body):
    headers = auth("front_door")
    body = referral_body(concerns="Zoë's nan — 日本語 ✓ 🙂 tab\there")
    body["people"][0]["given_name"] = "Siân"
    sent = post_json(client, "/api/v1/referrals", body, headers)
    assert sent.status_code == 201, sent.json
    got = client.get(f"/api/v1/referrals/{sent.json['reference']}", headers=headers).json
    assert got["concerns"] == "Zoë's nan — 日本語 ✓ 🙂 tab\there"
