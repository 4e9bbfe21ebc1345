"""What the benchmarks share: the repository root on sys.path, a throwaway PostgreSQL
database per run, a temporary SQLite file, and the profile they run (TRIAGE_PROFILE): referral
bodies from its worked examples, its demo accounts, its meeting (if any) and coordinator, its
postcode area, and a case's cycle along its pathway. No bench names a council's services,
places or accounts: each takes them from here."""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("TRIAGE_TEST_POSTGRES_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def default_profile() -> str:
    """The profile the service runs when TRIAGE_PROFILE is not set (Settings' default)."""
    from config.settings import Settings

    return Settings.profile


# The council profile the benchmarks run (TRIAGE_PROFILE, as the service reads it; unset,
# the service's default).
PROFILE = os.environ.get("TRIAGE_PROFILE") or default_profile()

# What a generated value for a pathway event's field is, by the field's kind (a code field
# takes one of its choices: needs_met when it is one).
_FIELD_VALUES = {"text": "Talked with the family; agreed next steps.",
                 "connections": [{"organisation": "Citizens Advice",
                                  "need": "money and benefits"}]}
# Why a case is put on hold, the first time and the second (a cycle holds it twice).
HOLD_REASONS = ("Away", "In hospital")
# Effects that take a case out of its pathway (back to the front door, to another service):
# a benchmark's cycle never fires an event that has one.
_LEAVES_PATHWAY = {"return_to_front_door", "open_statutory_referral",
                   "open_early_help_referral", "open_lead_agency_case"}


@cache
def profile():
    """The profile the benchmarks run, loaded once."""
    from config.profile import load_profile

    return load_profile(PROFILE)


def routed_example(where: Callable[[dict], bool] | None = None, what: str = ""
                   ) -> tuple[int, dict]:
    """(n, example): the profile's first everyday worked example (routed to a service, no
    review, no statutory route) that `where` accepts."""
    from rules.examples import first_routed_example

    return first_routed_example(profile(), where, what)


def example_body(where: Callable[[dict], bool] | None = None, what: str = "", *,
                 channel: str = "partner", organisation: str = "Fire and Rescue Service"
                 ) -> dict[str, Any]:
    """A referral body from the first everyday worked example `where` accepts."""
    from datetime import date

    from rules.examples import referral_body

    n, example = routed_example(where, what)
    return referral_body(example, today=date.today(), n=n, channel=channel,
                         organisation=organisation if channel == "partner" else None)


def profile_body(profile_id: str = PROFILE) -> dict[str, Any]:
    """A partner's referral from the profile's first everyday worked example (routed to a
    service, no review, no statutory route)."""
    from datetime import date

    from config.profile import load_profile
    from rules.examples import first_routed_example, referral_body

    n, example = first_routed_example(load_profile(profile_id))
    return referral_body(example, today=date.today(), n=n, channel="partner",
                         organisation="Fire and Rescue Service")


def _ages(example: dict) -> list[int]:
    """The example's people's ages in years on its referral date."""
    from datetime import date

    on = date.fromisoformat(str(example.get("referral_date", "2026-11-02")))
    ages = []
    for person in example.get("people") or []:
        born = date.fromisoformat(str(person["date_of_birth"]))
        ages.append(on.year - born.year - ((on.month, on.day) < (born.month, born.day)))
    return ages


def is_family(example: dict) -> bool:
    """A child and an adult, some needs, one service: an everyday family referral."""
    ages = _ages(example)
    return (any(a < 18 for a in ages) and any(a >= 18 for a in ages)
            and any(v is True for v in (example.get("answers") or {}).values())
            and len(example["expected"]["routes"]) == 1)


def is_adult_alone(example: dict) -> bool:
    """One adult with some needs: an everyday adult referral."""
    ages = _ages(example)
    return (len(ages) == 1 and ages[0] >= 18
            and any(v is True for v in (example.get("answers") or {}).values()))


def has_needs(example: dict) -> bool:
    """Some question answered yes (not a request for information only)."""
    return any(v is True for v in (example.get("answers") or {}).values())


BODY = profile_body()


def route_of(where: Callable[[dict], bool] | None = None) -> tuple[str, str | None]:
    """(service, instance) the example `where` accepts is routed to (its first route); with
    no `where`, BODY's."""
    _, example = routed_example(where)
    route = example["expected"]["routes"][0]
    return route["service"], route.get("instance")


def postcode_area() -> str:
    """The letters of the postcode area most of the profile's localities are in (synthetic
    postcodes use it, so they look like the county's own)."""
    from collections import Counter

    areas = Counter(sector.split()[0].rstrip("0123456789") for sector in profile().localities)
    return areas.most_common(1)[0][0]


def synthetic_postcode(rng, area: str | None = None) -> str:
    """A made-up postcode unit in the profile's main postcode area (most are in no locality:
    the people loaders only need postcodes that look real)."""
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return (f"{area or postcode_area()}{rng.randint(1, 67)} {rng.randint(0, 9)}"
            f"{rng.choice(letters)}{rng.choice(letters)}")


@cache
def demo_data():
    """The profile's demo data (demo.yaml): its accounts and partners."""
    from config.demo import read_demo_data

    demo, problems = read_demo_data(profile())
    if demo is None or problems:
        raise LookupError(f"profile {PROFILE}: the demo data does not load: "
                          + "; ".join(map(str, problems)))
    return demo


def demo_user(role: str, service: str | None = None, instance: str | None = None):
    """The profile's first demo account with this role (whose team works `service`, and
    `instance` of it, when given: a whole-service team first)."""
    found = [u for u in demo_data().with_role(role)
             if service is None or (u.team or "").partition(":")[0] == service]
    if instance is not None:
        found = [u for u in found if (u.team or "").partition(":")[2] in ("", instance)]
    found.sort(key=lambda u: ":" in (u.team or "") if service else 0)
    if not found:
        raise LookupError(f"profile {PROFILE}: demo.yaml has no {role} account"
                          + (f" of a {service} team" if service else ""))
    return found[0]


def demo_email(role: str, service: str | None = None, instance: str | None = None) -> str:
    return demo_user(role, service, instance).email


@dataclass(frozen=True)
class Meeting:
    """The profile's meeting (a pathway's `meeting:` block): its service, the instance its
    demo coordinator runs, the coordinator's email, and the states a case waits in before
    (`new`) and on (`agenda`) the meeting's agenda."""

    service: str
    instance: str
    coordinator: str
    new: str
    agenda: str


@cache
def meeting() -> Meeting | None:
    """The profile's meeting and its demo coordinator, or None: no pathway has a meeting
    (no hub pages, no coordinators)."""
    import workflows

    found = workflows.load_pathways(profile()).data.meeting_pathways
    if not found:
        return None
    spec = found[0]
    user = demo_user("hub_coordinator", spec.service)
    instance = (user.team or "").partition(":")[2]
    if not instance:
        raise LookupError(f"profile {PROFILE}: the demo coordinator {user.email} has no "
                          f"instance of {spec.service}")
    return Meeting(service=spec.service, instance=instance, coordinator=user.email,
                   new=spec.meeting.new, agenda=spec.meeting.agenda)


def meeting_note() -> str:
    return (f"profile {PROFILE} has no meeting (no pathway has a meeting: block): the meeting "
            "pages are not measured")


def case_cycle(service: str) -> list[tuple[str, dict[str, Any]]]:
    """A case of the service from opening to closure along its pathway, as (event, fields):
    to the nearest state where the service has accepted it, on to one where the work is in
    progress, put on hold and resumed twice (when the pathway holds cases there), then
    closed (completed). Events that send the case out of its pathway, reopen or cancel it
    are never taken; each event gets a value for every field it needs."""
    from datetime import date

    import workflows
    from workflows.states import TaskStatus

    pathway = workflows.load_pathways(profile()).for_service(service)
    fields = pathway.data.fields

    def forward(row) -> bool:
        return not (pathway.states[row.dest].on_hold
                    or "is_held_from_this_state" in row.guards
                    or "is_within_reopen_window" in row.guards
                    or _LEAVES_PATHWAY & set(row.effects))

    def shortest(start: str, goal: Callable[[str], bool]) -> list:
        # Forward only, and never on out of a closed state that is not the goal.
        return pathway.shortest_route(start, goal, lambda row: forward(row) and (
            row.source == start or not pathway.is_closed(row.source))) or []

    def payload(row, text: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in row.needs:
            choices = list(row.choices.get(name) or {})
            kind = fields[name].kind if name in fields else "text"
            if choices:
                out[name] = "needs_met" if "needs_met" in choices else choices[0]
            elif kind == "date":
                out[name] = date.today().isoformat()
            else:
                out[name] = text if text and kind == "text" else _FIELD_VALUES.get(
                    kind, _FIELD_VALUES["text"])
        return out

    state = pathway.initial_state
    rows = shortest(state, lambda s: pathway.states[s].accepted)
    state = rows[-1].dest if rows else state
    if not pathway.is_closed(state):
        more = shortest(state, lambda s: pathway.states[s].status is TaskStatus.IN_PROGRESS
                        and not pathway.is_closed(s))
        rows += more
        state = more[-1].dest if more else state
    cycle = [(row.event, payload(row)) for row in rows]
    if pathway.is_closed(state):
        return cycle
    hold = next((r for r in pathway.transitions
                 if r.source == state and pathway.states[r.dest].on_hold), None)
    resume = hold and next((r for r in pathway.transitions
                            if r.source == hold.dest and r.dest == state), None)
    if hold and resume:
        for reason in HOLD_REASONS:
            cycle += [(hold.event, payload(hold, reason)), (resume.event, payload(resume))]
    closing = shortest(state, lambda s: pathway.is_closed(s)
                       and pathway.states[s].status is TaskStatus.COMPLETED)
    if not closing:
        raise LookupError(f"profile {PROFILE}: no way from {state} to a completed state in "
                          f"the {service} pathway")
    return cycle + [(row.event, payload(row)) for row in closing]


def sqlite_url() -> str:
    folder = Path(tempfile.mkdtemp(prefix="bench-sqlite-"))
    return f"sqlite:///{folder / 'bench.sqlite3'}"


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database for one run, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"triage_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def on_each_backend(only: str | None, run: Callable[[str, str], T]) -> dict[str, T]:
    """run(name, url) on SQLite (a temporary file) and PostgreSQL (a throwaway database),
    or on `only` of them."""
    results: dict[str, T] = {}
    if only in (None, "sqlite"):
        results["sqlite"] = run("sqlite", sqlite_url())
    if only in (None, "postgres"):
        with throwaway_postgres() as url:
            results["postgres"] = run("postgres", url)
    return results


def migrated_app(url: str, **settings: Any):
    """The app on a freshly migrated database, as the tests build it (no background
    threads but the embedded relay)."""
    from sqlalchemy import create_engine

    from config.settings import Settings
    from triage import create_app
    from triage.migrations import upgrade

    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    return create_app(Settings(env="test", database_url=url, secret_key="b" * 40,
                               instance_path=Path(tempfile.mkdtemp(prefix="bench-instance-")),
                               **{"profile": PROFILE, **settings}), background=False)
