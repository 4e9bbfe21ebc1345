"""Relays hand committed outbox messages to whoever runs them: Celery, or this process."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from triage.services.notices import outbox

log = logging.getLogger(__name__)

DELIVER_TASK = "triage.outbox.deliver"
BROKER_BACKOFF_SECONDS = 10


class Every:
    """A job for the in-process timer that runs at most once every `seconds` (the timer ticks
    at the outbox sweep interval; the escalation sweep wants its own)."""

    def __init__(self, seconds: float, job: Any):
        self.seconds = seconds
        self.job = job
        self.__name__ = getattr(job, "__name__", "job")
        self._next = 0.0

    def __call__(self, rt: Any) -> Any:
        now = time.monotonic()
        if now < self._next:
            return None
        self._next = now + self.seconds
        return self.job(rt)


class Nightly:
    """A job for the in-process timer that runs once a day at a time of day (UTC), on its own
    thread so that a long run (the duplicate finder) does not hold up the sweeps; a day whose
    time passed while the process was down is not made up."""

    def __init__(self, at: tuple[int, int], job: Any, *, now: Any = None):
        self.at = at
        self.job = job
        self.__name__ = getattr(job, "__name__", "job")
        self._now = now or (lambda: datetime.now(UTC))
        self._last = self._due_day(self._now())
        self._running: threading.Thread | None = None

    def _due_day(self, now: datetime):
        """The latest day whose run time has passed by `now`."""
        day = now.date()
        return day if (now.hour, now.minute) >= self.at else day - timedelta(days=1)

    def __call__(self, rt: Any) -> Any:
        due = self._due_day(self._now())
        if due <= self._last or (self._running is not None and self._running.is_alive()):
            return None
        self._last = due

        def run() -> None:
            try:
                self.job(rt)
            except Exception:  # noqa: BLE001 - tomorrow's run tries again
                log.exception("periodic.failed", extra={"job": self.__name__})

        self._running = threading.Thread(target=run, name=f"nightly-{self.__name__}",
                                         daemon=True)
        self._running.start()
        return self._running


class InProcessRelay:
    """Embedded mode: one background thread delivers messages; a timer sweeps and runs jobs.

    With `synchronous=True` (tests) each message is delivered before after_commit returns.
    """

    def __init__(self, rt: Any, *, synchronous: bool = False):
        self.rt = rt
        self.synchronous = synchronous
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self.periodic: list[Any] = []  # callables run on every tick (escalation sweeps, ...)
        self._waiting: list[int] = []
        self._waiting_lock = threading.Lock()

    def after_commit(self, ids: list[int]) -> None:
        if self.synchronous:
            for message_id in ids:
                self._run(message_id)
            return
        with self._waiting_lock:
            first = not self._waiting
            self._waiting.extend(ids)
        if first and ids:
            self._executor.submit(self._run_waiting)

    def _run_waiting(self) -> None:
        """Deliver everything that queued up while the previous batch ran and during the batch
        wait, in one go (group commit: under load, one transaction serves many referrals)."""
        wait = self.rt.settings.outbox_batch_wait_ms
        if wait:
            self._stop.wait(wait / 1000)
        with self._waiting_lock:
            batch, self._waiting = self._waiting, []
        for start in range(0, len(batch), 200):
            outbox.deliver_batch(self.rt, batch[start:start + 200])

    def _run(self, message_id: int) -> None:
        try:
            outbox.deliver(self.rt, message_id)
        except Exception as exc:  # noqa: BLE001 - a failed message is retried by the sweeper
            log.warning("outbox.failed", extra={"outbox_id": message_id,
                                                "error": type(exc).__name__})
            outbox.record_failure(self.rt, message_id, exc)

    def sweep(self) -> int:
        ids = outbox.due_for_sweep(self.rt)
        self.after_commit(ids)
        return len(ids)

    def tick(self) -> None:
        self.sweep()
        for job in self.periodic:
            try:
                job(self.rt)
            except Exception:  # noqa: BLE001 - the next tick tries again
                log.exception("periodic.failed", extra={"job": getattr(job, "__name__", "?")})

    def start(self) -> None:
        if self._timer is not None:
            return
        interval = self.rt.settings.outbox_sweep_seconds

        def loop() -> None:
            while not self._stop.wait(interval):
                self.tick()

        self._timer = threading.Thread(target=loop, name="outbox-timer", daemon=True)
        self._timer.start()

    def drain(self, timeout: float = 10) -> None:
        """Wait until every message submitted so far has been run (tests, shutdown)."""
        self._executor.submit(lambda: None).result(timeout=timeout)

    def stop(self) -> None:
        self._stop.set()
        self._executor.shutdown(wait=True)


class CeleryRelay:
    """Production: publish to Celery from a background thread so a broker outage never slows
    or fails the request; whatever is not published is re-sent by the periodic sweep."""

    def __init__(self, rt: Any, celery_app: Any):
        self.rt = rt
        self.celery = celery_app
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-publish")
        self.periodic: list[Any] = []
        # After a failed publish, leave new messages to the sweep for a while rather than
        # waiting on a broker that is down once per message.
        self._broker_down_until = 0.0

    def after_commit(self, ids: list[int]) -> None:
        if ids and time.monotonic() >= self._broker_down_until:
            self._executor.submit(self.publish, list(ids))

    def publish(self, ids: list[int], *, force: bool = False) -> int:
        if not force and time.monotonic() < self._broker_down_until:
            return 0
        sent = []
        for message_id in ids:
            try:
                self.celery.send_task(DELIVER_TASK, args=[message_id])
                sent.append(message_id)
            except Exception as exc:  # noqa: BLE001 - the sweep re-sends it
                log.warning("outbox.publish_failed", extra={"outbox_id": message_id,
                                                            "error": type(exc).__name__})
                self._broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
                break
        outbox.mark_dispatched(self.rt, sent)
        return len(sent)

    def sweep(self) -> int:
        return self.publish(outbox.due_for_sweep(self.rt), force=True)

    def tick(self) -> None:
        self.sweep()

    def start(self) -> None:
        """Celery beat runs the sweep in production; nothing to start in the web process."""

    def drain(self, timeout: float = 10) -> None:
        self._executor.submit(lambda: None).result(timeout=timeout)

    def stop(self) -> None:
        self._executor.shutdown(wait=True)
