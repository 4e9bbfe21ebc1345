"""The privacy pages: restricting a family to named staff (everyone else gets 'Page not
found' and never finds them), lifting it, the printable subject-access export, and
correcting a person's details with the history shown."""

from __future__ import annotations

import re

import pytest

from tests.web.test_web_people import patel_family  # noqa: F401  (fixture)

REASON = "A member of the front door team's own family."


def person_link(web, q="Noah Patel") -> str:
    found = web.get(f"/search?q={q.replace(' ', '+')}")
    return re.search(r'href="(/people/\d+)"', found.text).group(1)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_manager_restricts_a_family_and_the_front_door_no_longer_finds_it(
        make_web, patel_family):  # noqa: F811
    hub = make_web()
    hub.sign_in("hub.charnwood@demo.test")
    before = {page: patel_family[0] in hub.get(page).text
              for page in ("/cases", "/hub/", "/hub/meeting", "/hub/meeting/pack")}
    manager = make_web()
    manager.sign_in("manager@demo.test")
    link = person_link(manager)
    form = manager.get(f"{link}/restriction")
    assert form.status_code == 200 and "Restrict who sees this record" in form.text
    bad = manager.post(f"{link}/restriction", {"users": "nobody@demo.test", "reason": "x"})
    assert bad.status_code == 422
    assert "No staff member with the email nobody@demo.test" in bad.text
    done = manager.post(f"{link}/restriction", {
        "users": "manager@demo.test\nadmin@demo.test", "reason": REASON})
    assert done.status_code == 302 and done.headers["Location"].endswith("restricted=1")
    page = manager.get(link)
    assert "Restricted record: seen only by Ada Admin, Mo Manager" in page.text
    front = make_web()
    front.sign_in("frontdoor@demo.test")
    assert front.get(link).status_code == 404
    assert "Page not found" in front.last
    searched = front.get("/search?q=Patel").text
    assert "/people/" not in searched and "/families/" not in searched
    assert front.get(f"/referrals/{patel_family[0]}").status_code == 404
    assert patel_family[0] not in front.get("/front-door/").text
    for name in ("new_today", "needs_review", "awaiting_consent"):
        assert patel_family[0] not in front.get(f"/front-door/worklists/{name}").text
    assert front.get(f"/referrals/{patel_family[0]}/family").status_code == 404
    assert before["/hub/"] and before["/hub/meeting"]  # the hub showed it before
    for page in before:
        assert patel_family[0] not in hub.get(page).text, page
    # Lifting it, from the list of restrictions, shows the family again.
    listing = manager.get("/privacy/restrictions")
    assert "Patel" not in listing.text and "Seen only by: Ada Admin, Mo Manager" in listing.text
    action = re.search(r'action="(/privacy/restrictions/\d+/lift)"', listing.text).group(1)
    assert manager.post(action, {"reason": "short"}).status_code == 422
    assert manager.post(action, {"reason": "The family has moved out of the county."},
                        from_page="/privacy/restrictions").status_code == 302
    assert front.get(link).status_code == 200


def test_only_managers_and_admins_see_the_restriction_pages(make_web, patel_family):  # noqa: F811
    front = make_web()
    front.sign_in("frontdoor@demo.test")
    link = person_link(front)
    assert front.get(f"{link}/restriction").status_code == 403
    assert front.get("/privacy/restrictions").status_code == 403
    assert "Restrict who sees this record" not in front.get(link).text


def test_the_export_page_shows_everything_held_and_who_viewed_it(make_web, patel_family):  # noqa: F811
    front = make_web()
    front.sign_in("frontdoor@demo.test")
    link = person_link(front, "07700 900123")
    assert front.get(link).status_code == 200
    page = front.get(f"{link}/export")
    assert page.status_code == 200
    text = page.text
    assert "Everything held about Priya Patel" in text
    assert "Partner checks her phone" in text
    for reference in patel_family:
        assert reference in text
    assert "Who has seen or changed these records" in text
    assert "Frankie Front (Front door)" in text and "Person view" in text
    hub = make_web()
    hub.sign_in("hub.charnwood@demo.test")
    assert hub.get(f"{link}/export").status_code == 403


def test_correcting_a_name_keeps_the_old_one_and_search_finds_the_new(make_web, patel_family):  # noqa: F811
    front = make_web()
    front.sign_in("frontdoor@demo.test")
    link = person_link(front)
    form = front.get(f"{link}/rectify")
    assert form.status_code == 200 and 'value="Noah"' in form.text
    bad = front.post(f"{link}/rectify", {"given_name": "Noah", "family_name": "Patel",
                                         "nhs_number": "123", "reason": "short"})
    assert bad.status_code == 422
    assert "10-digit NHS number" in bad.text and "10 to 2000" in bad.text
    done = front.post(f"{link}/rectify", {
        "given_name": "Noa", "family_name": "Patil", "reason": "The family told us the spelling.",
        "dob-day": "", "dob-month": "", "dob-year": ""}, from_page=f"{link}/rectify")
    assert done.status_code == 302, done.text
    page = front.get(link)
    assert "Noa Patil" in page.text
    assert "Corrections to these details" in page.text
    assert re.search(r"Given name</td><td[^>]*>Noah</td><td[^>]*>Noa</td>", page.text)
    found = front.get("/search?q=Noa+Patil")
    assert "Noa Patil" in found.text and "same family name" in found.text


def test_an_admin_sees_what_is_due_and_confirms_it_on_the_retention_page(
        make_web, rt, patel_family):  # noqa: F811
    from datetime import timedelta

    from sqlmodel import select, update

    from triage.models import Case, Person, Referral
    from triage.models.base import utcnow

    then = utcnow() - timedelta(days=365 * 7)
    with rt.db.unit_of_work() as session:
        session.exec(update(Referral).values(received_at=then))
        session.exec(update(Case).values(closed_at=then, state="closed", outcome="completed"))
    admin = make_web()
    admin.sign_in("admin@demo.test")
    page = admin.get("/privacy/retention")
    assert page.status_code == 200 and "Nothing is waiting for confirmation" in page.text
    checked = admin.post("/privacy/retention/report", {}, from_page="/privacy/retention")
    assert checked.status_code == 302
    page = admin.get("/privacy/retention")
    assert "kept for six years after the family" in page.text and "Family " in page.text
    action = re.search(r'action="(/privacy/retention/\d+/confirm)"', page.text).group(1)
    bad = admin.post(action, {"reason": ""})
    assert bad.status_code == 422 and "There is a problem" in bad.text
    with rt.db.reader() as session:
        assert session.exec(select(Person).where(Person.family_name == "Patel")).all()
    done = admin.post(action, {"reason": "Checked against the schedule."},
                      from_page="/privacy/retention")
    assert done.status_code == 302
    assert "has been anonymised or erased" in admin.get(done.headers["Location"]).text
    with rt.db.reader() as session:
        assert not session.exec(select(Person).where(Person.family_name == "Patel")).all()
    assert admin.post(action, {"reason": "Checked against the schedule."},
                      from_page="/privacy/retention").status_code == 409
    front = make_web()
    front.sign_in("frontdoor@demo.test")
    assert front.get("/privacy/retention").status_code == 403
    manager = make_web()
    manager.sign_in("manager@demo.test")
    assert manager.get("/privacy/retention").status_code == 403
    assert "Retention schedule" not in manager.get("/privacy/restrictions").text


def test_the_referral_journey_does_not_say_a_restricted_person_is_already_known(
        make_web, rt, demo_users):
    from sqlmodel import select

    from tests.web.test_web_referrals import _key, referral_form
    from triage.models import Person
    from triage.services.privacy import restrictions

    front = make_web()
    front.sign_in("frontdoor@demo.test")
    front.get("/referrals/new")
    front.post("/referrals/new", referral_form(action="submit", submission_key=_key(front.last)))
    with rt.db.reader() as session:
        person_id = session.exec(select(Person.id).order_by(Person.id)).first()
    restrictions.set_restriction(rt, user=demo_users["manager@demo.test"], person_id=person_id,
                                 body={"users": [demo_users["manager@demo.test"].id],
                                       "reason": "A member of staff's own family."})
    front.post("/referrals/new", referral_form(), from_page="/referrals/new")
    assert "Already known" not in front.last and "Open case" not in front.last
