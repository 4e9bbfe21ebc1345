"""What staff see of a re-referral (the referral page's inset, a tag on the family page) and
what partners never see."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select, update

from tests.api.cases_helpers import ADULT
from triage.models import Case, Referral
from triage.models.base import utcnow
from triage.web.context import long_date

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def _contact_body(**changes) -> dict:
    """Sam Hale, whom First Contact Plus takes (tests.api.cases_helpers.ROUTED_TO)."""
    return {"channel": "staff", "postcode": "LE13 1AB", "consent": "given", "people": [ADULT],
            "answers": {"adult_mental_health": True}, **changes}


def _coordination_body(**changes) -> dict:
    """Sam Hale again, now at LE13 0AB, routed to local area coordination (Melton north)."""
    return _contact_body(postcode="LE13 0AB",
                         answers={"memory_concern": True, "social_isolation": True}, **changes)


@pytest.fixture
def closed_contact_case(rt, demo_users):
    """Sam Hale's First Contact Plus case, closed by its team eight months ago (id, when)."""
    from triage.services.cases import casework
    from triage.services.referrals import intake

    _, sent = intake.submit_referral(rt, user=demo_users["frontdoor@demo.test"],
                                     body=_contact_body())
    (case,) = sent["cases"]
    team = demo_users["fcp@demo.test"]
    for event, fields in (("contact", {}), ("close", {"outcome": "needs_met"})):
        casework.fire_case_event(rt, user=team, case_id=case["id"], body={"event": event, **fields})
    closed_at = utcnow() - timedelta(days=245)
    with rt.db.unit_of_work() as session:
        session.exec(update(Case).where(Case.id == case["id"]).values(closed_at=closed_at))
    return case["id"], closed_at


@both_databases
def test_the_referral_page_says_it_is_a_re_referral_and_links_the_closed_case(
        web, make_web, rt, demo_users, closed_contact_case):
    from triage.services.referrals import intake

    case_id, closed_at = closed_contact_case
    _, again = intake.submit_referral(rt, user=demo_users["frontdoor@demo.test"],
                                      body=_coordination_body())
    web.sign_in("frontdoor@demo.test")
    page = web.get(f"/referrals/{again['reference']}").text
    inset = page.split('id="re-referral"', 1)[1].split("</div>", 1)[0]
    assert "Re-referral" in inset and "closed on" in inset
    assert f"{long_date(closed_at)} (First Contact Plus)" in inset
    assert "8 months before this referral" in inset
    assert f'href="/cases/{case_id}"' in inset
    # Local area coordination works the new referral but may not open First Contact Plus's
    # case: told, not linked.
    lac = make_web()
    lac.sign_in("lac@demo.test")
    page = lac.get(f"/referrals/{again['reference']}")
    assert page.status_code == 200
    inset = page.text.split('id="re-referral"', 1)[1].split("</div>", 1)[0]
    assert "(First Contact Plus)" in inset and f"/cases/{case_id}" not in inset


def test_a_first_referral_has_no_re_referral_inset(web, rt, demo_users):
    from triage.services.referrals import intake

    _, sent = intake.submit_referral(rt, user=demo_users["frontdoor@demo.test"],
                                     body=_contact_body())
    web.sign_in("frontdoor@demo.test")
    page = web.get(f"/referrals/{sent['reference']}").text
    assert 'id="re-referral"' not in page and "Re-referral" not in page


@both_databases
def test_the_family_page_tags_each_re_referral(web, rt, demo_users, closed_contact_case):
    from triage.services.referrals import intake

    _, again = intake.submit_referral(rt, user=demo_users["frontdoor@demo.test"],
                                      body=_contact_body())
    with rt.db.reader() as session:
        household_id = session.exec(select(Referral.household_id).where(
            Referral.reference == again["reference"])).one()
    web.sign_in("frontdoor@demo.test")
    page = web.get(f"/families/{household_id}").text
    items = {ref: item for item in page.split("<li>")
             for ref in [item.split('">', 1)[1].split("<", 1)[0]] if "/referrals/" in item
             and '">' in item}
    tagged = [ref for ref, item in items.items() if "Re-referral" in item]
    assert tagged == [again["reference"]]  # the first referral was not one


@both_databases
def test_a_partner_never_sees_that_their_referral_is_a_re_referral(
        web, rt, demo_users, closed_contact_case):
    from triage.services.referrals import intake

    partner = demo_users["fire@demo.test"]
    _, sent = intake.submit_referral(rt, user=partner, body=_coordination_body(
        channel="partner", referrer={"organisation": partner.organisation}))
    with rt.db.reader() as session:
        assert session.exec(select(Referral.re_referral_of_case_id).where(
            Referral.reference == sent["reference"])).one() == closed_contact_case[0]
    web.sign_in("fire@demo.test")
    for path in ("/partner/", f"/partner/referrals/{sent['reference']}",
                 f"/partner/referrals/{sent['reference']}/confirmation"):
        page = web.get(path)
        assert page.status_code == 200, path
        assert "Re-referral" not in page.text and "re-referral" not in page.text, path


def test_the_referral_form_warns_that_a_known_family_had_a_case_closed_recently(
        web, closed_contact_case):
    from tests.web.test_web_referrals import referral_form

    web.sign_in("frontdoor@demo.test")
    web.post("/referrals/new", referral_form(**{
        "people-0-given_name": "Sam", "people-0-family_name": "Hale",
        "people-0-dob-day": "9", "people-0-dob-month": "9", "people-0-dob-year": "1968"}),
        from_page="/referrals/new")
    known = web.last.split('id="known-title"', 1)[1].split("</ul>", 1)[0]
    assert "Re-referral" in known and "First Contact Plus" in known
    assert f'href="/cases/{closed_contact_case[0]}"' in known


def test_the_front_door_worklist_tags_re_referrals(web, rt, demo_users, closed_contact_case):
    from triage.services.referrals import intake

    _, again = intake.submit_referral(rt, user=demo_users["frontdoor@demo.test"],
                                      body=_coordination_body())
    _, other = intake.submit_referral(rt, user=demo_users["frontdoor@demo.test"],
                                      body=_contact_body(people=[dict(ADULT, given_name="Alex")]))
    web.sign_in("frontdoor@demo.test")
    page = web.get("/front-door/worklists/new_today").text
    rows = {row.split("/referrals/", 1)[1].split('"', 1)[0]: row
            for row in page.split('<tr class="govuk-table__row">') if "/referrals/" in row}
    assert "Re-referral" in rows[again["reference"]]
    assert "Re-referral" not in rows[other["reference"]]


def test_the_hub_meeting_pack_says_which_cases_are_re_referrals(web, rt, demo_users):
    from tests.web.test_web_cases import family_referral
    from triage.services.cases import casework
    from triage.services.hub import meetings
    from triage.services.referrals import intake

    front_door, hub = demo_users["frontdoor@demo.test"], demo_users["hub.charnwood@demo.test"]

    def hub_case() -> int:
        _, sent = intake.submit_referral(rt, user=front_door, body=family_referral())
        return next(c["id"] for c in sent["cases"] if c["service"] == "early_help_hub")

    first = hub_case()
    casework.fire_case_event(rt, user=hub, case_id=first, body={
        "event": "close_before_acceptance", "outcome": "could_not_contact"})
    again = hub_case()
    meetings.add_to_agenda(rt, user=hub, case_ids=[again])
    web.sign_in("hub.charnwood@demo.test")
    pack = web.get("/hub/meeting/pack").text
    section = pack.split(f'id="case-{again}"', 1)[1]
    assert "Re-referral" in section and "(Early Help Hub)" in section
