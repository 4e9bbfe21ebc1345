"""How the service writes JSON: to the API (dates and times as ISO 8601, as the OpenAPI
document says) and into JSON columns (SQLAlchemy's json_serializer).

Both go through orjson: an intake writes about ten JSON values (the answers, the decision's
reasons, the history, the outbox payload, the response), and the standard library's encoder
was about 5% of an intake's CPU in the web process. orjson writes the same JSON for what the
service stores and sends (str keys, lists, numbers, strings, dates and datetimes as ISO 8601)
in UTF-8; anything it refuses (an integer beyond 64 bits, a key that is not a string) goes
through the standard library instead, so nothing that wrote before fails now. One difference:
a float that is not a number (NaN, infinity) is written as null, where the standard library
wrote `NaN`, which is not JSON (PostgreSQL refused it in a JSON column).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider


def _iso_default(o: Any) -> Any:
    if isinstance(o, date):
        return o.isoformat()
    return DefaultJSONProvider.default(o)


def _orjson(value: Any, *, default: Any = None, option: int = 0) -> bytes | None:
    """`value` as orjson writes it, or None when orjson refuses it and the standard library
    must write it instead."""
    try:
        return orjson.dumps(value, default=default, option=option)
    except TypeError:  # orjson.JSONEncodeError: big integers, keys that are not strings
        return None


def column_json(value: Any) -> str:
    """SQLAlchemy's json_serializer: a JSON column's value as text."""
    written = _orjson(value)
    return written.decode() if written is not None else json.dumps(value)


class IsoDatesJSONProvider(DefaultJSONProvider):
    """Flask writes a date as an HTTP date ('Tue, 01 Mar 1932 00:00:00 GMT') by default; a
    client reading `format: date` or `date-time` needs 1932-03-01 or 2026-05-01T09:00:00+00:00."""

    sort_keys = False  # responses keep the schemas' field order (reference first)
    default = staticmethod(_iso_default)

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        written = None if kwargs else _orjson(obj, default=_iso_default)
        return written.decode() if written is not None else super().dumps(obj, **kwargs)

    def response(self, *args: Any, **kwargs: Any):
        """As Flask's, compact unless the app is in debug mode (then indented, as Flask's)."""
        obj = self._prepare_response_obj(args, kwargs)
        indented = self.compact is False or (self.compact is None and self._app.debug)
        written = None if indented else _orjson(obj, default=_iso_default,
                                                 option=orjson.OPT_APPEND_NEWLINE)
        if written is None:
            return super().response(obj)
        return self._app.response_class(written, mimetype=self.mimetype)
