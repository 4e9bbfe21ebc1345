"""SQLite under 16 concurrent writers: every referral stored, never "database is locked"."""

from __future__ import annotations

import threading

from sqlmodel import func, select

from triage.models import Referral


def test_sixteen_concurrent_clients_never_see_database_is_locked(app, rt, auth, referral_body):
    headers = auth("partner")
    statuses: list[int] = []
    lock = threading.Lock()

    def client_thread() -> None:
        client = app.test_client()
        mine = [client.post("/api/v1/referrals", json=referral_body(), headers=headers)
                .status_code for _ in range(8)]
        with lock:
            statuses.extend(mine)

    threads = [threading.Thread(target=client_thread) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [201] * 128
    with rt.db.reader() as session:
        assert session.exec(select(func.count()).select_from(Referral)).one() == 128
