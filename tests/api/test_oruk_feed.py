"""The Open Referral UK 3.0 feed under /oruk/ (Leicestershire's): its taxonomy, nesting, ids,
paging errors, CORS and postcode search; nothing private published. The validation against
the published schemas for every profile is in tests/profiles/test_oruk_feed_profiles.py; the
schemas and helpers here are shared with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker

SCHEMAS = Path(__file__).resolve().parent.parent / "fixtures" / "oruk-3.0"


def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=FormatChecker())


SERVICE = _validator("service")
SERVICE_LIST = _validator("service_list")
SERVICE_AT_LOCATION = _validator("service_at_location_list")
PAGE_KEYS = {"total_items", "total_pages", "page_number", "size", "first_page", "last_page",
             "empty", "contents"}


def _problems(validator: Draft202012Validator, body) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(body)]


def _empty_fields(node, where: str = "") -> list[str]:
    """Optional fields sent with nothing in them (the feed leaves them out)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if value is None or value == "" or value == [] or value == {}:
                found.append(f"{where}/{key}")
            found += _empty_fields(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _empty_fields(value, f"{where}/{i}")
    return found


def test_the_need_taxonomy_is_the_checklists_domains_and_headline_areas(client, rt):
    terms = client.get("/oruk/taxonomy_terms?per_page=200").json["contents"]
    checklist = rt.profile.checklist
    assert {t["code"] for t in terms} == set(checklist.domains) | set(checklist.headline_areas)
    taxonomies = client.get("/oruk/taxonomies").json["contents"]
    assert {t["taxonomy_id"] for t in terms} == {t["id"] for t in taxonomies}
    domains = next(t for t in taxonomies if t["name"].endswith("domains"))
    only = client.get(f"/oruk/taxonomy_terms?per_page=200&taxonomy_id={domains['id']}").json
    assert {t["code"] for t in only["contents"]} == set(checklist.domains)
    # A service's eligibility names the terms of the needs it meets.
    hub = _service_named(client, "Early Help Hub")
    needs = {a["taxonomy_term"]["code"] for a in hub["attributes"]}
    assert {"parenting_family", "EY"} <= needs
    assert hub["minimum_age"] == 0 and hub["maximum_age"] == 18
    # ...and the feed finds services by need.
    term = next(t for t in terms if t["code"] == "EY")
    found = client.get(f"/oruk/services?taxonomy_term_id={term['id']}").json["contents"]
    assert "Early Help Hub" in {s["name"] for s in found}
    assert "Adult Social Care" not in {s["name"] for s in found}


def _service_named(client, name: str) -> dict:
    listed = client.get("/oruk/services?per_page=200").json["contents"]
    found = next(s for s in listed if s["name"] == name)
    return client.get(f"/oruk/services/{found['id']}").json


def test_ids_are_uuids_derived_from_the_profile_and_stable_across_restarts(client, app,
                                                                           settings):
    from triage import create_app
    from triage.services.directory.ids import derived

    first = client.get("/oruk/services?per_page=200").json["contents"]
    again = create_app(settings, background=False)
    try:
        second = again.test_client().get("/oruk/services?per_page=200").json["contents"]
    finally:
        again.extensions["triage"].db.dispose()
    assert [s["id"] for s in first] == [s["id"] for s in second]
    assert first[0]["id"] == derived("leicestershire", "service", "first_contact_plus")


def test_a_service_is_fully_nested_with_places_times_and_public_contacts(client):
    hub = _service_named(client, "Early Help Hub")
    assert hub["organization"]["name"] == "Leicestershire County Council"
    melton = next(s for s in hub["service_at_locations"]
                  if s["location"]["addresses"][0]["postal_code"] == "LE13 0UJ")
    assert melton["location"]["latitude"] and melton["location"]["addresses"][0]["city"] == \
        "Melton Mowbray"
    assert {a["name"] for a in hub["service_areas"]} >= {"Melton Early Help Hub",
                                                         "Charnwood Early Help Hub"}
    assert {s["byday"] for s in hub["schedules"]} == {"MO,TU,WE,TH", "FR"}
    assert hub["contacts"][0]["phones"][0]["number"] == "0116 496 0300"
    fcp = _service_named(client, "First Contact Plus")
    assert fcp["minimum_age"] == 18 and "maximum_age" not in fcp


def test_nothing_private_is_published(client, rt, make_user):
    from triage.services.directory import capacity

    manager, _ = make_user("manager", team="early_help_hub:melton-hub",
                           name="Morag Manager")
    capacity.set_status(rt, user=manager, service="early_help_hub", instance="melton-hub",
                        body={"code": "waitlist", "notes": "About four weeks"})
    everything = json.dumps([client.get(f"/oruk/services/{s['id']}").json for s in
                             client.get("/oruk/services?per_page=200").json["contents"]])
    everything += client.get("/oruk/service_at_locations?per_page=200").get_data(as_text=True)
    for private in ("referrals_per_month", "cases_per_meeting", "families_per_area",
                    "people_per_coordinator", "open_cases", "Morag", manager.email,
                    "set_by"):
        assert private not in everything, private
    assert "About four weeks" in everything  # notes are for referrers


def test_capacity_is_published_as_an_extension_beside_the_place(client, rt, make_user):
    from triage.services.directory import capacity

    manager, _ = make_user("manager", team="early_help_hub:melton-hub")
    capacity.set_status(rt, user=manager, service="early_help_hub", instance="melton-hub",
                        body={"code": "no-capacity", "notes": "Full until January"})
    hub = _service_named(client, "Early Help Hub")
    assert [(c["area"], c["code"]) for c in hub["x_capacity"]] == [
        ("Melton Early Help Hub", "no-capacity")]
    melton = next(s for s in hub["service_at_locations"]
                  if s["location"]["addresses"][0]["postal_code"] == "LE13 0UJ")
    assert melton["x_capacity"]["code"] == "no-capacity"
    assert melton["x_capacity"]["notes"] == "Full until January"
    assert not _problems(SERVICE, hub)


@pytest.mark.parametrize(("query", "name"), [
    ("page=0", "page"), ("page=x", "page"), ("per_page=0", "per_page"),
    ("per_page=201", "per_page"), ("per_page=-1", "per_page"), ("page=1.5", "page")])
def test_a_bad_page_or_page_size_is_a_400_naming_it(client, query, name):
    answer = client.get(f"/oruk/services?{query}")
    assert answer.status_code == 400
    assert list(answer.json["errors"]) == [name] and name in answer.json["message"]
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_a_page_past_the_end_is_an_empty_valid_page_and_an_unknown_id_a_404(client):
    past = client.get("/oruk/services?page=99").json
    assert past["empty"] and past["contents"] == [] and past["last_page"]
    for unknown in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        answer = client.get(f"/oruk/services/{unknown}")
        assert answer.status_code == 404 and answer.json["message"]


def test_the_feed_is_open_to_any_site_and_needs_no_sign_in(client):
    for path in ("/oruk/", "/oruk/services", "/oruk/taxonomies", "/oruk/taxonomy_terms",
                 "/oruk/service_at_locations"):
        answer = client.get(path, headers={"Origin": "https://partner.example"})
        assert answer.status_code == 200, path
        assert answer.headers["Access-Control-Allow-Origin"] == "*", path
    preflight = client.options("/oruk/services", headers={
        "Origin": "https://partner.example", "Access-Control-Request-Method": "GET"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert client.post("/oruk/services").status_code == 405


def test_services_at_locations_near_a_postcode_nearest_first(client):
    near = client.get("/oruk/service_at_locations?postcode=LE13 1AB&proximity=15000").json
    names = [i["location"]["name"] for i in near["contents"]]
    assert names == ["Melton Children and Family Wellbeing Centre"]
    wide = client.get("/oruk/service_at_locations?postcode=LE11 2AB&proximity=40000").json
    distances = [i["distance"] for i in wide["contents"]]
    assert distances == sorted(distances) and len(distances) >= 3
    assert wide["contents"][0]["location"]["addresses"][0]["postal_code"].startswith("LE11")
    district = client.get("/oruk/service_at_locations?postcode=LE3 8AB").json["contents"]
    assert [i["location"]["name"] for i in district] == ["County Hall"]
    for query, name in (("postcode=nowhere", "postcode"), ("proximity=500", "postcode"),
                        ("postcode=LE11 2AB&proximity=lots", "proximity"),
                        ("postcode=ZZ9 9ZZ&proximity=500", "postcode")):
        answer = client.get(f"/oruk/service_at_locations?{query}")
        assert answer.status_code == 400 and list(answer.json["errors"]) == [name], query


def test_search_finds_services_by_their_words(client):
    found = client.get("/oruk/services?search=coordinator").json
    assert [s["name"] for s in found["contents"]] == ["Local Area Coordination"]
    assert found["total_items"] == 1
