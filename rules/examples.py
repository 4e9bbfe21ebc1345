"""Worked examples as data: referrals with the decisions the policy expects, run as tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import yaml

from config.profile import Problem, Profile
from rules.engine import RuleSet
from rules.facts import Person, derive_facts


@dataclass(frozen=True)
class ExampleResult:
    name: str
    passed: bool
    differences: tuple[str, ...]


def _facts(profile: Profile, example: dict):
    on = date.fromisoformat(str(example.get("referral_date", "2026-11-02")))
    people = [Person(role=p.get("role", "subject"),
                     date_of_birth=date.fromisoformat(str(p["date_of_birth"])))
              for p in example.get("people", [])]
    return derive_facts(
        profile.checklist, answers=example.get("answers", {}), people=people, referral_date=on,
        place=profile.place_for(example.get("postcode", "")),
        information_only=example.get("information_only", False),
        step_down=example.get("step_down", False),
        open_family_support_instance=example.get("open_family_support"),
        units=profile.localities.columns)


def _shape_problems(data: object, file: str) -> list[Problem]:
    """A wrongly shaped examples file (a list where a mapping goes, a date that is not one) is
    named here, so running the examples never meets it as a traceback."""
    if not isinstance(data, dict):
        return [Problem(file, "-", "must be a mapping with examples")]
    examples = data.get("examples")
    if not isinstance(examples, list):
        return [Problem(file, "examples", "must be a list of worked examples")]
    problems = []
    for i, example in enumerate(examples):
        key = f"examples[{i}]"
        if not isinstance(example, dict):
            problems.append(Problem(file, key, "must be a mapping with name, the referral and "
                                               "expected"))
            continue
        shapes = [("name", str, True), ("expected", dict, True), ("answers", dict, False),
                  ("people", list, False)]
        for name, kind, required in shapes:
            value = example.get(name)
            if (value is None and required) or (value is not None
                                                 and not isinstance(value, kind)):
                problems.append(Problem(file, f"{key}.{name}",
                                        f"must be a {'mapping' if kind is dict else kind.__name__}"
                                        + (" (required)" if required else "")))
        dates = [("referral_date", example.get("referral_date"))]
        people = example.get("people") if isinstance(example.get("people"), list) else []
        for j, person in enumerate(people):
            if not isinstance(person, dict):
                problems.append(Problem(file, f"{key}.people[{j}]", "must be a mapping with "
                                                                    "role and date_of_birth"))
                continue
            dates.append((f"people[{j}].date_of_birth", person.get("date_of_birth", "")))
        for name, value in dates:
            if name == "referral_date" and value is None:
                continue
            try:
                date.fromisoformat(str(value))
            except ValueError:
                problems.append(Problem(file, f"{key}.{name}",
                                        f"{value!r} is not a date like 2026-11-02"))
    return problems


def _read(profile: Profile) -> tuple[dict, list[Problem]]:
    path = profile.path("examples")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        return {}, [Problem(path.name, "-", f"cannot read: {type(exc).__name__}")]
    return data, _shape_problems(data, path.name)


def example_problems(profile: Profile) -> list[Problem]:
    """Each worked example's expected level must be one of the profile's level codes."""
    if "examples" not in profile.files:
        return []
    path = profile.path("examples")
    data, problems = _read(profile)
    if problems:
        return problems
    for i, example in enumerate(data.get("examples") or []):
        expected = example.get("expected") if isinstance(example, dict) else None
        if not isinstance(expected, dict) or "level" not in expected:
            continue
        if str(expected["level"]) not in profile.levels:
            problems.append(Problem(path.name, f"examples[{i}] ({example.get('name')})",
                                    f"expects level {expected['level']!r}, which is not a "
                                    f"level code (one of {', '.join(profile.levels)})"))
    return problems


def run_examples(profile: Profile, ruleset: RuleSet) -> list[ExampleResult]:
    """Run each worked example (call example_problems first: a badly shaped file raises)."""
    data, problems = _read(profile)
    if problems:
        raise ValueError("; ".join(map(str, problems)))
    results = []
    for example in data.get("examples", []):
        decision = ruleset.evaluate(_facts(profile, example))
        expected = example["expected"]
        got = {
            "level": decision.level_code,
            "routes": sorted([r.service, r.instance] for r in decision.routes),
            "safeguarding": decision.safeguarding,
            "urgent": decision.urgent,
            "needs_review": decision.needs_review,
        }
        want = dict(expected)
        if "level" in want:
            want["level"] = str(want["level"])
        if "routes" in want:
            want["routes"] = sorted([r["service"], r.get("instance")] for r in want["routes"])
        differences = tuple(f"{key}: expected {want[key]!r}, got {got[key]!r}"
                            for key in want if got.get(key) != want[key])
        differences += _consent_differences(expected.get("routes") or [], decision)
        results.append(ExampleResult(example["name"], not differences, differences))
    return results


def _consent_differences(expected_routes: list[dict], decision) -> tuple[str, ...]:
    """An expected route that says `consent_needed` must wait for consent (or not) as the
    decision's route to that service does (consent is decided per route)."""
    got = {r.service: r.consent_needed for r in decision.routes}
    return tuple(
        f"consent_needed for {r['service']}: expected {r['consent_needed']!r}, got "
        f"{got.get(r['service'])!r}"
        for r in expected_routes
        if "consent_needed" in r and r["service"] in got
        and got[r["service"]] != r["consent_needed"])


def load_examples(profile: Profile) -> list[dict]:
    if "examples" not in profile.files:
        return []
    data = yaml.safe_load(profile.path("examples").read_text(encoding="utf-8")) or {}
    return [e for e in data.get("examples") or [] if isinstance(e, dict)]


def referral_body(example: dict, *, today: date, n: int = 0, consent: str = "given",
                  channel: str = "staff", organisation: str | None = None) -> dict:
    """A worked example as a referral body the intake takes (for the README's curl example,
    the benchmarks and the any-profile tests). Dates of birth move with the calendar, so
    everyone is as old on `today` as on the example's referral date; people are named after
    the example's number `n` (in letters), so no two examples are taken for the same family."""
    on = date.fromisoformat(str(example.get("referral_date", "2026-11-02")))
    shift = today - on
    people = []
    for i, person in enumerate(example.get("people") or []):
        born = date.fromisoformat(str(person["date_of_birth"])) + shift
        role = person.get("role", "subject")
        people.append({"ref": f"p{i + 1}", "role": role,
                       "relationship": None if role == "subject" else "family member",
                       "given_name": f"Given{letters(i + 1)}",
                       "family_name": f"Example{letters(n)}",
                       "date_of_birth": born.isoformat()})
    body = {"channel": channel, "postcode": example["postcode"], "people": people,
            "answers": example.get("answers") or {}, "consent": consent,
            "information_only": bool(example.get("information_only", False)),
            "step_down": bool(example.get("step_down", False))}
    if channel == "partner":
        body["referrer"] = {"organisation": organisation or "A partner organisation",
                            "name": "A. Officer", "email": "officer@example.org"}
    return body


def letters(n: int | str) -> str:
    """A number's digits spelt in letters (12: 'bc'): people are matched on the letters of
    their names, so 'Example1' and 'Example2' would be taken for one family."""
    return "".join("abcdefghij"[int(d)] for d in str(n))


def first_routed_example(profile: Profile, where: Callable[[dict], bool] | None = None,
                         what: str = "") -> tuple[int, dict]:
    """The first worked example routed to a service without review or a statutory route: the
    profile's everyday referral (with `where`, the first such example it accepts; `what`
    says what that looks for, for the error)."""
    statutory = {s.id for s in profile.services.values() if s.statutory}
    for n, example in enumerate(load_examples(profile)):
        expected = example.get("expected") or {}
        routes = expected.get("routes") or []
        if (example.get("people") and routes and not expected.get("needs_review")
                and "open_family_support" not in example
                and not any(r["service"] in statutory for r in routes)
                and (where is None or where(example))):
            return n, example
    raise LookupError(f"profile {profile.id} has no worked example routed to a service"
                      + (f" ({what})" if what else ""))
