"""How the API writes JSON: dates and times as ISO 8601, as the OpenAPI document says."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask.json.provider import DefaultJSONProvider


class IsoDatesJSONProvider(DefaultJSONProvider):
    """Flask writes a date as an HTTP date ('Tue, 01 Mar 1932 00:00:00 GMT') by default; a
    client reading `format: date` or `date-time` needs 1932-03-01 or 2026-05-01T09:00:00+00:00."""

    sort_keys = False  # responses keep the schemas' field order (reference first)

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, date):
            return o.isoformat()
        return DefaultJSONProvider.default(o)
