"""Re-deciding stored referrals with a candidate rule set: what would change, and for whom."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import select

import rules
from config.profile import load_profile
from triage.models import Decision, Person, Referral, ReferralPerson
from triage.runtime import Runtime


def candidate_profile(rt: Runtime, candidate: Path):
    """A profile folder as it is, or the current profile with a candidate decision graph."""
    if candidate.is_dir():
        return load_profile(candidate)
    folder = Path(tempfile.mkdtemp(prefix="triage-candidate-"))
    shutil.copytree(rt.profile.folder, folder, dirs_exist_ok=True)
    shutil.copy(candidate, folder / rt.profile.files["decision_graph"])
    return load_profile(folder)


def stored_facts(rt: Runtime, *, limit: int | None = None) -> Iterator[tuple[str, Any]]:
    """(reference, facts) for every stored referral, rebuilt as they were at decision time."""
    with rt.db.reader() as session:
        query = select(Referral).order_by(Referral.id.desc() if limit else Referral.id)
        if limit:
            query = query.limit(limit)
        for referral in session.exec(query.execution_options(yield_per=500)):
            people = session.exec(
                select(ReferralPerson.role, ReferralPerson.relationship, Person.date_of_birth)
                .join(Person, Person.id == ReferralPerson.person_id)
                .where(ReferralPerson.referral_id == referral.id)
            ).all()
            engine = session.exec(select(Decision).where(
                Decision.referral_id == referral.id, Decision.kind == "engine")).first()
            inputs = engine.inputs if engine else {}
            on = date.fromisoformat(inputs["referral_date"]) if inputs.get(
                "referral_date") else referral.received_at.date()
            yield referral.reference, rules.derive_facts(
                rt.profile.checklist,
                answers=referral.answers,
                people=[rules.Person(role=role, date_of_birth=dob, relationship=rel)
                        for role, rel, dob in people],
                referral_date=on,
                place=rt.profile.place_for(referral.postcode),
                information_only=referral.information_only,
                step_down=referral.step_down,
                open_family_support_instance=inputs.get("open_family_support_instance"),
            )


def simulate_stored(rt: Runtime, *, candidate: Path, limit: int | None = None) -> str:
    candidate_rules = rules.load(candidate_profile(rt, candidate))
    report = rules.simulate(rt.ruleset, candidate_rules, stored_facts(rt, limit=limit))
    return rules.format_simulation(report)
