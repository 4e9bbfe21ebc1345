"""PostgreSQL under 16 concurrent partners: every referral stored once and complete."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import func, select

from triage.models import (
    AuditEvent,
    Case,
    CaseEvent,
    Decision,
    OutboxMessage,
    Referral,
    ReferralPerson,
)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_sixteen_concurrent_partners_store_every_referral_once_and_whole(
        app, rt, auth, referral_body):
    headers = auth("partner")
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def client_thread(k: int) -> None:
        client = app.test_client()
        mine = []
        for i in range(8):
            # Half the referrals are for one family (matched into one household at once),
            # half for a new person each time.
            people = referral_body()["people"]
            if i % 2:
                people = [{**people[0], "given_name": f"New{'x' * k}{'y' * i}"}, people[1]]
            response = client.post("/api/v1/referrals", headers=headers,
                                   json=referral_body(people=people))
            mine.append((response.status_code, response.json))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client_thread, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [status for status, _ in results] == [201] * 128
    references = {body["reference"] for _, body in results}
    assert len(references) == 128
    with rt.db.reader() as session:
        def count(model) -> int:
            return session.exec(select(func.count()).select_from(model)).one()

        assert count(Referral) == 128 and count(Decision) == 128
        assert count(ReferralPerson) == 256 and count(OutboxMessage) == 128
        assert count(AuditEvent) >= 128
        stored = set(session.exec(select(Referral.reference)).all())
        cases = session.exec(select(Case.id, Case.referral_id)).all()
        opened = session.exec(select(CaseEvent.case_id).where(CaseEvent.event == "open")).all()
    assert stored == references
    answered = sum(len(body["cases"]) for _, body in results)
    assert len(cases) == answered > 0 and sorted(opened) == sorted(c.id for c in cases)
