"""The audit trail with 1,000,000 audit events and the notifications page with 100,000
notifications, on PostgreSQL (target: each median < 100 ms).

Loading: the demo users and 300 more staff (COPY); one family referred 20 times through the
real intake service (so the person filter has real households, referrals and cases to find);
100,000 other people in 40,000 households (bench/people.py's loader); then 1M audit events
over two years by those users on cases, referrals, people, households and accounts, with the
actions' and users' frequencies skewed as in real use (a few busy staff, case.view and
referral.view most of all), 400 of them on the family; and 100,000 notifications to the
teams, users and the managers' inbox, half of the reader's team's read by the reader: the
profile's hub coordinator (its meeting's), or, when the profile has no meeting, its first
practitioner of one team of one instance. Everything is ANALYZEd.

Timing: through the whole Flask stack (the /audit page signed in as a manager, the
notifications page and the unread count as the reader): for each filter
the first page and a deep page (the keyset cursor of the event 80% of the way down the
filter's matches), median and p95 over --repeat requests. Each /audit request also writes
its own audit.view row, as in real use.

    .venv/bin/python bench/audit.py [--events 1000000] [--notifications 100000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    demo_data,
    demo_email,
    meeting,
    migrated_app,
    profile,
    throwaway_postgres,
)
from bench.pages import signed_in  # noqa: E402
from bench.people import bulk_load, family_of_twenty  # noqa: E402

TARGET_MS = 100.0
STAFF = 300
ACTIONS = [("case.view", 30), ("referral.view", 20), ("case.list", 12), ("person.view", 8),
           ("person.search", 6), ("referral.list", 5), ("household.view", 4),
           ("referral.create", 4), ("case.note", 3), ("consent.recorded", 2),
           ("decision.override", 1), ("signin.ok", 3), ("signout", 1),
           ("case.escalated", 1), ("person.export", 0.05), ("person.restricted", 0.02)]
OBJECTS = {"case.view": "case", "case.list": "case", "case.note": "case",
           "case.escalated": "case", "referral.view": "referral", "referral.list": "referral",
           "referral.create": "referral", "consent.recorded": "referral",
           "decision.override": "referral", "person.view": "person", "person.search": "person",
           "person.export": "person", "person.restricted": "person",
           "household.view": "household", "signin.ok": "user", "signout": "user"}
ROUTES = {"case": "/cases/<int:case_id>", "referral": "/referrals/<reference>",
          "person": "/people/<int:person_id>", "household": "/families/<int:household_id>",
          "user": "/login"}


def reader() -> tuple[str, str, str]:
    """(email, team, what to call them) of the staff member whose notifications are read:
    the meeting's coordinator, or the first practitioner of a one-instance team."""
    held = meeting()
    if held is not None:
        return held.coordinator, f"{held.service}:{held.instance}", "hub coordinator"
    user = next((u for u in demo_data().with_role("practitioner") if ":" in (u.team or "")),
                None)
    if user is None:
        raise LookupError("the profile's demo data has no practitioner of one instance")
    return user.email, user.team, "practitioner"


def recipients(team: str) -> list[str]:
    """Who the notifications go to: the reader's team first, two other instances of its
    service, the first instance of two other services, the front door and the managers."""
    service, _, instance = team.partition(":")
    services = profile().services
    others = [i for i in services[service].instances if i != instance][:2]
    elsewhere = [f"{s}:{next(iter(spec.instances))}" for s, spec in services.items()
                 if s != service and spec.instances][:2]
    return [f"team:{team}", *(f"team:{service}:{i}" for i in others),
            *(f"team:{t}" for t in elsewhere), "team:front_door", "managers"]


def load_staff(url: str, first_id: int) -> list[int]:
    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        roles = ["practitioner", "hub_coordinator", "front_door", "manager"]
        with cur.copy("COPY user_account (id, email, name, role, team, active, created_at, "
                      "generation, must_change_password) FROM STDIN") as copy:
            for i in range(STAFF):
                copy.write_row((first_id + i, f"staff{i}@bench.test", f"Staff Member {i}",
                                roles[i % 4], None, True, "2025-01-01", 0, False))
        cur.execute("SELECT setval(pg_get_serial_sequence('user_account', 'id'), "
                    "(SELECT max(id) FROM user_account))")
        raw.commit()
        cur.execute("SELECT id FROM user_account ORDER BY id")
        return [row[0] for row in cur.fetchall()]
    finally:
        raw.close()
        engine.dispose()


def load_audit(url: str, events: int, users: list[int], family: dict[str, list[int]]) -> None:
    rng = random.Random(15)
    actions = [a for a, _ in ACTIONS]
    weights = [w for _, w in ACTIONS]
    user_weights = [1 / (i + 1) ** 0.8 for i in range(len(users))]
    ceiling = {"case": 300_000, "referral": 300_000, "person": 100_000, "household": 40_000,
               "user": max(users)}
    start = datetime(2024, 12, 1, tzinfo=UTC)
    span = 2 * 365 * 86_400
    moments = sorted(rng.randrange(span * 1_000_000) for _ in range(events))
    family_rows = set(rng.sample(range(events), 400))
    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy("COPY audit_event (at, actor_id, action, object_type, object_id, "
                      "detail, route) FROM STDIN") as copy:
            for n, micros in enumerate(moments):
                action = rng.choices(actions, weights)[0]
                kind = OBJECTS[action]
                if n in family_rows:
                    kind = rng.choice([k for k in family if family[k]])
                    object_id = rng.choice(family[kind])
                    action = {"case": "case.view", "referral": "referral.view",
                              "person": "person.view", "household": "household.view"}[kind]
                else:
                    object_id = rng.randint(1, ceiling[kind])
                copy.write_row((start + timedelta(microseconds=micros),
                                rng.choices(users, user_weights)[0], action, kind,
                                str(object_id), "{}", ROUTES[kind]))
        raw.commit()
        cur.execute("ANALYZE audit_event")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


def load_notifications(url: str, count: int, reader_id: int, users: list[int],
                       to: list[str]) -> None:
    rng = random.Random(16)
    start = datetime(2025, 6, 1, tzinfo=UTC)
    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT coalesce(max(id), 0) FROM notification")
        first = cur.fetchone()[0] + 1
        read = []
        with cur.copy("COPY notification (id, recipient, kind, subject, body, created_at, "
                      "email_attempts) FROM STDIN") as copy:
            for i in range(count):
                recipient = (rng.choice(to) if rng.random() < 0.7
                             else f"user:{rng.choice(users)}")
                if recipient == to[0]:
                    read.append(first + i)
                copy.write_row((first + i, recipient, "case.opened",
                                f"New case {i}", f"Case {i} was routed to the team.",
                                start + timedelta(seconds=i * 150), 0))
        with cur.copy("COPY notification_read (notification_id, user_id, read_at) FROM STDIN"
                      ) as copy:
            for nid in read[: len(read) // 2]:
                copy.write_row((nid, reader_id, "2026-01-01"))
        cur.execute("SELECT setval(pg_get_serial_sequence('notification', 'id'), "
                    "(SELECT max(id) FROM notification))")
        raw.commit()
        cur.execute("ANALYZE notification")
        cur.execute("ANALYZE notification_read")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


def family_records(rt, person_id: int) -> dict[str, list[int]]:
    from triage.services.audit_trail import person_records

    with rt.db.reader() as session:
        return {k: sorted(v) for k, v in person_records(session, person_id).items()}


def deep_cursor(url: str, where: str, params: dict) -> str | None:
    """The keyset cursor of the event 80% of the way down a filter's matches."""
    from triage.services.audit_trail import cursor_of

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            total = conn.execute(text(f"SELECT count(*) FROM audit_event WHERE {where}"),
                                 params).scalar()
            if total < 100:
                return None
            row = conn.execute(text(f"SELECT at, id FROM audit_event WHERE {where} "
                                    "ORDER BY at DESC, id DESC OFFSET :skip LIMIT 1"),
                               {**params, "skip": int(total * 0.8)}).first()
            return cursor_of(row[0], row[1])
    finally:
        engine.dispose()


def time_get(client, path: str, repeat: int) -> list[float]:
    times = []
    for i in range(repeat + 2):
        started = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (path, response.status_code)
        if i >= 2:
            times.append(elapsed)
    return times


def report(name: str, times: list[float]) -> dict:
    times = sorted(times)
    median = statistics.median(times)
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(f"{name:52} {median:10.2f} {p95:8.2f}  {'yes' if median < TARGET_MS else 'NO'}",
          flush=True)
    return {"name": name, "median_ms": round(median, 3), "p95_ms": round(p95, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--notifications", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--explain", action="store_true",
                        help="print each filter's first-page query plan")
    args = parser.parse_args()
    results = []
    with throwaway_postgres() as url:
        app = migrated_app(url)
        rt = app.extensions["triage"]
        person_id, _ = family_of_twenty(rt)
        family = family_records(rt, person_id)
        started = time.perf_counter()
        bulk_load(url, args.people, first_id=1_000)
        users = load_staff(url, first_id=10_000)
        load_audit(url, args.events, users, family)
        with rt.db.reader() as session:
            from sqlmodel import select

            from triage.models import User
            reader_email, reader_team, who = reader()
            hub = session.exec(select(User).where(User.email == reader_email)).one()
        load_notifications(url, args.notifications, hub.id, users, recipients(reader_team))
        print(f"loaded {args.events} audit events, {args.notifications} notifications and "
              f"{args.people} people in {time.perf_counter() - started:.0f} s", flush=True)
        busy, rare = users[0], users[-1]
        case_id = family["case"][0]
        today = datetime(2026, 3, 1)
        week = f"from={today:%Y-%m-%d}&to={today + timedelta(days=6):%Y-%m-%d}"
        filters = [
            ("no filter", "", "true", {}),
            ("user (the busiest)", f"user={busy}", "actor_id = :u", {"u": busy}),
            ("user (a rare one)", f"user={rare}", "actor_id = :u", {"u": rare}),
            ("person (20 referrals)", f"person={person_id}", " OR ".join(
                f"(object_type = '{kind}' AND object_id IN "
                f"({', '.join(repr(str(i)) for i in ids)}))"
                for kind, ids in family.items() if ids), {}),
            ("record (a case)", f"object_type=case&object_id={case_id}",
             "object_type = 'case' AND object_id = :o", {"o": str(case_id)}),
            ("action (common: case.view)", "action=case.view", "action = 'case.view'", {}),
            ("action (rare: person.export)", "action=person.export",
             "action = 'person.export'", {}),
            ("dates (one week)", week,
             "at >= :f AND at < :t", {"f": today.replace(tzinfo=UTC),
                                      "t": (today + timedelta(days=7)).replace(tzinfo=UTC)}),
            ("user and dates", f"user={busy}&{week}",
             "actor_id = :u AND at >= :f AND at < :t",
             {"u": busy, "f": today.replace(tzinfo=UTC),
              "t": (today + timedelta(days=7)).replace(tzinfo=UTC)}),
        ]
        manager = signed_in(app, demo_email("manager"))
        with rt.db.reader() as session:
            from sqlmodel import select

            from triage.models import User
            manager_user = session.exec(select(User).where(
                User.email == demo_email("manager"))).one()
        print(f"{'the machine: a page with no database work':52} {'median ms':>10} "
              f"{'p95 ms':>8}", flush=True)
        results.append(report("GET /accessibility (floor)",
                              time_get(manager, "/accessibility", args.repeat)))
        print(f"{'audit trail, ' + str(args.events) + ' events':52} {'median ms':>10} "
              f"{'p95 ms':>8}  under {TARGET_MS:.0f} ms", flush=True)
        for name, query, where, params in filters:
            cursor = deep_cursor(url, where, params) if where else None
            for depth, extra in (("first page", ""), ("deep page", f"&before={cursor}")):
                if depth == "deep page" and not cursor:
                    continue
                args_ = dict(p.split("=", 1) for p in f"{query}{extra}".split("&") if p)
                results.append(report(f"{name}, {depth}: SQL", sql_times(
                    rt, manager_user, args_, args.repeat, args.explain)))
                results.append(report(f"{name}, {depth}: service", _service_times(
                    rt, manager_user, args_, args.repeat)))
                results.append(report(f"{name}, {depth}: /audit page", time_get(
                    manager, f"/audit?{query}{extra}", args.repeat)))
        hub_client = signed_in(app, reader_email)
        heading = f"notifications, {args.notifications}"
        print(f"{heading:52} {'median ms':>10} {'p95 ms':>8}", flush=True)
        from triage.services.notices import inbox

        for label, stmt in (
                ("unread, newest 50: SQL", inbox.listed_statement(rt.profile, hub, unread=True,
                                                                   limit=50)),
                ("read, newest 20: SQL", inbox.listed_statement(rt.profile, hub, unread=False,
                                                                 limit=20)),
                ("unread count (capped): SQL", inbox.unread_statement(rt.profile, hub))):
            results.append(report(label, sql_times(rt, hub, {}, args.repeat, args.explain,
                                                   stmt=stmt)))
        results.append(report(f"/notifications/ ({who})",
                              time_get(hub_client, "/notifications/", args.repeat)))
        results.append(report(f"GET /api/v1/notifications ({who.split()[0]})", _api_times(
            app, rt, hub, "/api/v1/notifications", args.repeat)))
        results.append(report("GET /api/v1/notifications/unread-count", _api_times(
            app, rt, hub, "/api/v1/notifications/unread-count", args.repeat)))
        results.append(report("/notifications/ (manager, with overview)",
                              time_get(manager, "/notifications/", args.repeat)))
        started = time.perf_counter()
        done = inbox.mark_all_read(rt, user=hub)
        print(f"mark all read: {done['marked']} notifications in "
              f"{(time.perf_counter() - started) * 1000:.0f} ms", flush=True)
        rt.db.dispose()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def sql_times(rt, user, args: dict, repeat: int, show: bool, stmt=None) -> list[float]:
    """The page's SELECT as PostgreSQL runs it (EXPLAIN ANALYZE's execution time): what the
    indexes give, apart from Python and the machine's other work."""
    from triage.services import audit_trail

    times = []
    with rt.db.reader() as session:
        if stmt is None:
            stmt, _, _ = audit_trail.page_statement(
                session, user, {**audit_trail.parse_query(args), "profile": rt.profile.id})
        compiled = stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        for i in range(repeat + 2):
            plan = [row[0] for row in session.exec(
                text(f"EXPLAIN (ANALYZE, COSTS OFF) {compiled}")).all()]
            if i >= 2:
                times.append(float(plan[-1].split(":")[1].split()[0]))
    if show:
        print("\n".join("    " + line for line in plan), flush=True)
    return times


def _service_times(rt, user, args: dict, repeat: int) -> list[float]:
    """The viewer's service call alone: its reads, names and references, and the audit.view
    row it commits (no Flask, no template)."""
    from triage.services import audit_trail

    times = []
    for i in range(repeat + 2):
        started = time.perf_counter()
        audit_trail.events(rt, user=user, args=args)
        if i >= 2:
            times.append((time.perf_counter() - started) * 1000)
    return times


def _api_times(app, rt, user, path: str, repeat: int) -> list[float]:
    from triage.services.accounts import users

    token = users.create_token(rt.db, email=user.email)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return time_get(client, path, repeat)


if __name__ == "__main__":
    main()
