"""The outbox with a real Celery worker and Redis: delivered once, nothing lost without Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import func, select

from config.settings import Settings
from tests.conftest import REDIS_URL, _unavailable
from triage.models import Notification, OutboxMessage, OutboxStatus

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


@pytest.fixture
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        _unavailable("Redis", type(exc).__name__)
    redis.Redis.from_url(REDIS_URL).flushdb()
    return REDIS_URL


def _app(settings: Settings, redis_url: str):
    from dataclasses import replace

    from triage import create_app

    return create_app(replace(settings, redis_url=redis_url), background=False)


@pytest.fixture
def worker(settings, redis_url, tmp_path):
    env = {**os.environ, "TRIAGE_DATABASE_URL": settings.database_url,
           "TRIAGE_REDIS_URL": redis_url, "TRIAGE_SECRET_KEY": settings.secret_key,
           "TRIAGE_INSTANCE_PATH": str(tmp_path / "worker"), "TRIAGE_LOG_LEVEL": "WARNING"}
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "triage.worker", "worker", "--pool", "solo",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "WARNING"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _wait_until(predicate, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _status_counts(rt) -> dict[str, int]:
    with rt.db.reader() as session:
        rows = session.exec(select(OutboxMessage.status, func.count())
                            .group_by(OutboxMessage.status)).all()
    return dict(rows)


def test_worker_delivers_each_message_once(settings, redis_url, worker, referral_body):
    from triage.services.accounts import users
    from triage.services.referrals import intake

    app = _app(settings, redis_url)
    rt = app.extensions["triage"]
    user = users.create_user(rt.db, email="fire@test.example", role="partner",
                                organisation="Fire")
    for _ in range(10):
        intake.submit_referral(rt, user=user, body=referral_body())
    rt.relay.drain()
    assert _wait_until(lambda: _status_counts(rt).get(OutboxStatus.done) == 10), \
        _status_counts(rt)
    with rt.db.reader() as session:
        acks = session.exec(select(func.count()).select_from(Notification)
                            .where(Notification.kind == "referral.received")).one()
    assert acks == 10
    # A message delivered again (a redelivery after a lost ack) changes nothing.
    with rt.db.reader() as session:
        first = session.exec(select(OutboxMessage.id)).first()
    app.extensions["celery"].send_task("triage.outbox.deliver", args=[first])
    time.sleep(2)
    with rt.db.reader() as session:
        again = session.exec(select(func.count()).select_from(Notification)
                             .where(Notification.kind == "referral.received")).one()
    assert again == 10


def test_intake_succeeds_with_redis_down_and_the_sweep_delivers_later(
        settings, redis_url, worker, referral_body):
    from triage.services.accounts import users
    from triage.services.referrals import intake

    down = _app(settings, "redis://127.0.0.1:1/0")  # nothing listens there
    rt_down = down.extensions["triage"]
    user = users.create_user(rt_down.db, email="police@test.example", role="partner",
                                organisation="Police")
    for _ in range(20):
        status, _ = intake.submit_referral(rt_down, user=user, body=referral_body())
        assert status == 201
    rt_down.relay.drain(timeout=60)
    assert _status_counts(rt_down) == {OutboxStatus.pending: 20}

    # Redis is back: the periodic sweep (run here by hand, as beat would) re-sends everything.
    relay = _app(settings, redis_url).extensions["triage"].relay

    def swept_and_delivered() -> bool:
        relay.sweep()
        return _status_counts(rt_down) == {OutboxStatus.done: 20}

    assert _wait_until(swept_and_delivered), _status_counts(rt_down)
