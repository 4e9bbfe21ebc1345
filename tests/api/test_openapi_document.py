"""The OpenAPI document describes every API operation and every body with types, codes and
formats, and the API's real answers match it (what a generated client and a schema check
rely on)."""

from __future__ import annotations

import re

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate as validate_spec
from sqlmodel import select, update

from tests.api.cases_helpers import CHILD, MUM, fire, open_case, team
from tests.api.test_privacy_retention import age
from triage.models import Case, Person, ReferralStatus
from triage.services.cases import case_notes

METHODS = {"get", "post", "put", "patch", "delete"}
# POST operations that take no body: asking for a retention report now, marking
# notifications read.
NO_BODY = {"/api/v1/retention/reviews", "/api/v1/notifications/{notification_id}/read",
           "/api/v1/notifications/read-all"}
both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
REASON = "Checked with the family on the phone today."
# Properties whose value is a code: a client must be told which codes there are.
CODED = {"status", "state", "channel", "consent", "band", "role", "sex", "preferred",
         "service", "closure", "level_code", "from", "to"}


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").json


def _api_operations(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/v1/") or rule.rule == "/healthz"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "{}", rule.rule)
        found |= {(m.lower(), path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def _documented(spec) -> set[tuple[str, str]]:
    return {(method, re.sub(r"\{[^}]+\}", "{}", path))
            for path, item in spec["paths"].items() for method in item if method in METHODS}


def _resolve(spec, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _untyped(spec, schema, where: str, seen: set) -> list[str]:
    """Every place in a schema where a client cannot tell what the value is."""
    if not isinstance(schema, dict):
        return [f"{where}: not a schema"]
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return []
        seen.add(schema["$ref"])
        return _untyped(spec, _resolve(spec, schema), schema["$ref"], seen)
    problems = []
    for key in ("allOf", "oneOf", "anyOf"):
        for i, part in enumerate(schema.get(key, [])):
            problems += _untyped(spec, part, f"{where}.{key}[{i}]", seen)
    if any(key in schema for key in ("allOf", "oneOf", "anyOf")):
        return problems
    kind = schema.get("type")
    if kind is None:
        return [f"{where}: no type"]
    if kind == "object":
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        if not props and extra in (None, False):
            problems.append(f"{where}: an object with no properties described")
        for name, prop in (props or {}).items():
            problems += _untyped(spec, prop, f"{where}.{name}", seen)
        if isinstance(extra, dict):
            problems += _untyped(spec, extra, f"{where}.*", seen)
    if kind == "array":
        if "items" not in schema:
            problems.append(f"{where}: an array with no items described")
        else:
            problems += _untyped(spec, schema["items"], f"{where}[]", seen)
    return problems


def _properties(spec, schema, where: str, seen: set):
    """(path, name, property schema) for every property reachable from a schema."""
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return
        seen.add(schema["$ref"])
        yield from _properties(spec, _resolve(spec, schema), schema["$ref"], seen)
        return
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key, []):
            yield from _properties(spec, part, where, seen)
    for name, prop in (schema.get("properties") or {}).items():
        yield f"{where}.{name}", name, _resolve(spec, prop)
        yield from _properties(spec, prop, f"{where}.{name}", seen)
    if isinstance(schema.get("items"), dict):
        yield from _properties(spec, schema["items"], f"{where}[]", seen)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _properties(spec, schema["additionalProperties"], f"{where}.*", seen)


def _bodies(spec):
    """(where, schema) for every request and response body of every operation."""
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            for media, content in (op.get("requestBody") or {}).get("content", {}).items():
                yield f"{method.upper()} {path} body ({media})", content.get("schema")
            for code, response in op["responses"].items():
                for media, content in response.get("content", {}).items():
                    yield f"{method.upper()} {path} {code} ({media})", content.get("schema")


def test_every_api_route_has_an_operation_in_the_document(app, spec):
    missing = _api_operations(app) - _documented(spec)
    assert not missing, f"routes with no operation in the OpenAPI document: {sorted(missing)}"
    stale = _documented(spec) - _api_operations(app)
    assert not stale, f"operations with no route: {sorted(stale)}"


def test_the_document_is_valid_openapi_3(spec):
    assert spec["openapi"].startswith("3.")
    validate_spec(spec)


def test_every_operation_takes_and_answers_typed_bodies(spec):
    problems = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            name = f"{method.upper()} {path}"
            if method == "post" and "requestBody" not in op and path not in NO_BODY:
                problems.append(f"{name}: no request body")
            if op.get("security", [{"bearer": []}]) and "401" not in op["responses"]:
                problems.append(f"{name}: needs a token but documents no 401")
            for code, response in op["responses"].items():
                if not response.get("content"):
                    problems.append(f"{name} {code}: no body described")
    for where, schema in _bodies(spec):
        if schema is None:
            problems.append(f"{where}: no schema")
        else:
            problems += _untyped(spec, schema, where, set())
    assert not problems, "\n".join(problems)


def test_codes_dates_and_postcodes_are_described(spec):
    problems = []
    for where, schema in _bodies(spec):
        for path, name, prop in _properties(spec, schema, where, set()):
            kind = prop.get("type")
            if (name in CODED and kind == "string" and "enum" not in prop
                    and prop.get("format") != "date"):  # a report's from/to are days
                problems.append(f"{path}: a code with no enum")
            if name == "level" and "enum" not in prop and "maximum" not in prop:
                problems.append(f"{path}: a level with no range")
            if (name.endswith("_at") or name == "at") and prop.get("format") not in (
                    "date-time", "date"):
                problems.append(f"{path}: a time with no date or date-time format")
            if name == "date_of_birth" and prop.get("format") != "date":
                problems.append(f"{path}: a date with no date format")
            if name == "postcode" and kind == "string" and "pattern" not in prop:
                problems.append(f"{path}: a postcode with no pattern")
    assert not problems, "\n".join(sorted(set(problems)))
    schemas = spec["components"]["schemas"]
    assert schemas["Referral"]["properties"]["status"]["enum"] == [s.value for s in
                                                                   ReferralStatus]


def test_consent_override_and_close_are_documented_with_their_bodies(spec):
    for action in ("consent", "override", "close"):
        op = spec["paths"][f"/api/v1/referrals/{{reference}}/{action}"]["post"]
        body = op["requestBody"]["content"]["application/json"]["schema"]
        assert _resolve(spec, body)["required"], action
        assert set(op["responses"]) >= {"200", "401", "403", "404", "409", "422"}, action
    close = _resolve(spec, spec["paths"]["/api/v1/referrals/{reference}/close"]["post"][
        "requestBody"]["content"]["application/json"]["schema"])
    assert "advice_given" in close["properties"]["closure"]["enum"]


def test_the_batch_template_documents_its_401(client, spec):
    op = spec["paths"]["/api/v1/referrals/batch/template.csv"]["get"]
    assert client.get("/api/v1/referrals/batch/template.csv").status_code == 401
    assert "401" in op["responses"]


def test_links_let_a_stateful_test_follow_a_referral_to_its_cases(spec):
    created = spec["paths"]["/api/v1/referrals"]["post"]["responses"]["201"]["links"]
    assert any(link["operationId"] == "getReferral" for link in created.values())
    listed = spec["paths"]["/api/v1/cases"]["get"]["responses"]["200"]["links"]
    assert any(link["operationId"] == "getCase" for link in listed.values())
    case = spec["paths"]["/api/v1/cases/{case_id}"]["get"]["responses"]["200"]["links"]
    assert any(link["operationId"] == "fireCaseEvent" for link in case.values())


def _conforms(spec, path: str, method: str, response) -> None:
    """The response body validates against the schema documented for its status."""
    op = spec["paths"][path][method]
    documented = op["responses"].get(str(response.status_code))
    assert documented, f"{method.upper()} {path} answered an undocumented {response.status_code}"
    schema = dict(documented["content"]["application/json"]["schema"])
    schema["components"] = spec["components"]
    OAS30Validator(schema, format_checker=OAS30Validator.FORMAT_CHECKER).validate(response.json)


def test_real_referrals_and_cases_match_the_documented_schemas(client, auth, make_user,
                                                               referral_body, spec):
    front_door = auth("front_door")
    partner = auth("partner")
    created = client.post("/api/v1/referrals", json=referral_body(), headers=partner)
    _conforms(spec, "/api/v1/referrals", "post", created)
    reference = created.json["reference"]
    for headers in (front_door, partner):
        _conforms(spec, "/api/v1/referrals/{reference}", "get",
                  client.get(f"/api/v1/referrals/{reference}", headers=headers))
    _conforms(spec, "/api/v1/referrals", "get", client.get("/api/v1/referrals",
                                                           headers=front_door))
    waiting = client.post("/api/v1/referrals", json=referral_body(consent="not_asked"),
                          headers=front_door).json["reference"]
    _conforms(spec, "/api/v1/referrals/{reference}/consent", "post",
              client.post(f"/api/v1/referrals/{waiting}/consent", json={"consent": "given"},
                          headers=front_door))
    _conforms(spec, "/api/v1/referrals/{reference}/override", "post",
              client.post(f"/api/v1/referrals/{reference}/override",
                          json={"level": 3, "reason": "Known to the hub, more going on."},
                          headers=front_door))
    closing = client.post("/api/v1/referrals", json=referral_body(postcode="NG1 5AA"),
                          headers=partner).json["reference"]
    _conforms(spec, "/api/v1/referrals/{reference}/close", "post",
              client.post(f"/api/v1/referrals/{closing}/close",
                          json={"closure": "advice_given",
                                "note": "Gave the number for the food bank."},
                          headers=front_door))
    _conforms(spec, "/api/v1/triage/preview", "post",
              client.post("/api/v1/triage/preview", json=referral_body(), headers=front_door))
    member = auth("practitioner", team=team("early_help_hub"))
    _, case_id = open_case(client, front_door, referral_body, "early_help_hub")
    _conforms(spec, "/api/v1/cases", "get",
              client.get("/api/v1/cases?service=early_help_hub", headers=member))
    _conforms(spec, "/api/v1/cases/{case_id}", "get",
              client.get(f"/api/v1/cases/{case_id}", headers=member))
    _conforms(spec, "/api/v1/cases/{case_id}/events", "post",
              fire(client, member, case_id, "no_such_event"))
    _conforms(spec, "/api/v1/notifications", "get",
              client.get("/api/v1/notifications", headers=member))
    found = client.get("/api/v1/people?q=Smith", headers=front_door)
    _conforms(spec, "/api/v1/people", "get", found)
    person = found.json["results"][0]
    _conforms(spec, "/api/v1/people/{person_id}", "get",
              client.get(f"/api/v1/people/{person['person']['id']}", headers=front_door))
    _conforms(spec, "/api/v1/households/{household_id}", "get",
              client.get(f"/api/v1/households/{person['household_ids'][0]}",
                         headers=front_door))
    _conforms(spec, "/api/v1/checklist", "get", client.get("/api/v1/checklist"))
    _conforms(spec, "/healthz", "get", client.get("/healthz"))


def test_the_family_record_writes_dates_as_iso_8601(client, auth, referral_body):
    # Found by the schema check: Flask wrote a date of birth as 'Tue, 01 Mar 1932 00:00:00 GMT'.
    headers = auth("front_door")
    client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    found = client.get("/api/v1/people?q=Smith", headers=headers).json["results"][0]
    person = client.get(f"/api/v1/people/{found['person']['id']}", headers=headers).json
    assert person["date_of_birth"] == "1932-03-01"
    assert person["referrals"][0]["received_at"].startswith("20")
    household = client.get(f"/api/v1/households/{found['household_ids'][0]}",
                           headers=headers).json
    assert household["chronology"][0]["at"].startswith("20")


@pytest.mark.parametrize(("postcode", "found"), [
    ("", True), ("  ", True), ("LE13 0AB", True), (" le130ab ", True),
    ("LE13", False), ("x", False), ("LE13 0AB 1", False)])
def test_the_search_postcode_pattern_says_what_the_search_accepts(client, auth, spec,
                                                                  postcode, found):
    # Found by Schemathesis: a blank postcode (or kind) is "anywhere", not an error.
    parameters = spec["paths"]["/api/v1/people"]["get"]["parameters"]
    pattern = next(p for p in parameters if p["name"] == "postcode")["schema"]["pattern"]
    answer = client.get("/api/v1/people", query_string={"q": "Smith", "postcode": postcode},
                        headers=auth("front_door"))
    assert (re.search(pattern, postcode) is not None) is found
    assert answer.status_code == (200 if found else 422)


def test_the_search_date_of_birth_is_documented_as_people_type_it(client, auth, spec):
    # Found by Schemathesis: a blank date_of_birth (with a postcode) is "any day", and
    # 31/05/2015 is a date too, so the parameter cannot be a strict `date`.
    parameters = spec["paths"]["/api/v1/people"]["get"]["parameters"]
    schema = next(p for p in parameters if p["name"] == "date_of_birth")["schema"]
    assert schema == {"type": "string"}
    headers = auth("front_door")
    for typed, status in (("", 200), ("31/05/2015", 200), ("2015-05-31", 200),
                          ("the 31st", 422)):
        answer = client.get("/api/v1/people", query_string={
            "postcode": "LE11 2AB", "date_of_birth": typed}, headers=headers)
        assert answer.status_code == status, (typed, answer.json)
    assert list(answer.json["errors"]) == ["date_of_birth"]


@pytest.mark.parametrize(("kinds", "found"), [
    ("", True), ("received", True), ("received,,decided,", True), ("nothing", False),
    ("receiveddecided", False)])
def test_the_chronology_kind_pattern_says_what_the_household_accepts(
        client, auth, spec, referral_body, kinds, found):
    headers = auth("front_door")
    client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    household = client.get("/api/v1/people?q=Smith", headers=headers).json["results"][0][
        "household_ids"][0]
    parameters = spec["paths"]["/api/v1/households/{household_id}"]["get"]["parameters"]
    pattern = next(p for p in parameters if p["name"] == "kind")["schema"]["pattern"]
    answer = client.get(f"/api/v1/households/{household}", query_string={"kind": kinds},
                        headers=headers)
    assert (re.search(pattern, kinds) is not None) is found
    assert answer.status_code == (200 if found else 422)


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@both_databases
def test_real_privacy_exports_corrections_and_restrictions_match_the_documented_schemas(
        client, auth, make_user, referral_body, rt, spec):
    front_door_user, token = make_user("front_door", name="Frankie Front")
    front_door = _bearer(token)
    manager_user, manager_token = make_user("manager")
    manager = _bearer(manager_token)
    hub, _ = make_user("hub_coordinator", team=team("early_help_hub"))
    child = {**CHILD, "nhs_number": "943 476 5919", "sex": "male", "ethnicity": "white_british",
             "contact": {"phone": "07700 900123", "safe_to_contact": False}}
    sent = client.post("/api/v1/referrals", headers=front_door, json=referral_body(
        postcode="LE11 2AB", people=[child, MUM], answers={"domestic_abuse": True},
        address={"line1": "12 Elm Road", "town": "Loughborough"}))
    assert sent.status_code == 201, sent.json
    case_notes.add_note(rt, user=hub, case_id=sent.json["cases"][0]["id"], text="Met mum.")
    overridden = client.post(f"/api/v1/referrals/{sent.json['reference']}/override",
                             json={"level": 3, "reason": REASON}, headers=front_door)
    assert overridden.status_code == 200, overridden.json
    again = client.post("/api/v1/referrals", headers=front_door, json=referral_body(
        postcode="LE11 2AB", people=[CHILD, MUM], consent="not_asked", answers={}))
    client.post(f"/api/v1/referrals/{again.json['reference']}/close", headers=front_door,
                json={"closure": "already_supported", "note": "Known to the hub."})
    with rt.db.reader() as session:
        pid = session.exec(select(Person.id).where(Person.given_name == "Tom")).one()
    rectify = "/api/v1/people/{person_id}/rectification"
    corrected = client.post(f"/api/v1/people/{pid}/rectification", headers=front_door, json={
        "changes": {"given_name": "Thom", "contact": {"email": "thom@example.org"}},
        "reason": REASON})
    _conforms(spec, rectify, "post", corrected)
    assert corrected.json["changed"] == ["given_name", "email"]
    for headers, url, body in (
            (front_door, f"/api/v1/people/{pid}/rectification", {"changes": {}, "reason": "x"}),
            (front_door, "/api/v1/people/2147483647/rectification",
             {"changes": {"given_name": "Thom"}, "reason": REASON}),
            (auth("hub_coordinator"), f"/api/v1/people/{pid}/rectification",
             {"changes": {"given_name": "Thom"}, "reason": REASON}),
            ({}, f"/api/v1/people/{pid}/rectification", {})):
        _conforms(spec, rectify, "post", client.post(url, json=body, headers=headers))
    _conforms(spec, rectify, "post", client.post(
        f"/api/v1/people/{pid}/rectification", data=b"{" + b" " * 1_000_001 + b"}",
        content_type="application/json", headers=front_door))

    restricted = client.post(f"/api/v1/people/{pid}/restriction", headers=manager, json={
        "users": [front_door_user.id, manager_user.id], "reason": REASON})
    _conforms(spec, "/api/v1/people/{person_id}/restriction", "post", restricted)
    assert restricted.status_code == 201
    listed = client.get("/api/v1/restrictions", headers=manager)
    _conforms(spec, "/api/v1/restrictions", "get", listed)
    assert listed.json["restrictions"][0]["set_by"]["id"] == manager_user.id
    export = "/api/v1/people/{person_id}/export"
    exported = client.get(f"/api/v1/people/{pid}/export", headers=front_door)
    _conforms(spec, export, "get", exported)
    body = exported.json
    assert [r["closure"] for r in body["referrals"]] == [
        None, {"closure": "already_supported", "note": "Known to the hub.",
               "at": body["referrals"][1]["closure"]["at"]}]
    assert [d["kind"] for d in body["referrals"][0]["decisions"]] == ["engine", "override"]
    assert body["cases"][0]["notes"][0]["text"] == "Met mum."
    assert body["changes"][0]["field"] == "email" and body["restrictions"][0]["users"]
    lift = "/api/v1/restrictions/{restriction_id}/lift"
    lifted = client.post(f"/api/v1/restrictions/{restricted.json['id']}/lift", headers=manager,
                         json={"reason": REASON})
    _conforms(spec, lift, "post", lifted)
    for headers, body in ((manager, {"reason": REASON}), (manager, {"reason": ""}),
                          (front_door, {"reason": REASON})):
        _conforms(spec, lift, "post", client.post(
            f"/api/v1/restrictions/{restricted.json['id']}/lift", headers=headers, json=body))
    _conforms(spec, export, "get", client.get(f"/api/v1/people/{pid}/export",
                                              headers=front_door))
    for headers, person in ((front_door, 2147483647), (auth("partner"), pid), ({}, pid)):
        _conforms(spec, export, "get", client.get(f"/api/v1/people/{person}/export",
                                                  headers=headers))


@both_databases
def test_real_retention_reviews_and_an_anonymised_export_match_the_documented_schemas(
        client, auth, referral_body, rt, spec):
    admin, front_door = auth("admin"), auth("front_door")
    reviews = "/api/v1/retention/reviews"
    nothing = client.post(reviews, headers=admin)
    _conforms(spec, reviews, "post", nothing)
    assert nothing.status_code == 200 and nothing.json["review"] is None
    reference, case_id = open_case(client, front_door, referral_body, "early_help_hub")
    age(rt, reference, 7)
    with rt.db.unit_of_work() as session:  # closed in one of the pathway's own states
        session.exec(update(Case).where(Case.id == case_id).values(state="completed",
                                                                   outcome="needs_met"))
    reported = client.post(reviews, headers=admin)
    _conforms(spec, reviews, "post", reported)
    assert reported.status_code == 201
    _conforms(spec, reviews, "get", client.get(reviews, headers=admin))
    for headers in (front_door, {}):
        _conforms(spec, reviews, "get", client.get(reviews, headers=headers))
        _conforms(spec, reviews, "post", client.post(reviews, headers=headers))
    confirm = "/api/v1/retention/reviews/{review_id}/confirm"
    url = f"/api/v1/retention/reviews/{reported.json['review']['id']}/confirm"
    for headers, where, body in ((admin, url, {"reason": "x"}), (front_door, url, {}),
                                 (admin, "/api/v1/retention/reviews/2147483647/confirm",
                                  {"reason": REASON})):
        _conforms(spec, confirm, "post", client.post(where, json=body, headers=headers))
    done = client.post(url, json={"reason": REASON}, headers=admin)
    _conforms(spec, confirm, "post", done)
    assert done.json["review"]["status"] == "confirmed"
    assert {r["id"]: r["result"] for r in done.json["review"]["rules"]}[
        "closed_early_help"] == {"done": 1, "no_longer_due": 0}
    twice = client.post(url, json={"reason": REASON}, headers=admin)
    _conforms(spec, confirm, "post", twice)
    assert twice.status_code == 409 and twice.json["review_status"] == "confirmed"
    _conforms(spec, reviews, "get", client.get(reviews, headers=admin))
    with rt.db.reader() as session:
        gone = session.exec(select(Person.id).where(Person.anonymised_at.is_not(None))).first()
    exported = client.get(f"/api/v1/people/{gone}/export", headers=front_door)
    _conforms(spec, "/api/v1/people/{person_id}/export", "get", exported)
    assert exported.json["person"]["given_name"] is None
    assert exported.json["households"][0]["address"]["postcode"] == "LE11 2"
    # What an anonymised family keeps (the postcode's sector) still matches the referral,
    # person and household records the API answers with.
    household = exported.json["households"][0]["id"]
    for path, url in (("/api/v1/referrals/{reference}", f"/api/v1/referrals/{reference}"),
                      ("/api/v1/people/{person_id}", f"/api/v1/people/{gone}"),
                      ("/api/v1/households/{household_id}", f"/api/v1/households/{household}")):
        answer = client.get(url, headers=front_door)
        assert answer.status_code == 200, (url, answer.json)
        _conforms(spec, path, "get", answer)


def test_a_staff_preview_with_candidates_and_an_identity_body_match_the_document(
        client, auth, referral_body, spec):
    front_door = auth("front_door")
    priya = {"ref": "p1", "role": "subject", "given_name": "Priya", "family_name": "Johnson",
             "date_of_birth": "2015-05-31"}
    client.post("/api/v1/referrals", json=referral_body(people=[priya], postcode="LE11 2AB"),
                headers=auth("partner"))
    body = referral_body(channel="staff", postcode="LE11 2AB",
                         people=[{**priya, "given_name": "Pria", "family_name": "Jonson"}])
    shown = client.post("/api/v1/triage/preview", json=body, headers=front_door)
    _conforms(spec, "/api/v1/triage/preview", "post", shown)
    [candidate] = shown.json["candidates"]["p1"]
    answered = {**body, "identity": {"p1": {"same_as": candidate["person"]["id"]}}}
    identity = _resolve(spec, spec["components"]["schemas"]["ReferralBody"])[
        "properties"]["identity"]
    schema = {**identity, "components": spec["components"]}
    OAS30Validator(schema).validate(answered["identity"])
    _conforms(spec, "/api/v1/referrals", "post",
              client.post("/api/v1/referrals", json=answered, headers=front_door))
    _conforms(spec, "/api/v1/triage/preview", "post",
              client.post("/api/v1/triage/preview", json=body, headers=auth("partner")))
