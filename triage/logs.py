"""Structured logs: one JSON object per line, an event name plus ids and codes, no personal data."""

from __future__ import annotations

import json
import logging
import sys
import traceback

# Only these extra fields are ever written; anything else passed as `extra` is dropped, so a
# careless log call cannot leak a name or a date of birth into the logs.
# A request is named by its route pattern and the ids in it ("route", "ids"), never by its
# raw path or query string (triage.errors_http.request_fields).
ALLOWED_FIELDS = {"reference", "status", "outbox_id", "topic", "error", "case_id", "event",
                  "job", "count", "method", "route", "ids", "status_code", "duration_ms",
                  "error_id", "user_id", "profile", "ruleset_version", "case_event"}


OWN_LOGGERS = {"triage", "rules", "workflows", "config"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        # Our own messages are event names; a library's message may interpolate values (a
        # Celery failure's exception text, a SQL parameter), so only its template is kept.
        event = record.getMessage() if record.name.split(".")[0] in OWN_LOGGERS \
            else str(record.msg)
        entry = {"at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                 "logger": record.name, "event": event}
        for key in ALLOWED_FIELDS:
            if key in record.__dict__:
                entry[key] = record.__dict__[key]
        if record.exc_info:
            entry["exception"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            # Where it failed (file:line:function of the innermost frames), never the message
            # or the values: an exception's text can carry SQL parameters, i.e. personal data.
            entry["where"] = [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}:{f.name}"
                              for f in traceback.extract_tb(record.exc_info[2])[-5:]]
        return json.dumps(entry, default=str)


def configure(level: str) -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    # transitions logs every callback of every transition at INFO: noise, and slow.
    logging.getLogger("transitions").setLevel(max(logging.WARNING, root.level))


def to_file(path) -> None:
    """Send this process's service logs to `path` instead of the terminal (for commands whose
    output is for a person to read, such as `triage demo load`)."""
    root = logging.getLogger()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    for old in [h for h in root.handlers if isinstance(h.formatter, JsonFormatter)]:
        root.removeHandler(old)
    root.addHandler(handler)
