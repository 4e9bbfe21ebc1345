"""Cases on the wire: a case with its allowed events, what is due and its history; the event
body; worklists; partners' own referrals; notifications."""

from __future__ import annotations

from marshmallow import INCLUDE, RAISE, Schema, fields, validate

from triage.models import ReferralStatus
from triage.models.base import MAX_ID
from triage.schemas.output import CaseSummarySchema

MAX_PAGE = 200
# A page cursor: microseconds since 1970 of the last row's sort moment (none: nothing due),
# a dot, its id (triage.services.paging).
CURSOR_PATTERN = r"^(none|-?[0-9]{1,17})\.[0-9]{1,10}$"


class CodeSchema(Schema):
    code = fields.String()
    label = fields.String()


class EventFieldSchema(Schema):
    """A payload field an event needs: its kind (text, code, connections, date) and, for a
    code, the codes it may take."""

    name = fields.String()
    kind = fields.String()
    label = fields.String()
    choices = fields.List(fields.Nested(CodeSchema), allow_none=True)
    min_items = fields.Integer(allow_none=True)


class AllowedEventSchema(Schema):
    event = fields.String()
    label = fields.String()
    to = fields.String()
    needs = fields.List(fields.String())
    fields_ = fields.List(fields.Nested(EventFieldSchema), data_key="fields")


class HistoryEntrySchema(Schema):
    id = fields.Integer()
    from_ = fields.String(attribute="from_state", data_key="from", allow_none=True)
    to = fields.String(attribute="to_state")
    event = fields.String()
    by = fields.String(attribute="by_label")
    at = fields.DateTime()
    reason = fields.String(allow_none=True)
    outcome = fields.Function(lambda row: (row.payload or {}).get("outcome"), allow_none=True)
    payload = fields.Dict()


class DueItemSchema(Schema):
    kind = fields.String()
    label = fields.String()
    due_at = fields.Date()
    overdue = fields.Boolean()
    escalate = fields.Boolean()
    since = fields.Date(allow_none=True)


class DueSchema(Schema):
    next_due_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean()
    overdue_since = fields.DateTime(allow_none=True)
    escalated_at = fields.DateTime(allow_none=True)
    items = fields.List(fields.Nested(DueItemSchema))


class CaseOutSchema(Schema):
    """GET /api/v1/cases/<id>: the contract's keys (id, service, instance, state,
    allowed_events, history, due) and more."""

    id = fields.Integer(attribute="case.id")
    referral = fields.String(attribute="reference")
    service = fields.String(attribute="case.service")
    service_name = fields.String()
    instance = fields.String(attribute="case.instance")
    instance_name = fields.String()
    state = fields.String(attribute="case.state")
    status = fields.String(metadata={"description": "The FHIR Task status the state means"})
    closed = fields.Boolean()
    version = fields.Integer(attribute="case.version",
                             metadata={"description": "Send it back with an event to be sure "
                                                      "nobody moved the case meanwhile"})
    opened_at = fields.DateTime(attribute="case.opened_at")
    closed_at = fields.DateTime(attribute="case.closed_at", allow_none=True)
    outcome = fields.String(attribute="case.outcome", allow_none=True)
    outcome_label = fields.String(allow_none=True)
    urgent = fields.Boolean()
    allowed_events = fields.List(fields.Nested(AllowedEventSchema))
    due = fields.Nested(DueSchema)
    history = fields.List(fields.Nested(HistoryEntrySchema))
    linked_referrals = fields.List(fields.Dict(),
                                   metadata={"description": "Referrals this case opened "
                                                            "(step-up, step-down)"})
    contacts = fields.List(fields.Dict(), metadata={
        "description": "The people on the case's referral (subject first): how to contact "
                       "each, and whether it is safe to (safe_to_contact false: do not call "
                       "or text)"})
    worker = fields.Dict(allow_none=True,
                         metadata={"description": "The named worker who holds the case: "
                                                  "null, or {id, name}"})


class CaseEventInSchema(Schema):
    """POST /api/v1/cases/<id>/events: the event, optionally the version the caller read, and
    the fields the event needs at the top level (checked against the pathway)."""

    class Meta:
        unknown = INCLUDE

    event = fields.String(required=True, validate=validate.Length(min=1, max=64))
    version = fields.Integer(strict=True, validate=validate.Range(min=1), load_default=None)


class ReassignInSchema(Schema):
    """POST /api/v1/cases/reassign: every open case one worker holds goes to another (null:
    unassigned), all or none."""

    class Meta:
        unknown = RAISE

    from_worker = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "The user id of the worker whose open cases are handed over"})
    to_worker = fields.Integer(
        strict=True, required=True, allow_none=True, validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "The user id of the new worker, or null to unassign"})
    note = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(max=2000),
                         metadata={"description": "Kept on each case's assign history row"})


class ReassignOutSchema(Schema):
    from_worker = fields.Integer()
    to_worker = fields.Integer(allow_none=True)
    count = fields.Integer(metadata={"description": "How many open cases were handed over"})
    cases = fields.List(fields.Integer(), metadata={"description": "Their ids"})


class PageQuerySchema(Schema):
    """A page of a list: how many, from where. Unknown query parameters are refused."""

    class Meta:
        unknown = RAISE

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID))
    # The `next` of the previous page: the page starts after the last row it showed.
    after = fields.String(load_default=None, validate=validate.Regexp(
        CURSOR_PATTERN, error="Give the `next` value of the previous page."))


class PageSchema(Schema):
    """Where a page of a list sits: its size, its start, and where the next one starts."""

    limit = fields.Integer()
    offset = fields.Integer()
    next_offset = fields.Integer(allow_none=True)
    next = fields.String(allow_none=True, metadata={
        "description": "Where the next page starts: pass it as `after` (null on the last "
                       "page); unlike next_offset it neither repeats nor skips a row when "
                       "rows are added meanwhile, and costs the same however deep"})


class CaseListQuerySchema(PageQuerySchema):
    # A team of the profile (teams.yaml, or a service / service:instance): its cases.
    team = fields.String(load_default=None, validate=validate.Length(max=128))
    service = fields.String(load_default=None)
    instance = fields.String(load_default=None)
    state = fields.String(load_default=None)
    overdue = fields.Boolean(load_default=None)
    worker = fields.String(load_default=None,
                           validate=validate.Regexp(r"^(me|[0-9]{1,9})$",
                                                    error="Give me or a user id."))


class CaseListItemSchema(Schema):
    id = fields.Integer(attribute="case.id")
    referral = fields.String(attribute="reference")
    urgent = fields.Boolean()
    service = fields.String(attribute="case.service")
    instance = fields.String(attribute="case.instance")
    state = fields.String(attribute="case.state")
    status = fields.String()
    opened_at = fields.DateTime(attribute="case.opened_at")
    closed_at = fields.DateTime(attribute="case.closed_at", allow_none=True)
    outcome = fields.String(attribute="case.outcome", allow_none=True)
    next_due_at = fields.DateTime(attribute="case.next_due_at", allow_none=True)
    overdue = fields.Boolean()
    overdue_since = fields.DateTime(attribute="case.overdue_since", allow_none=True)
    escalated_at = fields.DateTime(attribute="case.escalated_at", allow_none=True)
    version = fields.Integer(attribute="case.version")
    worker = fields.Dict(allow_none=True)


class CaseListSchema(PageSchema):
    cases = fields.List(fields.Nested(CaseListItemSchema))
    total = fields.Integer(metadata={"description": "How many cases match, on every page, "
                                                    "counted up to 1,000 (see total_capped)"})
    total_capped = fields.Boolean(metadata={"description": "True when more cases match than "
                                                          "`total` (counting stops at 1,000)"})


class ReferralListQuerySchema(PageQuerySchema):
    mine = fields.Boolean(load_default=False)
    status = fields.String(load_default=None,
                           validate=validate.OneOf([s.value for s in ReferralStatus]))


class ReferralCaseSchema(CaseSummarySchema):
    """A case as a referral list shows it: the summary, with names and labels to read."""

    service_name = fields.String()
    status = fields.String()
    outcome_label = fields.String(allow_none=True)


class ReferralListItemSchema(Schema):
    reference = fields.String()
    status = fields.String()
    received_at = fields.DateTime()
    channel = fields.String()
    linked_referral = fields.String(allow_none=True)
    cases = fields.List(fields.Nested(ReferralCaseSchema))


class ReferralListSchema(PageSchema):
    referrals = fields.List(fields.Nested(ReferralListItemSchema))


class NotificationQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    unread = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))


class NotificationOutSchema(Schema):
    id = fields.Integer()
    recipient = fields.String()
    kind = fields.String()
    subject = fields.String()
    body = fields.String()
    referral = fields.String(allow_none=True)
    case_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    emailed_at = fields.DateTime(attribute="sent_at", allow_none=True)
    read_at = fields.DateTime(allow_none=True)


class NotificationListSchema(Schema):
    notifications = fields.List(fields.Nested(NotificationOutSchema))
