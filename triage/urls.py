"""URL converters: an id in a path is a whole number that fits the database's key columns;
a referral reference has the shape of one."""

from __future__ import annotations

from werkzeug.routing import BaseConverter, IntegerConverter

from triage.models.base import MAX_ID


class RowId(IntegerConverter):
    """`<int:...>` as every route here means it: 0 to MAX_ID, so /cases/2147483648 is a 404
    (no row can have it) rather than an integer overflow in the database."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class ReferenceConverter(BaseConverter):
    """`<reference:...>`: what a referral reference can be (the profile's 1-6 letter prefix,
    the year, the number; any case), so /referrals/batch is never read as a reference."""

    regex = r"[A-Za-z]{1,6}-[0-9]{4}-[0-9]{1,12}"


REFERENCE_PATTERN = f"^{ReferenceConverter.regex}$"


def init_app(app) -> None:
    app.url_map.converters["int"] = RowId
    app.url_map.converters["reference"] = ReferenceConverter
