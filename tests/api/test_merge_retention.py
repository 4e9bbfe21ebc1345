"""The retention schedule and merges: a merge keeps what it changed so it can be undone, which
is personal data. Once the people it joined are anonymised, the merge keeps none of it (only
how many rows it touched), the record merged away is anonymised with its survivor, and an undo
is refused saying why."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from tests.api.test_privacy_retention import REASON, age, family, refer
from triage.models import Person, RecordMerge, Referral, ReferralPerson

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
MERGE_REASON = "Same boy: Kitt is a typo, his school confirmed the date of birth."


def _subject(rt, reference: str) -> int:
    with rt.db.reader() as session:
        return session.exec(select(ReferralPerson.person_id).join(
            Referral, Referral.id == ReferralPerson.referral_id).where(
            Referral.reference == reference, ReferralPerson.ref == "c1")).one()


@both_databases
def test_an_anonymised_merge_keeps_no_personal_data_and_cannot_be_undone(
        client, auth, make_user, referral_body, rt):
    _, token = make_user("admin")
    admin = {"Authorization": f"Bearer {token}"}
    staff = auth("front_door")
    first = refer(client, staff, referral_body, family("Oldham", "2010-01-01"), "LE11 2AB")
    typo = family("Oldham", "2010-01-01")[:1]
    typo[0] = {**typo[0], "given_name": "Kitt", "contact": {"phone": "07700 900999"}}
    second = refer(client, staff, referral_body, typo, "LE13 0AB")
    known, newer = _subject(rt, first["reference"]), _subject(rt, second["reference"])
    assert known != newer
    merged = client.post(f"/api/v1/people/{newer}/merge", headers=staff,
                         json={"into": known, "reason": MERGE_REASON})
    assert merged.status_code == 201, merged.json
    with rt.db.reader() as session:
        kept = session.get(RecordMerge, merged.json["id"]).snapshot
    # Before retention the snapshot is what an undo needs: it names rows and values.
    assert kept["updated"] and "anonymised_at" not in kept

    for reference in (first["reference"], second["reference"]):
        age(rt, reference, 7)
    review = client.post("/api/v1/retention/reviews", headers=admin).json["review"]
    done = client.post(f"/api/v1/retention/reviews/{review['id']}/confirm",
                       json={"reason": REASON}, headers=admin)
    assert done.status_code == 200, done.json

    with rt.db.reader() as session:
        row = session.get(RecordMerge, merged.json["id"])
        people = {p.id: p for p in session.exec(select(Person).where(
            Person.id.in_([known, newer])))}
    text = json.dumps(row.snapshot)
    # Only counts and when they were emptied: no names, phone, rows or values to put back.
    assert set(row.snapshot) == {"anonymised_at", "changed", "removed"}
    assert row.snapshot["changed"] == merged.json["changed"]
    for word in ("Kit", "Oldham", "07700", "household_id", "referral_id"):
        assert word not in text
    assert row.reason == "(anonymised)" and MERGE_REASON not in text
    # The record merged away is the same boy: anonymised with the survivor.
    assert all(p.anonymised_at is not None and p.given_name is None and p.phone is None
               for p in people.values())

    undo = client.post(f"/api/v1/merges/{row.id}/undo", headers=staff,
                       json={"reason": "The school was wrong after all."})
    assert undo.status_code == 409, undo.json
    assert "anonymised by the retention schedule" in undo.json["message"]
    with rt.db.reader() as session:
        assert session.get(Person, newer).merged_into_id == known  # nothing was put back
    shown = client.get(f"/api/v1/merges/{row.id}", headers=staff)
    assert shown.status_code == 200 and shown.json["changed"] == merged.json["changed"]
