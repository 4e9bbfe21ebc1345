"""decide_pair and the review queue on SQLite and PostgreSQL: one row per pair, lower id
first, the same answer twice changes nothing, a new answer replaces the old (and is
audited), and a pair already queued or decided is not queued again."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from triage.models import AuditEvent, Person
from triage.models.matching import MatchDecision, MatchReview
from triage.services.people import identity

both_databases = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def people(rt, n: int) -> list[int]:
    with rt.db.unit_of_work() as session:
        made = [Person(profile_id="leicestershire", given_name=f"P{i}", family_name="Test",
                       date_of_birth=date(2000, 1, 1)) for i in range(n)]
        session.add_all(made)
        session.flush()
        return [p.id for p in made]


def review(low: int, high: int, **more) -> dict:
    return {"person_id": low, "other_person_id": high, "referral_id": None,
            "source": "duplicate_finder", "score": 9.5, "band": "likely",
            "comparisons": [{"field": "date_of_birth", "level": "same", "weight": 6.0,
                             "reason": "same date of birth"}],
            "status": "open", **more}


@both_databases
def test_a_pair_is_stored_once_lower_id_first_and_a_new_answer_replaces_it(rt, make_user):
    a, b = people(rt, 2)
    user, _ = make_user("front_door")
    for _ in range(2):
        with rt.db.unit_of_work() as session:
            identity.decide_pair(session, b, a, same=False, user=user, source="intake")
    with rt.db.unit_of_work() as session:
        identity.decide_pair(session, a, b, same=True, user=user, source="review")
    with rt.db.reader() as session:
        [row] = session.exec(select(MatchDecision)).all()
        audits = session.exec(select(AuditEvent).where(
            AuditEvent.action == "person.match_decision")).all()
        assert identity.is_decided(session, b, a)
    assert (row.person_id, row.other_person_id) == (min(a, b), max(a, b))
    assert row.same is True and row.source == "review" and row.decided_by_id == user.id
    assert [e.detail["same"] for e in audits] == [False, True]  # the repeat is not audited


def test_a_person_is_never_paired_with_themselves(rt):
    [a] = people(rt, 1)
    with rt.db.unit_of_work() as session, pytest.raises(ValueError):
        identity.decide_pair(session, a, a, same=False, user=None, source="intake")


@both_databases
def test_a_pair_already_queued_or_decided_is_not_queued_again(rt):
    a, b, c = sorted(people(rt, 3))
    with rt.db.unit_of_work() as session:
        identity.queue_reviews(session, [review(a, b)])
    with rt.db.unit_of_work() as session:
        identity.decide_pair(session, a, c, same=False, user=None, source="review")
        identity.queue_reviews(session, [review(a, b, source="intake"), review(a, c),
                                         review(b, c)])
    with rt.db.reader() as session:
        rows = session.exec(select(MatchReview).order_by(MatchReview.id)).all()
    assert [(r.person_id, r.other_person_id, r.source) for r in rows] == [
        (a, b, "duplicate_finder"), (b, c, "duplicate_finder")]
