"""Reports at the boundary: the period, grouping and dimension asked for (API query and the
page's form alike). Which groupings a report allows is the report's own (checked by the
reports service, which knows its definitions)."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, pre_load, validate

FORMATS = ("json", "csv")
# by and dimension are codes: a period (month, quarter, year) or a dimension's id.
CODE = validate.Regexp(r"^[a-z][a-z_]{0,31}$", error="A code in lower case, such as month or "
                                                     "district.")


class ReportQuerySchema(Schema):
    """GET /api/v1/reports/<id> and /reports/<id>: every parameter optional."""

    class Meta:
        unknown = RAISE

    date_from = fields.Date(load_default=None, data_key="from")
    date_to = fields.Date(load_default=None, data_key="to")
    by = fields.String(load_default=None, validate=CODE)
    dimension = fields.String(load_default=None, validate=CODE)
    suppress = fields.Boolean(load_default=False)
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))

    @pre_load
    def _blank_is_none(self, data: Any, **_: Any) -> Any:
        """A form sends "" for a field left empty."""
        if not isinstance(data, dict):
            return data
        return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
