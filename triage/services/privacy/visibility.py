"""What restrictions hide from one user: the restricted people, everyone sharing a household
with them, those households, the referrals naming any of them and the cases of those
referrals and households. With no restriction in force it costs one indexed query."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, union
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from triage.errors import NotFound
from triage.models import (
    Case,
    HouseholdMember,
    Person,
    RecordRestriction,
    Referral,
    ReferralPerson,
    RestrictionUser,
    User,
)
from triage.policy import may_see_restricted, restriction_spares_own_referral
from triage.services import audit
from triage.statements import Prepared


@dataclass(frozen=True)
class Hidden:
    """Ids the user must be answered about as if they did not exist (a 404, left off lists)."""

    people: frozenset[int] = field(default_factory=frozenset)
    households: frozenset[int] = field(default_factory=frozenset)
    referrals: frozenset[int] = field(default_factory=frozenset)
    cases: frozenset[int] = field(default_factory=frozenset)

    def __bool__(self) -> bool:
        return bool(self.people)


NOTHING = Hidden()


def active_restrictions(session: Session) -> dict[int, tuple[int, set[int]]]:
    """{restriction id: (person id, named user ids)} for every restriction in force."""
    rows = session.exec(select(RecordRestriction.id, RecordRestriction.person_id)
                        .where(RecordRestriction.lifted_at.is_(None))).all()
    if not rows:
        return {}
    named: dict[int, set[int]] = {rid: set() for rid, _ in rows}
    for rid, uid in session.exec(select(RestrictionUser.restriction_id, RestrictionUser.user_id)
                                 .where(RestrictionUser.restriction_id.in_(list(named)))):
        named[rid].add(uid)
    return {rid: (pid, named[rid]) for rid, pid in rows}


def _covered_people() -> Any:
    """The people every restriction in force covers: each restricted person and everyone
    sharing a household with them (scope_of's people, for all restrictions at once)."""
    restriction = RecordRestriction.__table__
    member = HouseholdMember.__table__
    theirs, others = member.alias("theirs"), member.alias("others")
    in_force = restriction.c.lifted_at.is_(None)
    people = union(
        core_select(restriction.c.person_id.label("id")).where(in_force),
        core_select(others.c.person_id.label("id")).select_from(
            restriction.join(theirs, theirs.c.person_id == restriction.c.person_id)
            .join(others, others.c.household_id == theirs.c.household_id)).where(in_force),
    ).subquery()
    return core_select(people.c.id)


_COVERED_PEOPLE = Prepared(_covered_people)


def covered_people(session: Session) -> frozenset[int]:
    """Everyone any restriction in force covers, whoever is asking (intake leaves them out of
    the known people it suggests or queues). One plain read: at intake it runs before the
    transaction begins, so the referral's rows can still go in as one statement."""
    return frozenset(row[0] for row in _COVERED_PEOPLE.rows(session))


def scope_of(session: Session, person_ids: set[int]) -> Hidden:
    """Everything a restriction on these people covers."""
    if not person_ids:
        return NOTHING
    households = set(session.exec(select(HouseholdMember.household_id)
                                  .where(HouseholdMember.person_id.in_(person_ids))))
    people = set(person_ids)
    if households:
        people |= set(session.exec(select(HouseholdMember.person_id)
                                   .where(HouseholdMember.household_id.in_(households))))
    referrals = set(session.exec(select(ReferralPerson.referral_id)
                                 .where(ReferralPerson.person_id.in_(people))))
    if households:
        referrals |= set(session.exec(select(Referral.id)
                                      .where(Referral.household_id.in_(households))))
    cases: set[int] = set()
    if referrals or households:
        cases = set(session.exec(select(Case.id).where(or_(
            Case.referral_id.in_(referrals or {0}), Case.household_id.in_(households or {0})))))
    return Hidden(people=frozenset(people), households=frozenset(households),
                  referrals=frozenset(referrals), cases=frozenset(cases))


def hidden_for(session: Session, user: User) -> Hidden:
    """What `user` may not see: the scope of every restriction in force that does not name
    them (triage.policy.may_see_restricted)."""
    restricted = {pid for pid, named in active_restrictions(session).values()
                  if not may_see_restricted(user, named)}
    return scope_of(session, restricted)


def refuse_hidden_case(session: Session, user: User, case_id: int, action: str) -> None:
    """404 for a case a restriction hides from `user`, as for one that does not exist; the
    refusal is audited (committed on its own: the caller's transaction is rolled back)."""
    if case_id not in hidden_for(session, user).cases:
        return
    audit.record(session, actor=user, action=action, object_type="case", object_id=case_id,
                 restricted=True)
    session.commit()
    raise NotFound(f"No case {case_id}.")


def visible_person(session: Session, user: User, person_id: int, refused: str, *,
                   profile_id: str) -> Person:
    """The person, or a 404 as if there were none when no such row exists, it was recorded
    under another council's profile, or a restriction hides them from `user`; the refusal
    is audited as `refused` (committed on its own)."""
    person = session.get(Person, person_id)
    if person is None or person.profile_id != profile_id \
            or person_id in hidden_for(session, user).people:
        audit.record(session, actor=user, action=refused, object_type="person",
                     object_id=person_id)
        session.commit()
        raise NotFound("No such person.")
    return person


def restriction_of(session: Session, person_id: int) -> dict[str, Any] | None:
    """The restriction in force on a person (for someone it names): who may see the record,
    since when, why."""
    found = session.exec(select(RecordRestriction).where(
        RecordRestriction.person_id == person_id,
        RecordRestriction.lifted_at.is_(None))).first()
    if found is None:
        return None
    users = session.exec(select(User).join(RestrictionUser, RestrictionUser.user_id == User.id)
                         .where(RestrictionUser.restriction_id == found.id)
                         .order_by(User.id)).all()
    return {"id": found.id, "reason": found.reason, "set_at": found.set_at,
            "set_by": found.set_by_id,
            "users": [{"id": u.id, "name": u.name or u.email} for u in users]}


def hides_referral(session: Session, user: User, referral: Referral) -> bool:
    """Whether a restriction hides this referral from the user."""
    return (referral.id in hidden_for(session, user).referrals
            and not restriction_spares_own_referral(user, referral))
