"""Logs name the event, ids and where a failure happened, never personal data."""

from __future__ import annotations

import json
import logging

from triage.logs import JsonFormatter


def _line(record: logging.LogRecord) -> dict:
    return json.loads(JsonFormatter().format(record))


def test_extra_fields_outside_the_whitelist_are_dropped():
    record = logging.LogRecord("triage", logging.INFO, __file__, 1, "referral.created", None,
                               None)
    record.reference = "EH-2026-000123"
    record.given_name = "Gwen"
    record.date_of_birth = "1932-03-01"
    entry = _line(record)
    assert entry["reference"] == "EH-2026-000123"
    assert "Gwen" not in json.dumps(entry) and "1932" not in json.dumps(entry)


def test_a_failure_says_where_but_not_the_exception_text():
    try:
        raise ValueError("duplicate key: (given_name)=(Gwen), date_of_birth=1932-03-01")
    except ValueError:
        import sys

        record = logging.LogRecord("triage", logging.ERROR, __file__, 1, "request.failed",
                                   None, sys.exc_info())
    entry = _line(record)
    assert entry["exception"] == "ValueError"
    assert any("test_logs.py" in frame for frame in entry["where"])
    assert "Gwen" not in json.dumps(entry) and "1932" not in json.dumps(entry)


def test_a_library_message_keeps_its_template_not_the_values():
    record = logging.LogRecord(
        "celery.app.trace", logging.ERROR, __file__, 1,
        "Task %(name)s[%(id)s] raised unexpected: %(exc)s",
        ({"name": "triage.outbox.deliver", "id": "1",
          "exc": "IntegrityError('Key (given_name)=(Gwen)')"},), None)
    entry = _line(record)
    assert "Gwen" not in json.dumps(entry)
    assert entry["event"].startswith("Task %(name)s")
