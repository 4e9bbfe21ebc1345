"""Hearing, in every process, that an account or API token changed (PostgreSQL LISTEN).

A web process remembers which user holds an API token (Database.token_cache). Without this,
every request re-reads the account's generation before trusting what it remembers: one round
trip on its own connection before any work, about a tenth of what a referral costs the web
process. Migration 0026 makes PostgreSQL announce every change to `user_account` and every
revocation or removal of an `api_token` on the channel below, on commit, to every process
listening; this listener forgets what the process remembers as soon as it hears one.

While the listener is connected and listening, a remembered token is trusted without a read.
While it is not (starting, or reconnecting after the database went away), `trusted()` is
false and callers read the generation as before. Connecting (again) forgets everything
remembered first, since a change made while nobody listened is heard by no one. Every
`check_every` seconds the listener notifies itself and must hear it: a connection that died
without a word, or one through a pooler in transaction mode (PgBouncer: LISTEN stays on
whichever server connection ran it), is never trusted, and the process reads as before.

A token read from the database while a change is heard is not remembered (`heard` counts what
was heard: compare it before and after the read), so a read racing a change cannot keep the
old account for the cache's lifetime.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

CHANNEL = "triage_account_changed"
# How often the listener notifies itself and must hear it: one whose connection died
# silently stops being trusted within about this long.
CHECK_EVERY_SECONDS = 5.0
RETRY_AFTER_SECONDS = 2.0
PING = "ping"


class AccountChanges:
    """A daemon thread with its own connection, LISTENing on CHANNEL; `forget()` is called
    for each change heard, and once on each (re)connection."""

    def __init__(self, conninfo: str, forget: Callable[[], None], *,
                 check_every: float = CHECK_EVERY_SECONDS):
        self._conninfo = conninfo
        self._forget = forget
        self._check_every = check_every
        self._listening = False
        self._heard = 0
        self._failures = 0  # connections in a row that failed or could not hear themselves
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Its own channel, on which stop() wakes it (one listener's, so no other forgets).
        self.wake_channel = f"triage_listener_{os.getpid()}_{id(self)}"

    @property
    def heard(self) -> int:
        """How many changes (and reconnections) this process has heard of so far."""
        return self._heard

    def trusted(self) -> bool:
        """Whether a change made now would be heard: listening, on a live connection. Starts
        the listener on first use (only processes that check tokens run one)."""
        if self._thread is None:
            self.start()
        return self._listening

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="account-changes",
                                            daemon=True)
            self._thread.start()

    def stop(self, wake: Callable[[str], None] | None = None) -> None:
        """Stop listening. `wake(channel)` sends a notification on a channel (the listener's
        wake_channel), so the thread ends and closes its connection now, not at its next
        check; without it, or if it fails, the thread ends within `check_every`."""
        self._stop.set()
        thread = self._thread
        if thread is None or not thread.is_alive() or thread is threading.current_thread():
            return
        if wake is not None and self._listening:
            try:
                wake(self.wake_channel)
            except Exception:  # noqa: BLE001 - it ends at its next check instead
                return
            thread.join(timeout=2)

    def _heard_one(self) -> None:
        self._heard += 1
        self._forget()

    def _ping(self, conn) -> None:
        conn.execute("SELECT pg_notify(%s, %s)", (self.wake_channel, PING))

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True,
                                     application_name="triage account changes") as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    conn.execute(f"LISTEN {self.wake_channel}")
                    self._heard_one()  # whatever was remembered before listening
                    while not self._stop.is_set():
                        # Notify ourselves: hearing it proves notifications reach this
                        # session (through PgBouncer in transaction mode they may not).
                        self._ping(conn)
                        pinged = False
                        for notify in conn.notifies(timeout=self._check_every):
                            if notify.channel == self.wake_channel and notify.payload == PING:
                                pinged = self._listening = True
                                self._failures = 0
                                continue
                            self._heard_one()
                            if self._stop.is_set():
                                break
                        if not pinged and not self._stop.is_set():
                            raise ConnectionError("did not hear its own notification")
            except Exception as exc:  # noqa: BLE001 - reconnect; callers read meanwhile
                if not self._stop.is_set() and not self._failures:
                    log.warning("account_changes.not_listening",
                                extra={"error": type(exc).__name__})
                self._failures += 1
            finally:
                self._listening = False
            # 2 s, then longer after each failure in a row (at most a minute): a pooler that
            # never passes notifications on is not asked every few seconds for ever.
            self._stop.wait(min(60.0, RETRY_AFTER_SECONDS * 2 ** min(self._failures - 1, 5)))
