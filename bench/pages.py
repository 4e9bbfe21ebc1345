"""Server time of each staff page with 50,000 referrals on SQLite, or 1,000,000 on PostgreSQL
(target: every page's median < 100 ms and p95 < 250 ms).

Loading: every referral goes through the real intake service (intake.submit_referral: the
schema, matching, the rules, routing, the outbox), from the demo generator's scenarios, with
the outbox relay switched off (notifications are not what is measured). Then one documented
shortcut: referrals are spread over the last two years (received_at, and their cases'
opened_at and due moments shifted back by the same amount), so "new today" holds about a
day's referrals and the overdue list is as long as it would be if nobody worked the cases.
A loaded database is kept (--db) and reused on the next run.

Timing: each page is requested through the whole Flask stack (WSGI, session lookup, CSRF,
the service calls, the templates) in this process, signed in as the right role; the server
time is the wall time of the request. Prints median and p95 over --repeat requests.

PostgreSQL (--postgres): a throwaway database, dropped afterwards. First the demo loader makes
TEMPLATES referrals through the real services (intake, routing, case events with the real
case service, due moments from the pathways, the escalation sweep); then those rows are
copied with COPY into --referrals referrals spread over the last five years, each clone
with new ids, a new reference, its own household and people, and every moment moved by the
same amount (open cases' due moments too, so old open cases are overdue as nobody worked
them). Two shapes: `closed` (as in a real council: referrals older than six months are
cloned only from templates whose cases are all closed and whose referral is settled, so
about 90% of cases are closed and the open ones are recent) and `open` (cloned only from
templates with no closed case: every case is open).

The profile is TRIAGE_PROFILE's: its demo accounts sign in, its everyday referral fills the
form, its body's service is the coordinators' team; a profile with no meeting (no pathway
has a `meeting:` block) has no hub pages, and the output says they were not measured.

    .venv/bin/python bench/pages.py [--referrals 50000] [--repeat 20] [--db PATH]
    .venv/bin/python bench/pages.py --postgres [--shape closed|open] [--referrals 1000000]
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, func, text
from sqlmodel import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    PROFILE,
    case_cycle,
    default_profile,
    demo_data,
    demo_email,
    demo_user,
    example_body,
    has_needs,
    meeting,
    meeting_note,
    route_of,
)
from config.settings import Settings  # noqa: E402

TARGET_MS = 100.0
TARGET_P95_MS = 250.0
SPREAD_DAYS = 730


class _NoRelay:
    """The relay while loading: outbox messages stay pending (the bench measures pages, not
    notifications), so handing them on, stopping and ticking have nothing to do."""

    def after_commit(self, ids):
        """Leave the committed messages pending; the bench never delivers them."""

    def stop(self):
        """No thread or timer was started."""

    def tick(self):
        """No sweep: pending messages are what a busy outbox would hold."""


def build(db: Path, referrals: int):
    from triage import create_app
    from triage.migrations import upgrade

    url = f"sqlite:///{db}"
    engine = create_engine(url)
    upgrade(engine)  # a reused database also gets any newer migration
    engine.dispose()
    settings = Settings(env="test", instance_path=db.parent / "instance", database_url=url,
                        secret_key="bench-pages-secret-" + "x" * 32, profile=PROFILE)
    app = create_app(settings, background=False)
    rt = app.extensions["triage"]
    rt.relay = _NoRelay()
    load(rt, referrals)
    return app, rt


def load(rt, referrals: int) -> None:
    from triage.demo import demo_referral, ensure_demo_users
    from triage.errors import ValidationFailed
    from triage.models import Referral
    from triage.services.referrals import intake

    users = {u.email: u for u in ensure_demo_users(rt)}
    with rt.db.reader() as session:
        have = session.exec(select(func.count()).select_from(Referral)).one()
    if have >= referrals:
        print(f"database has {have} referrals already")
        return
    partners = demo_data().with_role("partner")[:2]
    senders = [("staff", users[demo_email("front_door")]), ("self", None),
               *(("partner", users[p.email]) for p in partners)]
    rng = random.Random(50_000)
    started = time.perf_counter()
    made = 0
    for n in range(referrals - have):
        channel, user = senders[rng.randrange(len(senders))]
        body = demo_referral(rng, rt, channel)
        if channel == "partner":
            body["referrer"] = {"organisation": user.organisation, "name": user.name}
        try:
            intake.submit_referral(rt, user=user, body=body)
            made += 1
        except ValidationFailed:
            continue
        if (n + 1) % 5000 == 0:
            rate = made / (time.perf_counter() - started)
            print(f"  {have + made} referrals loaded ({rate:.0f}/s)", flush=True)
    print(f"loaded {made} referrals through intake in {time.perf_counter() - started:.0f} s")
    spread(rt)


def spread(rt) -> None:
    """Spread referrals over the last two years: the documented shortcut (see above)."""
    shift = f"'-' || (r.id % {SPREAD_DAYS}) || ' days'"
    with rt.db.engine.begin() as conn:
        conn.execute(text(f"UPDATE case_record SET opened_at = datetime(opened_at, {shift}), "
                          f"next_due_at = datetime(next_due_at, {shift}) "
                          "FROM referral r WHERE r.id = case_record.referral_id"))
        conn.execute(text(f"UPDATE case_event SET at = datetime(at, {shift}) FROM case_record c "
                          "JOIN referral r ON r.id = c.referral_id "
                          "WHERE c.id = case_event.case_id"))
        conn.execute(text(f"UPDATE referral SET received_at = datetime(received_at, "
                          f"'-' || (id % {SPREAD_DAYS}) || ' days')"))
        conn.execute(text("ANALYZE"))


# --- PostgreSQL: a million referrals cloned with COPY from ones the real services made ---

TEMPLATES = 400
YEARS = 5
RECENT_DAYS = 183  # the closed shape: older referrals are settled, their cases closed
CLONED = ("household", "person", "household_member", "referral", "referral_person",
          "decision", "case_record", "case_event")


def build_postgres(url: str, referrals: int, shape: str):
    from bench.common import migrated_app
    from triage.demo import load_demo

    app = migrated_app(url)
    rt = app.extensions["triage"]
    rt.relay = _NoRelay()
    started = time.perf_counter()
    logging.disable(logging.INFO)  # a line per referral and event: not what is measured
    load_demo(rt, referrals=TEMPLATES, seed=15)
    print(f"made {TEMPLATES} template referrals through the services in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    bulk_load(rt, url, referrals, shape)
    print(f"copied in {referrals} referrals ({shape} shape) in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    return app, rt


def _templates(conn) -> dict:
    """Every template row by table, grouped under the referral it belongs to."""
    from sqlmodel import SQLModel

    tables = {name: SQLModel.metadata.tables[name] for name in CLONED}
    rows = {name: [dict(r._mapping) for r in conn.execute(tables[name].select()
                                                          .order_by(*tables[name].primary_key))]
            for name in CLONED}
    cases_of: dict[int, list] = {}
    for c in rows["case_record"]:
        cases_of.setdefault(c["referral_id"], []).append(c)
    events_of: dict[int, list] = {}
    for e in rows["case_event"]:
        events_of.setdefault(e["case_id"], []).append(e)
    people_of: dict[int, list] = {}
    for rp in rows["referral_person"]:
        people_of.setdefault(rp["referral_id"], []).append(rp)
    persons = {p["id"]: p for p in rows["person"]}
    members_of: dict[int, list] = {}
    for m in rows["household_member"]:
        members_of.setdefault(m["household_id"], []).append(m)
    households = {h["id"]: h for h in rows["household"]}
    decisions_of: dict[int, list] = {}
    for d in rows["decision"]:
        decisions_of.setdefault(d["referral_id"], []).append(d)
    out = []
    for r in rows["referral"]:
        out.append({"referral": r, "decisions": decisions_of.get(r["id"], []),
                    "cases": cases_of.get(r["id"], []),
                    "events": [e for c in cases_of.get(r["id"], [])
                               for e in events_of.get(c["id"], [])],
                    "people": people_of.get(r["id"], []),
                    "persons": {rp["person_id"]: persons[rp["person_id"]]
                                for rp in people_of.get(r["id"], [])},
                    "household": households.get(r["household_id"]),
                    "members": members_of.get(r["household_id"], [])})
    return {"tables": tables, "referrals": out}


def _pools(templates: list[dict], shape: str) -> tuple[list[dict], list[dict]]:
    """(templates for old referrals, templates for recent ones) in the shape asked for."""
    if shape == "open":
        pool = [t for t in templates if all(c["closed_at"] is None for c in t["cases"])]
        return pool, pool
    settled = [t for t in templates if t["referral"]["status"] in ("routed", "closed")
               and all(c["closed_at"] is not None for c in t["cases"])]
    return settled, templates


def bulk_load(rt, url: str, referrals: int, shape: str) -> None:
    import json
    from datetime import datetime, timedelta

    from triage.models.base import utcnow

    engine = create_engine(url)
    with engine.connect() as conn:
        loaded = _templates(conn)
        next_id = {name: (conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {name}"))
                          .scalar() + 1)
                   for name in ("household", "person", "referral", "decision", "case_record",
                                "case_event")}
    tables = loaded["tables"]
    old_pool, recent_pool = _pools(loaded["referrals"], shape)
    print(f"templates: {len(old_pool)} for old referrals, {len(recent_pool)} for recent",
          flush=True)
    columns = {name: [c.name for c in tables[name].columns] for name in CLONED}
    json_columns = {name: {c.name for c in tables[name].columns
                           if c.type.__class__.__name__ in ("JSON", "JSONB")
                           or "JSON" in repr(c.type)} for name in CLONED}
    now = utcnow()
    rng = random.Random(15)
    profile = rt.profile

    def row(name: str, values: dict, shift: timedelta, **changes) -> tuple:
        out = []
        for column in columns[name]:
            v = changes[column] if column in changes else values[column]
            if isinstance(v, datetime):
                v = v + shift if column not in changes else v
            elif column in json_columns[name] and v is not None:
                v = json.dumps(v)
            out.append(v)
        return tuple(out)

    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        # One COPY per table at a time: each table's rows are written in a pass of their own.
        plan = []
        for _ in range(referrals):
            age = timedelta(days=rng.random() * 365 * YEARS)
            pool = recent_pool if age.days < RECENT_DAYS else old_pool
            plan.append((rng.randrange(len(pool)), age, pool is recent_pool))
        ids = dict(next_id)
        for name in CLONED:
            with cur.copy(f"COPY {name} ({', '.join(columns[name])}) FROM STDIN") as copy:
                ids = dict(next_id)
                for choice, age, recent in plan:
                    t = (recent_pool if recent else old_pool)[choice]
                    r = t["referral"]
                    received = now - age
                    shift = received - r["received_at"]
                    referral_id = ids["referral"]
                    household_id = ids["household"] if t["household"] else None
                    person_ids = {old: ids["person"] + i for i, old in enumerate(t["persons"])}
                    case_ids = {c["id"]: ids["case_record"] + i for i, c in enumerate(t["cases"])}
                    if name == "household" and t["household"]:
                        copy.write_row(row(name, t["household"], shift, id=household_id))
                    elif name == "person":
                        for old, new in person_ids.items():
                            copy.write_row(row(name, t["persons"][old], shift, id=new))
                    elif name == "household_member" and t["household"]:
                        for m in t["members"]:
                            if m["person_id"] in person_ids:
                                copy.write_row(row(name, m, shift, household_id=household_id,
                                                   person_id=person_ids[m["person_id"]]))
                    elif name == "referral":
                        copy.write_row(row(
                            name, r, shift, id=referral_id, household_id=household_id,
                            reference=profile.reference_for(received, referral_id),
                            linked_referral_id=None,
                            re_referral_of_case_id=None, re_referral_closed_at=None))
                    elif name == "referral_person":
                        for rp in t["people"]:
                            copy.write_row(row(name, rp, shift, referral_id=referral_id,
                                               person_id=person_ids[rp["person_id"]]))
                    elif name == "decision":
                        for i, d in enumerate(t["decisions"]):
                            copy.write_row(row(name, d, shift, id=ids["decision"] + i,
                                               referral_id=referral_id))
                    elif name == "case_record":
                        for c in t["cases"]:
                            due = c["next_due_at"] + shift if c["next_due_at"] else None
                            since = (c["overdue_since"] + shift if c["overdue_since"]
                                     else due if due is not None and due <= now else None)
                            copy.write_row(row(name, c, shift, id=case_ids[c["id"]],
                                               referral_id=referral_id,
                                               household_id=household_id,
                                               source_case_id=case_ids.get(c["source_case_id"]),
                                               next_due_at=due, overdue_since=since))
                    elif name == "case_event":
                        for i, e in enumerate(t["events"]):
                            copy.write_row(row(name, e, shift, id=ids["case_event"] + i,
                                               case_id=case_ids[e["case_id"]]))
                    ids["referral"] += 1
                    ids["household"] += 1 if t["household"] else 0
                    ids["person"] += len(t["persons"])
                    ids["decision"] += len(t["decisions"])
                    ids["case_record"] += len(t["cases"])
                    ids["case_event"] += len(t["events"])
            raw.commit()
            print(f"  {name} copied", flush=True)
        for name in next_id:
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM {name}))")
        raw.commit()
        raw.driver_connection.autocommit = True
        cur.execute("VACUUM ANALYZE")
    finally:
        raw.close()
        engine.dispose()


def signed_in(app, email: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": "early-help-demo-2026",
                                           "csrf_token": token})
    assert response.status_code == 302, "sign-in failed"
    return client


def prepare_meeting(app, rt) -> None:
    """Put up to 20 of the coordinator's hub's new cases on the next meeting's agenda (none
    when the profile has no meeting)."""
    from triage.models import Case

    hub = meeting()
    if hub is None:
        return
    with rt.db.reader() as session:
        on_agenda = session.exec(select(func.count()).select_from(Case).where(
            Case.service == hub.service, Case.instance == hub.instance,
            Case.state == hub.agenda)).one()
        ids = session.exec(select(Case.id).where(
            Case.service == hub.service, Case.instance == hub.instance, Case.state == hub.new)
            .order_by(Case.id.desc()).limit(max(0, 20 - on_agenda))).all()
    if not ids:
        return
    from sqlmodel import Session

    from triage.models import User
    from triage.services.hub import meetings

    with Session(rt.db.engine) as session:
        user = session.exec(select(User).where(User.email == hub.coordinator)).one()
    meetings.add_to_agenda(rt, user=user, case_ids=list(ids))


def coordinators() -> tuple[str, str, str | None]:
    """(service, email, instance or None) of the team whose pages are measured: the
    practitioners of the service the profile's everyday referral goes to."""
    service, _ = route_of()
    user = demo_user("practitioner", service)
    return service, user.email, (user.team or "").partition(":")[2] or None


def sample(rt) -> dict:
    from triage.models import Case, Referral

    service, _, instance = coordinators()
    hub = meeting()
    with rt.db.reader() as session:
        reference = session.exec(select(Referral.reference).where(
            Referral.status == "routed").order_by(Referral.id.desc())).first()
        team_case = session.exec(select(Case.id).where(
            Case.service == service, Case.state == rt.pathways.for_service(service).initial_state,
            *([Case.instance == instance] if instance else []))
            .order_by(Case.id.desc())).first()
        hub_case = hub and session.exec(select(Case.id).where(
            Case.service == hub.service, Case.instance == hub.instance,
            Case.state == hub.agenda)).first()
        household = session.exec(select(Referral.household_id).where(
            Referral.reference == reference)).first()
        biggest = session.exec(select(Case.service).group_by(Case.service)
                               .order_by(func.count().desc(), Case.service)).first()
    return {"reference": reference, "team_case": team_case, "hub_case": hub_case,
            "household": household, "biggest": biggest}


def check_form() -> dict:
    """The new referral form filled in with the profile's first everyday referral that has
    some needs, for "check the decision"."""
    body = example_body(has_needs, "some needs")
    form = {"person_rows": str(max(3, len(body["people"]))), "postcode": body["postcode"],
            "consent": "given", "action": "check"}
    for i, person in enumerate(body["people"]):
        year, month, day = person["date_of_birth"].split("-")
        form.update({f"people-{i}-given_name": person["given_name"],
                     f"people-{i}-family_name": person["family_name"],
                     f"people-{i}-dob-day": str(int(day)), f"people-{i}-dob-month": str(int(month)),
                     f"people-{i}-dob-year": year})
        if person.get("relationship"):
            form[f"people-{i}-relationship"] = person["relationship"]
    for question, answer in body["answers"].items():
        form[f"answer-{question}"] = "yes" if answer else "no"
    if body["information_only"]:
        form["information_only"] = "yes"
    return form


def time_page(client, method: str, path: str, data: dict | None, repeat: int) -> list[float]:
    times = []
    for i in range(repeat + 2):
        if method == "POST":
            page = client.get(path).get_data(as_text=True)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            started = time.perf_counter()
            response = client.post(path, data={**data, "csrf_token": token})
        else:
            started = time.perf_counter()
            response = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code in (200, 422), (path, response.status_code)
        if i >= 2:  # the first two warm caches (templates, statements)
            times.append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=None,
                        help="50,000 on SQLite (through intake), 1,000,000 on PostgreSQL")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / (
        "triage-bench-pages.sqlite3" if default_profile() == PROFILE
        else f"triage-bench-pages-{PROFILE}.sqlite3"))
    parser.add_argument("--postgres", action="store_true",
                        help="a throwaway PostgreSQL database, bulk loaded, dropped afterwards")
    parser.add_argument("--shape", choices=("closed", "open"), default="closed",
                        help="PostgreSQL: most cases old and closed, or every case open")
    parser.add_argument("--url", help="measure this already loaded PostgreSQL database "
                                      "(migrated to this checkout's head first; not dropped)")
    parser.add_argument("--keep", action="store_true",
                        help="with --postgres: keep the loaded database (for --url runs)")
    args = parser.parse_args()
    if args.url:
        from bench.common import migrated_app

        app = migrated_app(args.url)
        logging.disable(logging.INFO)
        measure(app, app.extensions["triage"], f"PostgreSQL at {args.url}", args.repeat)
    elif args.postgres and args.keep:
        from sqlalchemy.engine import make_url

        from bench.common import PG_ADMIN

        name = f"triage_bench_kept_{args.shape}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
        app, rt = build_postgres(url, args.referrals or 1_000_000, args.shape)
        rt.db.dispose()
        print(f"kept {url}: measure it with --url, then DROP DATABASE \"{name}\"")
    elif args.postgres:
        from bench.common import throwaway_postgres

        with throwaway_postgres() as url:
            app, rt = build_postgres(url, args.referrals or 1_000_000, args.shape)
            measure(app, rt, f"PostgreSQL, {args.shape} shape", args.repeat)
    else:
        app, rt = build(args.db, args.referrals or 50_000)
        measure(app, rt, str(args.db), args.repeat)


def measure(app, rt, where: str, repeat: int) -> None:
    prepare_meeting(app, rt)
    ids = sample(rt)
    from triage.models import Case, Referral

    with rt.db.reader() as session:
        total = session.exec(select(func.count()).select_from(Referral)).one()
        cases = session.exec(select(func.count()).select_from(Case)).one()
        open_cases = session.exec(select(func.count()).select_from(Case)
                                  .where(Case.closed_at.is_(None))).one()
        held = meeting()
        agenda = held and session.exec(select(func.count()).select_from(Case).where(
            Case.service == held.service, Case.instance == held.instance,
            Case.state == held.agenda)).one()
    service, coordinator, _ = coordinators()
    front = signed_in(app, demo_email("front_door"))
    team = signed_in(app, coordinator)
    partner = signed_in(app, demo_data().first_with_role("partner").email)
    event = case_cycle(service)[0][0]
    pages = [
        ("front door: worklists", front, "GET", "/front-door/", None),
        ("front door: new today", front, "GET", "/front-door/worklists/new_today", None),
        ("front door: awaiting consent", front, "GET",
         "/front-door/worklists/awaiting_consent", None),
        ("front door: needs review", front, "GET", "/front-door/worklists/needs_review", None),
        ("front door: overdue", front, "GET", "/front-door/worklists/overdue", None),
        ("front door: new referral form", front, "GET", "/referrals/new", None),
        ("front door: check decision (POST)", front, "POST", "/referrals/new", check_form()),
        ("referral page", front, "GET", f"/referrals/{ids['reference']}", None),
        ("family page", front, "GET", f"/families/{ids['household']}", None),
        ("cases of the biggest team (front door)", front, "GET",
         f"/cases/?team={ids['biggest']}", None),
        ("team cases (coordinators)", team, "GET", "/cases/", None),
        ("case page", team, "GET", f"/cases/{ids['team_case']}", None),
        ("case event form", team, "GET", f"/cases/{ids['team_case']}/events/{event}", None),
    ]
    if held is not None:
        hub = signed_in(app, held.coordinator)
        pages += [
            ("hub queue", hub, "GET", "/hub/", None),
            ("hub meeting", hub, "GET", "/hub/meeting", None),
            (f"hub meeting pack ({agenda} cases)", hub, "GET", "/hub/meeting/pack", None),
            ("hub decision form", hub, "GET", f"/hub/meeting/cases/{ids['hub_case']}", None),
        ]
    pages.append(("partner: own referrals", partner, "GET", "/partner/", None))
    print(f"\n{total} referrals, {cases} cases ({open_cases} open) in {where}; "
          f"{repeat} requests per page; load {_load()}")
    if held is None:
        print(meeting_note())
    print(f"{'page':40} {'median ms':>10} {'p95 ms':>8}  under {TARGET_MS:.0f}/"
          f"{TARGET_P95_MS:.0f} ms")
    worst = worst_p95 = 0.0
    for name, client, method, path, data in pages:
        times = sorted(time_page(client, method, path, data, repeat))
        median = statistics.median(times)
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        worst, worst_p95 = max(worst, median), max(worst_p95, p95)
        met = median < TARGET_MS and p95 < TARGET_P95_MS
        print(f"{name:40} {median:10.1f} {p95:8.1f}  {'yes' if met else 'NO'}", flush=True)
    print(f"\nslowest page median: {worst:.1f} ms (target < {TARGET_MS:.0f} ms); "
          f"worst p95: {worst_p95:.1f} ms (target < {TARGET_P95_MS:.0f} ms); load {_load()}")
    rt.db.dispose()


def _load() -> str:
    import os

    return " ".join(f"{n:.1f}" for n in os.getloadavg())

if __name__ == "__main__":
    main()
