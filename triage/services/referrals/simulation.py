"""Re-deciding stored referrals with a candidate rule set: what would change, and for whom."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import select

import rules
from config.profile import load_profile
from triage.models import Decision, Person, Referral, ReferralPerson
from triage.runtime import Runtime


@contextmanager
def candidate_profile(rt: Runtime, candidate: Path) -> Iterator[Any]:
    """A profile folder as it is, or the current profile with a candidate decision graph
    (in a temporary copy, removed afterwards)."""
    if candidate.is_dir():
        yield load_profile(candidate)
        return
    with tempfile.TemporaryDirectory(prefix="triage-candidate-") as tmp:
        folder = Path(tmp) / "profile"
        shutil.copytree(rt.profile.folder, folder)
        shutil.copy(candidate, folder / rt.profile.files["decision_graph"])
        yield load_profile(folder)


_PAGE = 500


def stored_facts(rt: Runtime, *, limit: int | None = None) -> Iterator[tuple[str, Any]]:
    """(reference, facts) for every stored referral, rebuilt as they were at decision time.

    Read a page of referrals at a time, with their people and engine decisions in one query
    each (three queries per 500 referrals, not two per referral)."""
    with rt.db.reader() as session:
        query = select(Referral).order_by(Referral.id.desc() if limit else Referral.id)
        if limit:
            query = query.limit(limit)
        page: list[Referral] = []
        for referral in session.exec(query.execution_options(yield_per=_PAGE)):
            page.append(referral)
            if len(page) == _PAGE:
                yield from _facts_for_page(rt, session, page)
                page = []
        yield from _facts_for_page(rt, session, page)


def _facts_for_page(rt: Runtime, session: Any, page: list[Referral]
                    ) -> Iterator[tuple[str, Any]]:
    if not page:
        return
    ids = [r.id for r in page]
    people: dict[int, list[rules.Person]] = {i: [] for i in ids}
    for referral_id, role, rel, dob in session.exec(
            select(ReferralPerson.referral_id, ReferralPerson.role, ReferralPerson.relationship,
                   Person.date_of_birth)
            .join(Person, Person.id == ReferralPerson.person_id)
            .where(ReferralPerson.referral_id.in_(ids))
            .order_by(ReferralPerson.referral_id, ReferralPerson.ref)).all():
        people[referral_id].append(rules.Person(role=role, date_of_birth=dob, relationship=rel))
    inputs: dict[int, dict] = {}
    for referral_id, stored in session.exec(
            select(Decision.referral_id, Decision.inputs)
            .where(Decision.referral_id.in_(ids), Decision.kind == "engine")
            .order_by(Decision.id)).all():
        inputs.setdefault(referral_id, stored or {})
    for referral in page:
        given = inputs.get(referral.id, {})
        on = date.fromisoformat(given["referral_date"]) if given.get(
            "referral_date") else referral.received_at.date()
        yield referral.reference, rules.derive_facts(
            rt.profile.checklist,
            answers=referral.answers,
            people=people[referral.id],
            referral_date=on,
            place=rt.profile.place_for(referral.postcode),
            units=rt.profile.localities.columns,
            information_only=referral.information_only,
            step_down=referral.step_down,
            open_family_support_instance=given.get("open_family_support_instance"),
        )


def simulate_stored(rt: Runtime, *, candidate: Path, limit: int | None = None) -> str:
    with candidate_profile(rt, candidate) as profile:
        candidate_rules = rules.load(profile)
        report = rules.simulate(rt.ruleset, candidate_rules, stored_facts(rt, limit=limit))
    return rules.format_simulation(report)
