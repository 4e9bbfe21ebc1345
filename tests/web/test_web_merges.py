"""Merging two records from the person and family pages (choose, compare side by side, undo
from the history) and the front door's "check who this is" worklist."""

from __future__ import annotations

import re

from sqlalchemy import delete
from sqlmodel import select

from triage.models import MatchReview, Referral, ReferralPerson

REASON = "The school confirmed it is the same child."
CHILD = {"ref": "c1", "role": "subject", "given_name": "Tom", "family_name": "Reed",
         "date_of_birth": "2016-05-04"}


def _refer(rt, user, person, postcode="LE13 1AB") -> tuple[str, int]:
    from triage.services.referrals import intake

    body = {"channel": "staff", "referrer": {"organisation": "School", "name": "A. Teacher"},
            "postcode": postcode, "people": [person], "answers": {"parenting_support": True},
            "consent": "given", "information_only": False, "step_down": False}
    reference = intake.submit_referral(rt, user=user, body=body)[1]["reference"]
    with rt.db.reader() as session:
        pid = session.exec(select(ReferralPerson.person_id).join(
            Referral, Referral.id == ReferralPerson.referral_id).where(
            Referral.reference == reference)).one()
    return reference, pid


def test_front_door_merges_from_the_person_page_and_undoes_it(web, rt, demo_users):
    staff = demo_users["frontdoor@demo.test"]
    _, known = _refer(rt, staff, CHILD)
    _, newer = _refer(rt, staff, {**CHILD, "family_name": "Reid"}, "LE11 2AB")
    web.sign_in("frontdoor@demo.test")
    page = web.get(f"/people/{newer}")
    assert "Merge with another record" in page.text
    chosen = web.get(f"/people/{newer}/merge?q=Tom+Reed")
    assert chosen.status_code == 200 and f"?into={known}" in chosen.text
    compare = web.get(f"/people/{newer}/merge?into={known}")
    assert compare.status_code == 200
    assert f"Merged away: record {newer}" in compare.text
    assert f"Kept: record {known}" in compare.text
    assert "Reid" in compare.text and "Reed" in compare.text
    short = web.post(f"/people/{newer}/merge", {"into": str(known), "reason": "same"})
    assert short.status_code == 422 and "10 to 2000 characters" in short.text
    done = web.post(f"/people/{newer}/merge", {"into": str(known), "reason": REASON})
    assert done.status_code == 302 and done.headers["Location"].startswith(f"/people/{known}")
    kept = web.get(f"/people/{known}?merged={newer}")
    assert REASON in kept.text and "Undo merge" in kept.text
    moved = web.get(f"/people/{newer}")
    assert moved.status_code == 302 and f"/people/{known}" in moved.headers["Location"]
    assert f"/people/{newer}" not in web.get("/search?q=Tom+Reid").text
    merge_id = re.search(r'action="/merges/(\d+)/undo"', kept.text).group(1)
    undone = web.post(f"/merges/{merge_id}/undo", {"reason": "Two different children."},
                      from_page=f"/people/{known}")
    assert undone.status_code == 302 and f"/people/{newer}" in undone.headers["Location"]
    back = web.get(f"/people/{newer}")
    assert back.status_code == 200 and "Undone" in back.text
    again = web.post(f"/merges/{merge_id}/undo", {"reason": "Two different children."},
                     from_page=f"/people/{newer}/merge?into={known}")
    assert again.status_code == 409


def test_families_merge_from_the_family_page(web, rt, demo_users):
    staff = demo_users["frontdoor@demo.test"]
    _, known = _refer(rt, staff, CHILD)
    _, newer = _refer(rt, staff, {**CHILD, "given_name": "Ann"}, "LE11 2AB")
    from triage.services.people import record
    homes = [record.get_person(rt, user=staff, person_id=p)["households"][0]["id"]
             for p in (known, newer)]
    web.sign_in("frontdoor@demo.test")
    assert "Merge with another record" in web.get(f"/families/{homes[1]}").text
    compare = web.get(f"/families/{homes[1]}/merge?into={homes[0]}")
    assert compare.status_code == 200 and "Members" in compare.text
    done = web.post(f"/families/{homes[1]}/merge", {"into": str(homes[0]), "reason": REASON})
    assert done.status_code == 302
    family = web.get(f"/families/{homes[0]}")
    assert "Ann" in family.text and "Tom" in family.text
    assert f"Household record {homes[1]} merged into {homes[0]}" in family.text


def test_the_check_worklist_links_or_keeps_apart(web, rt, demo_users):
    staff = demo_users["frontdoor@demo.test"]
    reference, known = _refer(rt, staff, CHILD)
    _, newer = _refer(rt, staff, {**CHILD, "family_name": "Reid"}, "LE11 2AB")
    _, third = _refer(rt, staff, {**CHILD, "given_name": "Thomas"}, "LE11 2AB")
    with rt.db.unit_of_work() as session:
        # the queue holds just these two pairs (not the ones intake queued itself)
        session.execute(delete(MatchReview))
        for other in (newer, third):
            session.add(MatchReview(person_id=known, other_person_id=other, source="intake",
                                    score=11.0, band="likely", comparisons=[
                                        {"field": "date_of_birth", "level": "same",
                                         "weight": 9.0, "reason": "same date of birth"}]))
    web.sign_in("frontdoor@demo.test")
    assert "Check who this is" in web.get("/front-door/").text
    page = web.get("/front-door/check")
    assert page.status_code == 200
    assert "same date of birth" in page.text and "LE11" in page.text and "Reid" in page.text
    reviews = [int(i) for i in re.findall(r'id="review-(\d+)"', page.text)]
    missing = web.post(f"/front-door/check/{reviews[0]}", {"reason": REASON},
                       from_page="/front-door/check")
    assert missing.status_code == 422 and "Answer same or not_same" in missing.text
    linked = web.post(f"/front-door/check/{reviews[0]}", {"decision": "same", "reason": REASON},
                      from_page="/front-door/check")
    assert linked.status_code == 302
    kept = web.post(f"/front-door/check/{reviews[1]}", {"decision": "not_same", "reason": REASON},
                    from_page="/front-door/check")
    assert kept.status_code == 302
    assert "Nothing to check." in web.get("/front-door/check").text
    assert web.get(f"/people/{newer}").status_code == 302
    assert web.get(f"/people/{third}").status_code == 200


def test_hub_staff_and_partners_cannot_merge_or_check(make_web, rt, demo_users):
    staff = demo_users["frontdoor@demo.test"]
    _, known = _refer(rt, staff, CHILD)
    for email in ("hub.charnwood@demo.test", "fire@demo.test"):
        browser = make_web()
        browser.sign_in(email)
        assert browser.get("/front-door/check").status_code == 403
        assert browser.get(f"/people/{known}/merge").status_code == 403
