"""The real Celery worker app for integration tests (`celery -A tests.integration.marked_worker`),
with every outbox handler noting its outbox id in a file as it starts (inside the delivery's
transaction) and, optionally, taking its time, so that a test can kill the worker mid-task.

TRIAGE_TEST_* variables are ignored by Settings, so they can be passed beside the real ones.
"""

from __future__ import annotations

import os
import time

from triage.services.notices import outbox
from triage.worker import celery, flask_app  # noqa: F401  (the app Celery runs)

DELAY = float(os.environ.get("TRIAGE_TEST_HANDLER_SECONDS", "0"))
MARKER = os.environ.get("TRIAGE_TEST_HANDLER_MARKER")


def _marked(handler):
    def run(session, rt, payload, outbox_id):
        if MARKER:
            with open(MARKER, "a", encoding="utf-8") as marker:
                marker.write(f"{outbox_id}\n")
        time.sleep(DELAY)
        return handler(session, rt, payload, outbox_id)

    return run


for _topic, _handler in list(outbox.HANDLERS.items()):
    outbox.HANDLERS[_topic] = _marked(_handler)
