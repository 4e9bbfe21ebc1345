"""Server time of each staff page with 50,000 referrals in the database (target: < 100 ms).

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

    .venv/bin/python bench/pages.py [--referrals 50000] [--repeat 20] [--db PATH]
"""

from __future__ import annotations

import argparse
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

from config.settings import Settings  # noqa: E402

TARGET_MS = 100.0
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
                        secret_key="bench-pages-secret-" + "x" * 32)
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
    senders = [("staff", users["frontdoor@demo.test"]), ("self", None),
               ("partner", users["fire@demo.test"]), ("partner", users["police@demo.test"])]
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


def signed_in(app, email: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": "early-help-demo-2026",
                                           "csrf_token": token})
    assert response.status_code == 302, "sign-in failed"
    return client


def prepare_meeting(app, rt) -> None:
    """Put up to 20 of the Charnwood hub's new cases on the next meeting's agenda."""
    from triage.models import Case

    with rt.db.reader() as session:
        on_agenda = session.exec(select(func.count()).select_from(Case).where(
            Case.instance == "charnwood-hub", Case.state == "awaiting_hub_meeting")).one()
        ids = session.exec(select(Case.id).where(
            Case.instance == "charnwood-hub", Case.state == "requested")
            .order_by(Case.id.desc()).limit(max(0, 20 - on_agenda))).all()
    if not ids:
        return
    from sqlmodel import Session

    from triage.models import User
    from triage.services.hub import meetings

    with Session(rt.db.engine) as session:
        user = session.exec(select(User).where(User.email == "hub.charnwood@demo.test")).one()
    meetings.add_to_agenda(rt, user=user, case_ids=list(ids))


def sample(rt) -> dict:
    from triage.models import Case, Referral

    with rt.db.reader() as session:
        reference = session.exec(select(Referral.reference).where(
            Referral.status == "routed").order_by(Referral.id.desc())).first()
        lac_case = session.exec(select(Case.id).where(
            Case.service == "local_area_coordination").order_by(Case.id.desc())).first()
        hub_case = session.exec(select(Case.id).where(
            Case.instance == "charnwood-hub", Case.state == "awaiting_hub_meeting")).first()
    return {"reference": reference, "lac_case": lac_case, "hub_case": hub_case}


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
    parser.add_argument("--referrals", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--db", type=Path,
                        default=Path(tempfile.gettempdir()) / "triage-bench-pages.sqlite3")
    args = parser.parse_args()
    app, rt = build(args.db, args.referrals)
    prepare_meeting(app, rt)
    ids = sample(rt)
    from triage.models import Case, Referral

    with rt.db.reader() as session:
        total = session.exec(select(func.count()).select_from(Referral)).one()
        cases = session.exec(select(func.count()).select_from(Case)).one()
    front = signed_in(app, "frontdoor@demo.test")
    hub = signed_in(app, "hub.charnwood@demo.test")
    lac = signed_in(app, "lac@demo.test")
    partner = signed_in(app, "fire@demo.test")
    check = {"person_rows": "3", "people-0-given_name": "Gwen", "people-0-family_name": "Smith",
             "people-0-dob-day": "1", "people-0-dob-month": "3", "people-0-dob-year": "1932",
             "postcode": "LE13 0AB", "answer-memory_concern": "yes",
             "answer-social_isolation": "yes", "consent": "given", "action": "check"}
    pages = [
        ("front door: worklists", front, "GET", "/front-door/", None),
        ("front door: new today", front, "GET", "/front-door/worklists/new_today", None),
        ("front door: awaiting consent", front, "GET",
         "/front-door/worklists/awaiting_consent", None),
        ("front door: needs review", front, "GET", "/front-door/worklists/needs_review", None),
        ("front door: overdue", front, "GET", "/front-door/worklists/overdue", None),
        ("front door: new referral form", front, "GET", "/referrals/new", None),
        ("front door: check decision (POST)", front, "POST", "/referrals/new", check),
        ("referral page", front, "GET", f"/referrals/{ids['reference']}", None),
        ("cases of the biggest team (front door)", front, "GET",
         "/cases/?team=first_contact_plus", None),
        ("team cases (coordinators)", lac, "GET", "/cases/", None),
        ("case page", lac, "GET", f"/cases/{ids['lac_case']}", None),
        ("case event form", lac, "GET", f"/cases/{ids['lac_case']}/events/introduce", None),
        ("hub queue", hub, "GET", "/hub/", None),
        ("hub meeting", hub, "GET", "/hub/meeting", None),
        ("hub meeting pack (20 cases)", hub, "GET", "/hub/meeting/pack", None),
        ("hub decision form", hub, "GET", f"/hub/meeting/cases/{ids['hub_case']}", None),
        ("partner: own referrals", partner, "GET", "/partner/", None),
    ]
    print(f"\n{total} referrals, {cases} cases in {args.db}; {args.repeat} requests per page")
    print(f"{'page':40} {'median ms':>10} {'p95 ms':>8}  under {TARGET_MS:.0f} ms")
    worst = 0.0
    for name, client, method, path, data in pages:
        times = sorted(time_page(client, method, path, data, args.repeat))
        median = statistics.median(times)
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        worst = max(worst, median)
        print(f"{name:40} {median:10.1f} {p95:8.1f}  {'yes' if median < TARGET_MS else 'NO'}")
    print(f"\nslowest page median: {worst:.1f} ms (target < {TARGET_MS:.0f} ms)")
    rt.db.dispose()


if __name__ == "__main__":
    main()
