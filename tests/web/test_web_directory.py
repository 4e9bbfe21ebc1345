"""The public service directory pages, the managers' capacity form, and the capacity warning
beside a route in the front door's live decision."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from tests.web.conftest import error_links
from tests.web.test_web_referrals import referral_form
from triage.errors import Forbidden
from triage.models import AuditEvent, CapacityStatus
from triage.services.directory import capacity, catalogue, importer

IMPORT = Path(__file__).resolve().parent.parent / "fixtures" / "oruk-import" / "partner-3.0.json"


def test_anyone_can_browse_and_search_the_directory(client, rt):
    page = client.get("/services")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Find a service" in html and f"{len(rt.profile.services)} services" in html
    assert "First Contact Plus" in html and "0116 496 0100" in html  # how to contact
    assert "<strong>For:</strong> Ages 18 and over" in html  # who it is for
    found = client.get("/services?search=coordinator").get_data(as_text=True)
    assert "1 service found" in found and "Local Area Coordination" in found
    assert "Early Help Hub" not in found
    by_need = client.get("/services?need=EY").get_data(as_text=True)
    assert "Early Help Hub" in by_need and "Adult Social Care" not in by_need
    near = client.get("/services?postcode=LE13 1AB").get_data(as_text=True)
    assert "near LE13 1AB" in near and "Melton Children and Family Wellbeing Centre" in near
    bad = client.get("/services?postcode=nowhere")
    assert "Enter a full postcode, like LE13 0AB" in bad.get_data(as_text=True)


def test_a_service_page_says_who_it_is_for_where_when_and_how_to_contact(client, rt):
    sid = catalogue.service_id(rt.profile, "early_help_hub")
    html = client.get(f"/services/{sid}").get_data(as_text=True)
    assert "<h1 class=\"govuk-heading-l\">Early Help Hub</h1>" in html
    assert "Ages 0 to 18" in html and "Good early years development" in html
    assert "Egerton Lodge, Wilton Road" in html and "LE13 0UJ" in html
    assert "Monday to Thursday, 08:30 to 17:00" in html and "Friday, 08:30 to 16:30" in html
    assert "0116 496 0300" in html and "earlyhelp@leicestershire.example" in html
    assert client.get("/services/not-a-service").status_code == 404


def test_imported_services_are_listed_and_stale_ones_flagged(client, rt):
    importer.load(rt, IMPORT)
    listed = client.get("/services?search=debt").get_data(as_text=True)
    assert "Money and debt advice" in listed and "Not checked recently" in listed
    fresh = client.get("/services?search=befriending").get_data(as_text=True)
    assert "Good Neighbours befriending" in fresh and "Not checked recently" not in fresh
    stale = client.get("/services?search=debt").get_data(as_text=True)
    link = stale.split('href="/services/', 1)[1].split('"', 1)[0]
    page = client.get(f"/services/{link}").get_data(as_text=True)
    assert "has not been checked for over 90 days" in page and "1 March 2026" in page
    assert "Charnwood Community Food Bank" in page


def test_a_manager_sets_their_teams_capacity_and_it_is_audited(web, rt, demo_users):
    manager = demo_users["manager@demo.test"]
    web.sign_in("manager@demo.test")
    listing = web.get("/capacity")
    assert listing.status_code == 200 and "Melton Early Help Hub" in web.last
    url = "/capacity/early_help_hub/melton-hub"
    refused = web.post(url, {"code": "", "notes": ""}, from_page=url)
    assert refused.status_code == 422
    assert error_links(web.last) == {"code": "Choose whether the team can take new people"}
    saved = web.post(url, {"code": "waitlist", "notes": "About three weeks"}, from_page=url)
    assert saved.status_code == 302
    web.get(saved.headers["Location"])
    assert "Capacity status saved" in web.last and "Waiting list" in web.last
    with rt.db.reader() as session:
        row = session.exec(select(CapacityStatus)).one()
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "capacity.set")).one()
    assert (row.code, row.notes, row.set_by_id) == ("waitlist", "About three weeks", manager.id)
    assert audit.object_id == "early_help_hub:melton-hub" and audit.detail["code"] == "waitlist"
    assert "About three weeks" not in str(audit.detail)
    sid = catalogue.service_id(rt.profile, "early_help_hub")
    page = web.get(f"/services/{sid}")
    assert "Melton Early Help Hub: Waiting list" in web.last and page.status_code == 200


def test_only_the_teams_managers_and_admins_set_its_capacity(web, make_web, rt, make_user):
    other, _ = make_user("manager", team="early_help_hub:charnwood-hub")
    assert capacity.statuses(rt) == {}
    web.sign_in("hub.melton@demo.test")
    assert web.get("/capacity").status_code == 403
    admin = make_web()
    admin.sign_in("admin@demo.test")
    assert admin.post("/capacity/first_contact_plus/countywide", {"code": "capacity"},
                      from_page="/capacity/first_contact_plus/countywide").status_code == 302
    with pytest.raises(Forbidden):
        capacity.set_status(rt, user=other, service="early_help_hub", instance="melton-hub",
                            body={"code": "no-capacity"})
    assert set(capacity.statuses(rt)) == {("first_contact_plus", "countywide")}


def test_the_front_door_sees_a_capacity_warning_beside_the_route_before_sending(web, rt,
                                                                              demo_users):
    web.sign_in("frontdoor@demo.test")
    web.post("/referrals/new", referral_form(), from_page="/referrals/new")
    assert "app-capacity-warning" not in web.last
    manager = demo_users["manager@demo.test"]
    capacity.set_status(rt, user=manager, service="local_area_coordination",
                        instance="melton-north", body={"code": "no-capacity",
                                                       "notes": "Back in January"})
    response = web.post("/referrals/new", referral_form(), from_page="/referrals/new")
    assert response.status_code == 200
    html = web.last
    assert "Local Area Coordination" in html and "app-capacity-warning" in html
    assert "No capacity: not taking new people just now" in html and "Back in January" in html
    assert "The route stays as the rules decided" in html
    assert 'value="submit"' in html  # still a route: the worker may send it


def test_the_start_page_and_the_front_door_link_to_the_directory(client, web):
    assert 'href="/services"' in client.get("/").get_data(as_text=True)
    web.sign_in("frontdoor@demo.test")
    web.get("/front-door/")
    assert 'href="/services"' in web.last
