"""Typed OpenAPI schemas for what the dump schemas build by hand (people, referrer, decision,
override, closure, the family record), the profile's codes as enums, and the passes that
fill them into the generated document."""

from __future__ import annotations

from typing import Any

from triage.models import ReferralStatus
from triage.models.base import MAX_ID
from triage.schemas.cases import CURSOR_PATTERN
from triage.schemas.contact import PREFERRED_CONTACT, SEX
from triage.schemas.referral import CHANNELS, CONSENT, ROLES
from workflows.machine import OPEN_EVENT
from workflows.payload import FIELD_KINDS
from workflows.states import TaskStatus

# What config.profile.parse_postcode accepts (it ignores case and white space).
POSTCODE_PATTERN = r"^\s*[A-Za-z]{1,2}[0-9][A-Za-z0-9]?\s*[0-9][A-Za-z]{2}\s*$"
# A search's postcode may be left blank.
POSTCODE_QUERY_PATTERN = r"^\s*([A-Za-z]{1,2}[0-9][A-Za-z0-9]?\s*[0-9][A-Za-z]{2})?\s*$"
# A postcode as kept: a full one, or only its sector once the record is anonymised (SW1A 1).
KEPT_POSTCODE_PATTERN = r"^\s*[A-Za-z]{1,2}[0-9][A-Za-z0-9]?\s*[0-9]([A-Za-z]{2})?\s*$"
BANDS = ("exact", "likely", "possible")
LINK_EFFECTS = ("open_statutory_referral", "open_early_help_referral")


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def text(nullable: bool = False, **more: Any) -> dict:
    return {"type": "string", **({"nullable": True} if nullable else {}), **more}


def when(nullable: bool = False) -> dict:
    return text(nullable, format="date-time")


def code(values, nullable: bool = False, **more: Any) -> dict:
    values = list(values)
    return text(nullable, enum=[*values, None] if nullable else values, **more)


def obj(properties: dict, nullable: bool = False, **more: Any) -> dict:
    return {"type": "object", "properties": properties,
            **({"nullable": True} if nullable else {}), **more}


def array(items: dict, **more: Any) -> dict:
    return {"type": "array", "items": items, **more}


def complete(properties: dict, nullable: bool = False, optional: tuple[str, ...] = (),
             **more: Any) -> dict:
    """An object that always has every one of its properties (but `optional`)."""
    return obj(properties, nullable, required=[k for k in properties if k not in optional],
               **more)


def path_id(name: str, description: str | None = None) -> dict:
    """An integer id in the path, named as in the route (`{person_id}`)."""
    return {"in": "path", "name": name, "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
            **({"description": description} if description else {})}


ERRORS = {
    "401": "Missing or unknown API token",
    "403": "Your role may not do this",
    "404": "No such resource (or not visible to you)",
    "413": "Body larger than the limit",
    "409": "Not allowed now: the case's state, version and allowed_events are in the body",
    "422": "Bad input: errors names every field and what is wrong",
}
SECURED = [{"bearer": []}]


def errors(*codes: str, **described: str) -> dict:
    """Error responses (each an Error body), with descriptions of one's own where given."""
    return {code: {"description": described.get(f"e{code}", ERRORS[code]),
                   "content": {"application/json": {"schema": ref("Error")}}}
            for code in codes}


def responses(ok_code: str, ok_schema: str | dict, *codes: str, links: dict | None = None,
              **described: str) -> dict:
    schema = ref(ok_schema) if isinstance(ok_schema, str) else ok_schema
    ok = {"description": "OK", "content": {"application/json": {"schema": schema}}}
    if links:
        ok["links"] = links
    return {ok_code: ok, **errors(*codes, **described)}


def json_body(schema: str | dict) -> dict:
    return {"required": True, "content": {"application/json": {
        "schema": ref(schema) if isinstance(schema, str) else schema}}}


def query(name: str, schema: dict, description: str) -> dict:
    return {"in": "query", "name": name, "required": False, "schema": schema,
            "description": description}


def page_parameters() -> list[dict]:
    return [query("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                  "Page size"),
            query("offset", {"type": "integer", "minimum": 0, "maximum": 2**31 - 1,
                             "default": 0},
                  "Where the page starts (next_offset of the previous page)"),
            query("after", {"type": "string", "pattern": CURSOR_PATTERN},
                  "Start after the last row of the previous page: its `next` (instead of "
                  "offset; no row is repeated or skipped when rows are added meanwhile)")]


# The household's `district`: the value of the profile's top locality unit.
TOP_UNIT = ("The value of the council's top locality unit (profile.yaml localities.top, such "
            "as a district or a footprint); null outside its area")


class Codes:
    """The codes a council's profile and pathways allow, read once per document."""

    def __init__(self, rt):
        profile = rt.profile
        self.services = list(profile.services)
        self.closures = list(profile.front_door.closures)
        self.levels = sorted({level.number for level in profile.levels.values()})
        self.level_codes = list(profile.levels)
        self.ethnicity = list(profile.ethnicity)
        self.instances = sorted({i for s in profile.services.values() for i in s.instances})
        # The council's words for the descriptions (profile.yaml texts).
        self.texts = dict(profile.texts)
        self.teams = [t.id for t in profile.teams if t.service is not None]
        states: set[str] = set()
        events: set[str] = set()
        for service in rt.pathways.services:
            pathway = rt.pathways.for_service(service)
            states |= set(pathway.states)
            events |= {t.event for t in pathway.transitions}
        self.states = sorted(states)
        self.events = sorted(events | {"assign"})
        self.outcomes = list(rt.pathways.data.outcomes)
        retention = profile.retention
        self.retention_rules = [rule.id for rule in retention.rules] if retention else []
        # The API's `place`: (API name, what the unit is called, its values) per locality
        # column, as the profile declares them.
        scheme = profile.localities.scheme
        self.place = [(scheme.api_name(c), scheme.label(c), profile.localities.values(c))
                      for c in scheme.columns]


def output_components(codes: Codes) -> dict[str, dict]:
    """The shapes the dump schemas leave untyped, by component name."""
    contact = obj({
        "phone": text(True), "email": text(True), "preferred": code(PREFERRED_CONTACT, True),
        "safe_to_contact": {"type": "boolean", "nullable": True},
        "safe_contact_notes": text(True), "language": text(True),
        "interpreter": {"type": "boolean", "nullable": True}})
    address = obj({"line1": text(True), "line2": text(True), "town": text(True)},
                  nullable=True)
    worker = obj({"id": {"type": "integer"}, "name": text(True)}, nullable=True,
                 description="The named worker who holds the case, or null")
    level = {"type": "integer", "enum": codes.levels,
             "description": "The level's number on the continuum (several codes may share one)"}
    route = obj({"service": code(codes.services), "instance": text(True), "reason": text(),
                 "consent_needed": {"type": "boolean", "description": (
                     "The route waits for the family's consent (false: a statutory route at a "
                     "level that does not need it, opened at once); absent on decisions made "
                     "before routes carried it")},
                 "allocation": obj({
                     "home": text(), "outcome": code(["home", "moved", "over_capacity",
                                                      "open_case", "chosen"]),
                     "open": {"type": "integer"}, "capacity": {"type": "integer"},
                     "home_open": {"type": "integer"}, "home_capacity": {"type": "integer"},
                     "text": text()},
                     description="Caseload allocation (a balanced service only): the "
                                 "family's own instance, where the case went and why, "
                                 "with the open cases and capacity counted")})
    decision = obj({
        "level": level, "level_code": code(codes.level_codes), "level_name": text(),
        "safeguarding": obj({"child": {"type": "boolean"}, "adult": {"type": "boolean"}}),
        "thresholds": array(code(codes.level_codes), description=(
            "The level codes the safeguarding rows that matched name as their threshold")),
        "urgent": {"type": "boolean"}, "routes": array(route),
        "reasons": array(obj({"rule": text(), "text": text(), "indicators": array(text())})),
        "ruleset": obj({"id": text(), "version": text()}),
        "needs_review": {"type": "boolean"}, "review_reasons": array(text())},
        description="A decision as the engine (or an override) made it; a partner sees "
                    "level, level_code, level_name, urgent and each route's service and "
                    "instance only")
    return {
        "KeptContact": contact,
        "KeptAddress": address,
        "Worker": worker,
        "Decision": decision,
        "ReferralPerson": obj({
            "ref": text(), "role": code(ROLES), "relationship": text(True),
            "given_name": text(True), "family_name": text(True),
            "date_of_birth": text(format="date"),
            "known_before": {"type": "boolean", "description": "Matched to a person already "
                                                              "on record (staff only)"},
            "contact": {**contact, "nullable": True},
            "nhs_number": text(True, pattern=r"^[0-9]{10}$"),
            "sex": code(SEX, True), "ethnicity": code(codes.ethnicity, True)}),
        "Referrer": obj({"organisation": text(True), "name": text(True), "email": text(True),
                         "phone": text(True)}),
        "Override": obj({"decision": ref("Decision"), "reason": text(), "decided_at": when(),
                         "decided_by": {"type": "integer", "nullable": True}}, nullable=True),
        "Closure": obj({"closure": code(codes.closures), "closed_at": when(),
                        "closed_by": {"type": "integer", "nullable": True,
                                      "description": "Staff only"},
                        "note": text(True, description="Staff only")}, nullable=True,
                       description="Why the front door closed the referral without a service"),
        "Place": obj({name: code(values, True, description=label)
                      for name, label, values in codes.place},
                     nullable=True, description="Where the household lives: the council's "
                                                "locality units (null outside its area)"),
        "CaseContact": obj({
            "person_id": {"type": "integer"}, "role": code(ROLES), "relationship": text(True),
            "given_name": text(True), "family_name": text(True),
            "date_of_birth": text(format="date"), **contact["properties"],
            "address": array(text(), description="The household's address lines and "
                                                 "postcode")}),
        "LinkedReferral": obj({"reference": text(), "status": code(ReferralStatus),
                               "effect": code(LINK_EFFECTS)}),
    }


def refine(doc: dict, codes: Codes) -> None:
    """Type and constrain what the marshmallow schemas cannot say by themselves."""
    schemas = doc["components"]["schemas"]

    def props(name: str) -> dict:
        return schemas[name]["properties"]

    for name in ("Referral", "ReferralListItem", "LinkedReferral"):
        props(name)["status"] = code(ReferralStatus)
    referral = props("Referral")
    referral.update({
        "channel": code(CHANNELS), "consent": code(CONSENT),
        "postcode": text(pattern=KEPT_POSTCODE_PATTERN), "referrer": ref("Referrer"),
        "address": ref("KeptAddress"), "place": ref("Place"),
        "people": array(ref("ReferralPerson")),
        "answers": {"type": "object", "additionalProperties": {"type": "boolean",
                                                                "nullable": True},
                    "description": "Checklist question id -> true, false or null (not known)"},
        "checklist": obj({"id": text(), "version": text()}),
        "decision": {**ref("Decision")}, "original_decision": {**ref("Decision")},
        "override": ref("Override"), "closure": ref("Closure")})
    props("ReReferral")["service"] = code(codes.services)
    # A decision may be absent (not decided yet): nullable copies, not bare refs.
    for key in ("decision", "original_decision"):
        referral[key] = {**schemas["Decision"], "nullable": True}
    props("ReferralListItem")["channel"] = code(CHANNELS)
    for name in ("CaseSummary", "ReferralCase", "CaseListItem", "Case"):
        if name in schemas:
            p = props(name)
            p["service"] = code(codes.services)
            p["state"] = code(codes.states)
            if "status" in p:
                p["status"] = code(TaskStatus, description="The FHIR Task status the state "
                                                           "means")
            if "worker" in p:
                p["worker"] = ref("Worker")
            if "outcome" in p:
                p["outcome"] = code(codes.outcomes, True)
    case = props("Case")
    case["linked_referrals"] = array(ref("LinkedReferral"), description=case[
        "linked_referrals"].get("description", ""))
    case["contacts"] = array(ref("CaseContact"), description=case["contacts"].get(
        "description", ""))
    event = props("AllowedEvent")
    event["event"] = code(codes.events)
    event["to"] = code(codes.states)
    props("EventField")["kind"] = code([*FIELD_KINDS, "worker"])
    history = props("HistoryEntry")
    history["from"] = code(codes.states, True)
    history["to"] = code(codes.states)
    history["event"] = code([OPEN_EVENT, *codes.events])
    history["outcome"] = code(codes.outcomes, True)
    history["payload"] = {"type": "object", "additionalProperties": True,
                          "description": "The fields the event was fired with"}
    props("CaseEventBody")["event"] = code(codes.events, maxLength=64)
    for name in ("Answers", "Contact"):
        for prop in props(name).values():
            if "type" not in prop:
                prop.update({"type": "boolean", "nullable": True})
    body = props("ReferralBody")
    body["postcode"].update(pattern=POSTCODE_PATTERN)
    body["people"]["items"] = ref("Person")
    props("Person")["ethnicity"] = code(codes.ethnicity, True, maxLength=64)
    props("RouteIn")["service"] = code(codes.services)


def inline_nullable_refs(node: Any, schemas: dict) -> Any:
    """apispec writes a nullable nested schema as anyOf [{type: object, nullable}, $ref],
    which lets any object through; write the referenced schema in place, nullable."""
    if isinstance(node, list):
        return [inline_nullable_refs(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    loose = {"type": "object", "nullable": True}
    parts = node.get("anyOf")
    if isinstance(parts, list) and len(parts) == 2 and loose in parts:
        target = next(p for p in parts if p != loose)
        if "$ref" in target:
            named = schemas[target["$ref"].rsplit("/", 1)[-1]]
            rest = {k: v for k, v in node.items() if k != "anyOf"}
            return {**inline_nullable_refs(named, schemas), **rest, "nullable": True}
    return {key: inline_nullable_refs(value, schemas) for key, value in node.items()}
