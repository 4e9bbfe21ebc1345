"""Case notifications with a real Celery worker and a real Redis (a private redis-server, so it
can be stopped): every outbox message reaches the notification sink exactly once when the
worker is SIGKILLed mid-task and restarted, and when Redis is down for a minute during 200
intakes (without restarting the worker)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from sqlmodel import func, select

from tests.conftest import _unavailable
from triage.models import Notification, OutboxMessage, OutboxStatus

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.parametrize("backend", ["postgres"], indirect=True),
              pytest.mark.redis]

# Notifications each topic writes in these tests: a referral is acknowledged to its partner
# and announced to the team; "introduce" tells the referrer of acceptance, "close" of the
# outcome.
EXPECTED = {"referral.received": 2, "case.moved": 1}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until(predicate, timeout: float, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


class PrivateRedis:
    """A redis-server of our own (no persistence) that a test may stop and start again."""

    def __init__(self, binary: str, folder: Path):
        self.binary = binary
        self.folder = folder
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder), "--logfile",
             str(self.folder / "redis.log")])
        assert _wait_until(self.ping, 20), "redis-server did not start"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.proc = None


@pytest.fixture
def private_redis(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        _unavailable("redis-server", "not installed; these tests stop and start their own")
    server = PrivateRedis(binary, tmp_path)
    server.start()
    yield server
    server.stop()


class Worker:
    """`celery worker --beat` in its own process group (so SIGKILL takes beat with it)."""

    def __init__(self, settings, redis_url: str, folder: Path, name: str, **test_env: str):
        self.log_path = folder / f"{name}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
        env.update({
            "TRIAGE_DATABASE_URL": settings.database_url, "TRIAGE_REDIS_URL": redis_url,
            "TRIAGE_SECRET_KEY": settings.secret_key, "TRIAGE_LOG_LEVEL": "WARNING",
            "TRIAGE_INSTANCE_PATH": str(folder / f"{name}-instance"),
            # Sweeps every 2 s; a dispatched message unfinished after 5 s is sent again.
            "TRIAGE_OUTBOX_SWEEP_SECONDS": "2", "TRIAGE_OUTBOX_STUCK_AFTER_SECONDS": "5",
            **test_env})
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.integration.marked_worker", "worker",
             "--pool", "solo", "--beat", "--schedule", str(folder / f"{name}-beat"),
             "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "WARNING"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=20)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()


@pytest.fixture
def workers(settings, private_redis, tmp_path):
    started: list[Worker] = []

    def start(name: str, **test_env: str) -> Worker:
        worker = Worker(settings, private_redis.url, tmp_path, name, **test_env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def celery_app_rt(settings, private_redis):
    """The web side: an app publishing to the private Redis (no timer; the worker's beat
    runs the sweeps)."""
    from triage import create_app

    app = create_app(replace(settings, redis_url=private_redis.url), background=False)
    yield app, app.extensions["triage"]
    app.extensions["triage"].relay.stop()
    app.extensions["triage"].db.dispose()


def _statuses(rt) -> dict[str, int]:
    with rt.db.reader() as session:
        return dict(session.exec(select(OutboxMessage.status, func.count())
                                 .group_by(OutboxMessage.status)).all())


def _delivered_exactly_once(rt) -> None:
    """Every message is done and wrote exactly the notifications its topic writes."""
    with rt.db.reader() as session:
        messages = session.exec(select(OutboxMessage)).all()
        per_message = Counter(session.exec(select(Notification.outbox_id)).all())
    assert messages
    assert {m.status for m in messages} == {OutboxStatus.done}
    wrong = {m.id: (m.topic, per_message[m.id]) for m in messages
             if per_message[m.id] != EXPECTED[m.topic]}
    assert wrong == {}


def _marks(path: Path) -> list[int]:
    return [int(x) for x in path.read_text().split()] if path.exists() else []


@pytest.mark.slow
def test_messages_reach_the_sink_once_when_the_worker_is_killed_mid_task_and_restarted(
        celery_app_rt, workers, tmp_path, referral_body):
    from triage.services.accounts import users
    from triage.services.cases import casework
    from triage.services.referrals import intake

    app, rt = celery_app_rt
    partner = users.create_user(rt.db, email="fire@test.example", role="partner",
                                   organisation="Fire")
    coordinator = users.create_user(rt.db, email="lac@test.example", role="practitioner",
                                       team="local_area_coordination:melton-north")
    first_marks, second_marks = tmp_path / "first.marks", tmp_path / "second.marks"
    # Each handler takes 2 s in the first worker: plenty of time to kill it in the middle.
    first = workers("first", TRIAGE_TEST_HANDLER_SECONDS="2",
                    TRIAGE_TEST_HANDLER_MARKER=str(first_marks))
    case_ids = []
    for _ in range(4):
        _, created = intake.submit_referral(rt, user=partner, body=referral_body())
        case_ids.append(created["cases"][0]["id"])
    for case_id in case_ids[:2]:
        casework.fire_case_event(rt, user=coordinator, case_id=case_id, body={"event": "introduce"})
        casework.fire_case_event(rt, user=coordinator, case_id=case_id,
                              body={"event": "close", "outcome": "needs_met"})
    rt.relay.drain()
    assert _wait_until(lambda: len(_marks(first_marks)) >= 2, 60), first.log_path.read_text()
    first.kill()
    killed = _marks(first_marks)[-1]
    with rt.db.reader() as session:
        assert session.get(OutboxMessage, killed).status != OutboxStatus.done, \
            "the killed task's transaction must not have committed"

    workers("second", TRIAGE_TEST_HANDLER_MARKER=str(second_marks))
    assert _wait_until(lambda: _statuses(rt) == {OutboxStatus.done: 8}, 120), _statuses(rt)
    assert killed in _marks(second_marks), "the killed message ran again in the new worker"
    _delivered_exactly_once(rt)
    # A late redelivery of any message (Redis's own, after its visibility timeout) is a no-op:
    # no handler runs again.
    handled = len(_marks(second_marks))
    for message_id in range(1, 9):
        app.extensions["celery"].send_task("triage.outbox.deliver", args=[message_id])
    time.sleep(3)
    assert len(_marks(second_marks)) == handled
    _delivered_exactly_once(rt)


@pytest.mark.slow
def test_two_hundred_intakes_succeed_with_redis_down_for_a_minute_and_all_are_delivered_after(
        celery_app_rt, workers, private_redis, referral_body):
    from triage.services.accounts import users

    app, rt = celery_app_rt
    users.create_user(rt.db, email="police@test.example", role="partner",
                         organisation="Police")
    headers = {"Authorization": "Bearer "
               + users.create_token(rt.db, email="police@test.example")}
    worker = workers("worker")
    statuses: list[int] = []

    def submit_for_ninety_seconds() -> None:
        client = app.test_client()
        for _ in range(200):
            statuses.append(client.post("/api/v1/referrals", json=referral_body(),
                                        headers=headers).status_code)
            time.sleep(0.45)

    intakes = threading.Thread(target=submit_for_ninety_seconds)
    intakes.start()
    time.sleep(10)
    private_redis.stop()
    down_at = time.monotonic()
    assert not private_redis.ping()
    while time.monotonic() - down_at < 60:
        assert not private_redis.ping(), "Redis must stay unavailable for the whole minute"
        time.sleep(5)
    private_redis.start()
    intakes.join(timeout=300)
    assert statuses == [201] * 200
    assert worker.proc.poll() is None, \
        f"the worker exited: {worker.log_path.read_text()[-3000:]}"
    assert _wait_until(lambda: _statuses(rt) == {OutboxStatus.done: 200}, 180, every=1), \
        _statuses(rt)
    _delivered_exactly_once(rt)
    assert worker.proc.poll() is None
