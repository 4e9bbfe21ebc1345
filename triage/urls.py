"""URL converters: an id in a path is a whole number that fits the database's key columns."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

from triage.models.base import MAX_ID


class RowId(IntegerConverter):
    """`<int:...>` as every route here means it: 0 to MAX_ID, so /cases/2147483648 is a 404
    (no row can have it) rather than an integer overflow in the database."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app) -> None:
    app.url_map.converters["int"] = RowId
