"""The simulated staff for bench/load.py (Locust): who they are and which pages they use.

Run by bench/load.py, which creates the accounts, signs them in and writes the plan (session
tokens, teams, ids and search words) to the file named by TRIAGE_LOAD_PLAN. Each simulated
user takes the next account of its kind and sends that account's session cookie; a page
counts as an error unless it answers 200 (a redirect to sign-in is an error too), or 302
after a submitted referral.

Who does what (share of the users in bench/load.py's KINDS; task weights below):
- front door: the worklists (the landing page, new today, awaiting consent, needs review,
  overdue), referral pages and a referral's family, people search, the family record, the
  new referral form and its "check the decision" preview; a share of the checks is then
  submitted (a new family, so intake runs through matching, the rules and routing);
- practitioners: their team's open cases and its overdue ones, their own cases, case pages,
  a case event form, notifications, people search and the family record;
- hub coordinators (when the profile has a meeting, and so the plan hub accounts): the hub
  queue, the meeting, the meeting pack, case pages, notifications;
- managers: the overdue overview, the audit viewer (unfiltered, by user, by case), a team's
  cases, the front door's overdue list, caseloads, notifications, and the reports when the
  app has them (`/reports`).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import string

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

PLAN = json.loads(open(os.environ["TRIAGE_LOAD_PLAN"]).read())  # noqa: SIM115
THINK = tuple(float(x) for x in os.environ.get("TRIAGE_LOAD_THINK", "5,25").split(","))
SUBMIT_SHARE = float(os.environ.get("TRIAGE_LOAD_SUBMIT_SHARE", "0.25"))
_NEXT = {kind: itertools.count() for kind in PLAN["accounts"]}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_REPORT = re.compile(r'href="(/reports/[a-z0-9_\-]+)"')


class Staff(FastHttpUser):
    abstract = True
    kind = ""
    wait_time = between(*THINK)

    def on_start(self) -> None:
        accounts = PLAN["accounts"][self.kind]
        account = accounts[next(_NEXT[self.kind]) % len(accounts)]
        self.account = account
        self.cookie = {"Cookie": f"__Host-eh_session={account['token']}"}
        self.cases = PLAN["cases"].get(account["team"] or "", [])
        self.rng = random.Random()

    def page(self, name: str, path: str, *, data: dict | None = None,
             expect: int = 200) -> str | None:
        """GET (or POST data to) path, counted under name; the body, or None on an error."""
        method = "POST" if data is not None else "GET"
        with self.client.request(method, path, name=name, data=data, headers=self.cookie,
                                 allow_redirects=False, catch_response=True) as response:
            if response.status_code != expect:
                where = response.headers.get("Location", "") if response.headers else ""
                response.failure(f"{response.status_code} {where[:60]}")
                return None
            return response.text or ""

    def pick(self, values: list):
        return self.rng.choice(values) if values else None

    # What every kind of staff does now and then.
    def search(self) -> None:
        q = self.pick(PLAN["searches"])
        if q:
            self.page("people search", f"/search?q={q}")

    def family(self) -> None:
        household = self.pick(PLAN["households_of"].get(self.account["team"] or "")
                              or PLAN["households"])
        if household:
            self.page("family record", f"/families/{household}")

    def case(self) -> None:
        case_id = self.pick(self.cases)
        if case_id:
            self.page("case page", f"/cases/{case_id}")


class FrontDoor(Staff):
    kind = "front_door"
    weight = 25

    @task(4)
    def worklists(self) -> None:
        self.page("front door: worklists", "/front-door/")

    @task(3)
    def new_today(self) -> None:
        self.page("front door: new today", "/front-door/worklists/new_today")

    @task(1)
    def awaiting_consent(self) -> None:
        self.page("front door: awaiting consent", "/front-door/worklists/awaiting_consent")

    @task(2)
    def needs_review(self) -> None:
        self.page("front door: needs review", "/front-door/worklists/needs_review")

    @task(2)
    def overdue(self) -> None:
        self.page("front door: overdue", "/front-door/worklists/overdue")

    @task(4)
    def referral(self) -> None:
        reference = self.pick(PLAN["references"])
        self.page("referral page", f"/referrals/{reference}")

    @task(1)
    def referral_family(self) -> None:
        reference = self.pick(PLAN["references"])
        # It answers with a redirect to the family record (the page itself is timed below).
        self.page("a referral's family (redirect)", f"/referrals/{reference}/family",
                  expect=302)

    @task(2)
    def people_search(self) -> None:
        self.search()

    @task(1)
    def family_record(self) -> None:
        self.family()

    @task(2)
    def new_referral(self) -> None:
        """The form, "check the decision", and for a share of them submit."""
        form = self.page("new referral form", "/referrals/new")
        token = _CSRF.search(form or "")
        if not token:
            return
        letters = string.ascii_lowercase
        body = {
            "csrf_token": token.group(1), "person_rows": "1",
            # A new family: names of random letters match nobody already known.
            "people-0-given_name": "".join(self.rng.choices(letters, k=7)).title(),
            "people-0-family_name": "".join(self.rng.choices(letters, k=9)).title(),
            "people-0-dob-day": str(self.rng.randint(1, 28)),
            "people-0-dob-month": str(self.rng.randint(1, 12)),
            "people-0-dob-year": str(self.rng.randint(1935, 1990)),
            "postcode": PLAN["form"]["postcode"], "consent": "given", "action": "check",
            **{f"answer-{question}": "yes" for question in PLAN["form"]["yes"]}}
        checked = self.page("new referral: check decision (POST)", "/referrals/new", data=body)
        if checked is None or self.rng.random() >= SUBMIT_SHARE:
            return
        key = re.search(r'name="submission_key" value="([0-9a-f]{32})"', checked)
        self.page("new referral: submit (POST)", "/referrals/new", expect=302,
                  data={**body, "action": "submit",
                        **({"submission_key": key.group(1)} if key else {})})


class Practitioner(Staff):
    kind = "practitioner"
    weight = 40

    @task(4)
    def team_cases(self) -> None:
        self.page("team cases", "/cases/")

    @task(2)
    def team_overdue(self) -> None:
        self.page("team cases: overdue", "/cases/?overdue=true")

    @task(1)
    def my_cases(self) -> None:
        self.page("my cases", "/cases/mine")

    @task(5)
    def case_page(self) -> None:
        self.case()

    @task(2)
    def notifications(self) -> None:
        self.page("notifications", "/notifications/")

    @task(1)
    def people_search(self) -> None:
        self.search()

    @task(1)
    def family_record(self) -> None:
        self.family()


class Hub(Staff):
    kind = "hub"
    weight = 15
    # A profile with no meeting has no hub pages and the plan no hub accounts.
    abstract = not PLAN["accounts"].get("hub")

    @task(3)
    def queue(self) -> None:
        self.page("hub queue", "/hub/")

    @task(2)
    def meeting(self) -> None:
        self.page("hub meeting", "/hub/meeting")

    @task(1)
    def pack(self) -> None:
        self.page("hub meeting pack", "/hub/meeting/pack")

    @task(3)
    def case_page(self) -> None:
        self.case()

    @task(1)
    def notifications(self) -> None:
        self.page("notifications", "/notifications/")


class Manager(Staff):
    kind = "manager"
    weight = 20

    def on_start(self) -> None:
        super().on_start()
        hubs = set(PLAN.get("hubs", ()))
        self.teams = [t for t in PLAN["cases"] if t not in hubs]
        users = [a["id"] for accounts in PLAN["accounts"].values() for a in accounts]
        self.users = users
        self.all_cases = [c for cases in PLAN["cases"].values() for c in cases]
        self.reports: list[str] = []
        listing = self.page("reports", "/reports") if PLAN.get("reports") else None
        if listing:
            self.reports = sorted(set(_REPORT.findall(listing)))

    @task(2)
    def overview(self) -> None:
        self.page("overdue overview", "/notifications/overview")

    @task(1)
    def notifications(self) -> None:
        self.page("notifications", "/notifications/")

    @task(1)
    def audit(self) -> None:
        self.page("audit viewer", "/audit")

    @task(1)
    def audit_user(self) -> None:
        self.page("audit viewer: a user", f"/audit?user={self.pick(self.users)}")

    @task(1)
    def audit_case(self) -> None:
        self.page("audit viewer: a case",
                  f"/audit?object_type=case&object_id={self.pick(self.all_cases)}")

    @task(2)
    def team_cases(self) -> None:
        team = self.account["team"] or self.pick(self.teams)
        self.page("team cases (manager)", f"/cases/?team={team}")

    @task(1)
    def front_door_overdue(self) -> None:
        self.page("front door: overdue", "/front-door/worklists/overdue")

    @task(1)
    def caseloads(self) -> None:
        team = self.account["team"] or self.pick(self.teams)
        self.page("caseloads", f"/cases/caseloads?team={team}")

    @task(1)
    def case_page(self) -> None:
        case_id = self.pick(self.all_cases)
        if case_id:
            self.page("case page", f"/cases/{case_id}")

    @task(2)
    def report(self) -> None:
        if self.reports:
            self.page("report", self.pick(self.reports))
