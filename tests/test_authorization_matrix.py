"""The authorisation matrix: every route of the app (API and web) × every kind of caller, with
the answer each caller must get, in ONE table (MATRIX below).

How to read and extend it
-------------------------
* One row per route and method, written `METHOD /rule` exactly as `app.url_map` spells the
  rule (`/api/v1/cases/<int:case_id>`). Every rule of the app, every method but HEAD and
  OPTIONS, must have a row: a new route without one fails `test_every_route_has_a_row` ("route
  X has no row in the matrix"); a row for a route that is gone fails it too. Static files are
  left out on purpose, in NOT_IN_MATRIX (with the reason).
* One column per caller, in the order of CALLERS:
    anon   not signed in (no token, no session)
    admin  an admin                      fd     a front-door worker (team front_door)
    hub    the case's hub coordinator    prac   a practitioner of the case's team
    mgr    a manager of the case's team  mgr0   a manager with no team (manages every team)
    xhub   a hub coordinator of another hub   xprac  a practitioner of another team
    xmgr   a manager of another team
    ptnr   the partner who sent the referral  xptnr  a partner of another organisation
  The case's team is the Early Help Hub at Charnwood (`early_help_hub:charnwood-hub`).
* Each cell is the answer expected:
    ok     allowed: 200/201/204, or a redirect (302/303) anywhere but the sign-in page
    login  a redirect to the sign-in page (the web app, not signed in)
    401 403 404 409 422 ...   exactly that status
    a|b    any of these (e.g. `ok|404`); keep this rare, it hides a difference
  A row may end with `  # why`, for a cell that is not obvious.
* What each row sends: by default the rule's variables are filled from the fixtures by name
  (`case_id`, `reference`, `person_id`, `household_id`, `event`, `name`, `page`; see
  World.value) and nothing else is sent. A row that needs a body or other ids gets an entry
  in REQUESTS (a function of the world and the caller's name returning a Req). Web POSTs
  carry the caller's CSRF token (an anonymous one for `anon`), so a cell shows the
  permission answer, never a CSRF 400.
* Every cell of a row that is not a GET runs on a fresh copy of the fixtures' database, so
  a POST that is allowed (a referral closed, a case moved, a session ended) cannot change the
  answer of the next cell. The fixtures are built once per test session (World).

Adding rows (admin pages, privacy operations...): copy a row of the same kind, put the
route and the answers in, and add a REQUESTS entry if the row needs a body or new fixtures
(add those to build_world). A cell that differs from what the app answers is either a wrong
cell or a defect in the app: fix the app.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings

CALLERS = ("anon", "admin", "fd", "hub", "prac", "mgr", "mgr0", "xhub", "xprac", "xmgr",
           "ptnr", "xptnr")

MATRIX = """
# -- API (bearer tokens; anon has none) -----------------------------------------------------------------------------------
# METHOD rule                                       anon  admin fd    hub   prac  mgr   mgr0  xhub  xprac xmgr  ptnr  xptnr
GET  /api/v1/cases                                  401   ok    ok    ok    ok    ok    ok    ok    ok    ok    403   403
GET  /api/v1/cases/<int:case_id>                    401   ok    ok    ok    ok    ok    ok    403   403   ok    403   403
POST /api/v1/cases/<int:case_id>/events             401   403   403   ok    ok    ok    ok    403   403   403   403   403
POST /api/v1/cases/reassign                         401   403   403   403   403   ok    ok    403   403   403   403   403  # a team's managers only; a member takes one case at a time
GET  /api/v1/checklist                              ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /api/v1/households/<int:household_id>          401   ok    ok    ok    ok    ok    ok    404   404   ok    403   403
GET  /api/v1/notifications                          401   ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /api/v1/openapi.json                           ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /api/v1/people                                 401   ok    ok    ok    ok    ok    ok    ok    ok    ok    403   403
GET  /api/v1/people/<int:person_id>                 401   ok    ok    ok    ok    ok    ok    404   404   ok    403   403
GET  /api/v1/referrals                              401   ok    ok    403   403   ok    ok    403   403   ok    ok    ok
POST /api/v1/referrals                              401   ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /api/v1/referrals/<reference>                  401   ok    ok    ok    ok    ok    ok    404   404   ok    ok    404
POST /api/v1/referrals/<reference>/close            401   ok    ok    403   403   ok    ok    403   403   ok    403   403
POST /api/v1/referrals/<reference>/consent          401   ok    ok    404   404   ok    ok    404   404   ok    403   403  # awaiting consent: no case yet, so no team sees it
POST /api/v1/referrals/<reference>/override         401   ok    ok    403   403   ok    ok    403   403   ok    403   403
POST /api/v1/referrals/batch                        401   ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /api/v1/referrals/batch/template.csv           401   ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /api/v1/triage/preview                         401   ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /healthz                                       ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
# -- web (session cookies; anon has none) ---------------------------------------------------------------------------------
# METHOD rule                                       anon  admin fd    hub   prac  mgr   mgr0  xhub  xprac xmgr  ptnr  xptnr
GET  /                                              ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /accessibility                                 ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /account/password                              login ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /account/password                              login 422   422   422   422   422   422   422   422   422   422   422
GET  /cases/                                        login ok    ok    ok    ok    ok    ok    ok    ok    ok    403   403
GET  /cases/<int:case_id>                           login ok    ok    ok    ok    ok    ok    403   403   ok    403   403
GET  /cases/<int:case_id>/events/<event>            login 403   403   ok    ok    ok    ok    403   403   403   403   403  # a form only for those whose POST is allowed
POST /cases/<int:case_id>/events/<event>            login 403   403   ok    ok    ok    ok    403   403   403   403   403
POST /cases/<int:case_id>/notes                     login 403   403   ok    ok    ok    ok    403   403   403   403   403  # seeing a case is not working it (issue 12, defect 8)
GET  /cases/caseloads                               login ok    403   403   403   ok    ok    403   403   403   403   403
POST /cases/caseloads/reassign                      login 403   403   403   403   ok    ok    403   403   403   403   403
GET  /cases/mine                                    login ok    ok    ok    ok    ok    ok    ok    ok    ok    403   403
GET  /families/<int:household_id>                   login ok    ok    ok    ok    ok    ok    404   404   ok    403   403
GET  /front-door/                                   login ok    ok    403   403   ok    ok    403   403   ok    403   403
GET  /front-door/worklists/<name>                   login ok    ok    403   403   ok    ok    403   403   ok    403   403
GET  /hub/                                          login ok    403   ok    403   ok    ok    ok    403   ok    403   403
GET  /hub/meeting                                   login ok    403   ok    403   ok    ok    ok    403   ok    403   403
POST /hub/meeting                                   login 403   403   ok    403   ok    ok    403   403   403   403   403
GET  /hub/meeting/cases/<int:case_id>               login 403   403   ok    403   ok    ok    403   403   403   403   403  # seeing a hub's cases is not deciding them
POST /hub/meeting/cases/<int:case_id>               login 403   403   ok    403   ok    ok    403   403   403   403   403
GET  /hub/meeting/pack                              login ok    403   ok    403   ok    ok    ok    403   ok    403   403
GET  /login                                         ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /login                                         401   401   401   401   401   401   401   401   401   401   401   401
GET  /partner/                                      login 403   403   403   403   403   403   403   403   403   ok    ok
GET  /partner/batches/new                           login 403   403   403   403   403   403   403   403   403   ok    ok
POST /partner/batches/new                           login 403   403   403   403   403   403   403   403   403   ok    ok
GET  /partner/batches/template.csv                  login 403   403   403   403   403   403   403   403   403   ok    ok
GET  /partner/referrals/<reference>                 login 403   403   403   403   403   403   403   403   403   ok    404
GET  /partner/referrals/<reference>/confirmation    login 403   403   403   403   403   403   403   403   403   ok    404
GET  /partner/referrals/new                         login 403   403   403   403   403   403   403   403   403   ok    ok
POST /partner/referrals/new                         login 403   403   403   403   403   403   403   403   403   ok    ok
GET  /people/<int:person_id>                        login ok    ok    ok    ok    ok    ok    404   404   ok    403   403
GET  /referrals/<reference>                         login ok    ok    ok    ok    ok    ok    404   404   ok    403   403
POST /referrals/<reference>/close                   login ok    ok    403   403   ok    ok    403   403   ok    403   403
GET  /referrals/<reference>/confirmation            login ok    ok    ok    ok    ok    ok    404   404   ok    403   403
POST /referrals/<reference>/consent                 login ok    ok    404   404   ok    ok    404   404   ok    403   403
GET  /referrals/<reference>/family                  login ok    ok    ok    ok    ok    ok    404   404   ok    403   403  # another team's family is not named, even by its id
POST /referrals/<reference>/override                login ok    ok    403   403   ok    ok    403   403   ok    403   403
GET  /referrals/new                                 login ok    ok    ok    ok    ok    ok    ok    ok    ok    403   403
POST /referrals/new                                 login ok    ok    ok    ok    ok    ok    ok    ok    ok    403   403
GET  /search                                        login ok    ok    ok    ok    ok    ok    ok    ok    ok    403   403
GET  /self-referral/                                ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /self-referral/<page>                          ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /self-referral/<page>                          ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /self-referral/begin                           ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /self-referral/check                           ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /self-referral/check                           ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /self-referral/done                            ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /self-referral/privacy                         ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /sign-out                                      login ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /sign-out                                      ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /signed-out                                    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
"""  # noqa: E501  (one line per route keeps the table readable)

# Routes deliberately without a row, with the reason.
NOT_IN_MATRIX = {
    "GET /static/<path:filename>": "Flask's static files (the app serves none from it)",
    "GET /assets/<path:filename>": "GOV.UK Frontend's CSS, fonts and images: public files",
}


# -- the fixtures: one world, built once ------------------------------------------------
HUB_TEAM = "early_help_hub:charnwood-hub"
OTHER_HUB = "early_help_hub:melton-hub"
CALLER_ACCOUNTS: dict[str, dict[str, Any]] = {
    "admin": {"role": "admin"},
    "fd": {"role": "front_door", "team": "front_door"},
    "hub": {"role": "hub_coordinator", "team": HUB_TEAM},
    "prac": {"role": "practitioner", "team": HUB_TEAM},
    "mgr": {"role": "manager", "team": HUB_TEAM},
    "mgr0": {"role": "manager"},
    "xhub": {"role": "hub_coordinator", "team": OTHER_HUB},
    "xprac": {"role": "practitioner", "team": "supporting_leicestershire_families"},
    "xmgr": {"role": "manager", "team": OTHER_HUB},
    "ptnr": {"role": "partner", "organisation": "Leicestershire Fire and Rescue Service"},
    "xptnr": {"role": "partner", "organisation": "Leicestershire Police"},
}
CHILD = {"ref": "c1", "role": "subject", "given_name": "Tom", "family_name": "Reed",
         "date_of_birth": "2016-05-04"}
MUM = {"ref": "m1", "role": "household", "relationship": "mother", "given_name": "Jo",
       "family_name": "Reed", "date_of_birth": "1988-02-11"}


def hub_referral(**changes) -> dict[str, Any]:
    """A referral the decision graph routes to the Charnwood Early Help Hub."""
    body = {"channel": "partner",
            "referrer": {"organisation": "Fire and Rescue Service", "name": "A. Officer",
                         "email": "a@example.org"},
            "postcode": "LE11 2AB", "people": [MUM, CHILD],
            "answers": {"domestic_abuse": True}, "consent": "given",
            "information_only": False, "step_down": False, "concerns": "free text"}
    body.update(changes)
    return body


@dataclass
class Caller:
    id: int
    token: str  # API bearer token
    session: str  # web session cookie
    csrf: str  # that session's CSRF token


@dataclass
class World:
    """Ids of what the fixtures hold, for filling in the routes' variables."""

    callers: dict[str, Caller] = field(repr=False)
    reference: str  # sent by ptnr, routed to the Charnwood hub: case case_id
    case_id: int  # requested (the hub's queue)
    awaiting_reference: str  # sent by ptnr, waiting for consent (no case yet)
    agenda_case_id: int  # another Charnwood case, on the next meeting's agenda
    person_id: int  # the child on `reference`
    household_id: int  # the family of `reference`
    extra: dict[str, Any] = field(default_factory=dict)

    def value(self, name: str) -> Any:
        defaults = {"case_id": self.case_id, "reference": self.reference,
                    "person_id": self.person_id, "household_id": self.household_id,
                    "event": "add_to_agenda", "name": "new_today", "page": "about_you"}
        return self.extra.get(name, defaults.get(name))


@dataclass
class Req:
    """What a cell sends: values for the rule's variables (default: World.value), a JSON body
    (API) or form fields (web; the CSRF token is added), a query string, headers."""

    path: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    form: dict[str, Any] | None = None
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    data: bytes | None = None
    content_type: str | None = None


SECRET_KEY = "matrix-" + "m" * 40


def _settings(folder: Path, database: Path) -> Settings:
    return Settings(env="test", instance_path=folder / "instance",
                    database_url=f"sqlite:///{database}", secret_key=SECRET_KEY)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def build_world(app) -> World:
    from sqlmodel import select

    from triage.models import Referral, ReferralPerson
    from triage.models.web import WebSession
    from triage.services.accounts import users

    rt = app.extensions["triage"]
    callers: dict[str, Caller] = {}
    for name, fields_ in CALLER_ACCOUNTS.items():
        user = users.create_user(rt.db, email=f"{name}@matrix.example", name=name, **fields_)
        session_token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        with rt.db.unit_of_work() as session:
            session.add(WebSession(id=_digest(session_token), user_id=user.id, csrf_token=csrf))
        callers[name] = Caller(id=user.id, token=users.create_token(rt.db, email=user.email),
                               session=session_token, csrf=csrf)
    client = app.test_client()

    def api(caller: str, method: str, path: str, **kw):
        response = client.open(path, method=method, **kw, headers={
            "Authorization": f"Bearer {callers[caller].token}"})
        assert response.status_code in (200, 201), (path, response.json)
        return response.json

    sent = api("ptnr", "POST", "/api/v1/referrals", json=hub_referral())
    (case,) = [c for c in sent["cases"] if c["service"] == "early_help_hub"]
    assert case["instance"] == "charnwood-hub", sent["cases"]
    waiting = api("ptnr", "POST", "/api/v1/referrals", json=hub_referral(
        consent="not_asked", people=[{**MUM, "given_name": "Ann"},
                                     {**CHILD, "given_name": "Ed"}]))
    assert waiting["status"] == "awaiting_consent", waiting["status"]
    other = api("fd", "POST", "/api/v1/referrals", json=hub_referral(
        channel="staff", people=[{**MUM, "family_name": "Lowe"},
                                 {**CHILD, "family_name": "Lowe"}]))
    (agenda,) = [c for c in other["cases"] if c["service"] == "early_help_hub"]
    api("hub", "POST", f"/api/v1/cases/{agenda['id']}/events", json={"event": "add_to_agenda"})
    api("hub", "POST", f"/api/v1/cases/{case['id']}/events",
        json={"event": "assign", "worker": callers["hub"].id})
    pathway = rt.pathways.for_service("early_help_hub")
    nfa = next(t for t in pathway.transitions if t.event == "no_further_action")
    extra = {"closure": next(iter(rt.profile.front_door.closures)),
             "hub_nfa_reason": next(iter(nfa.choices["reason"]))}
    with rt.db.reader() as session:
        referral = session.exec(select(Referral).where(
            Referral.reference == sent["reference"])).one()
        child = session.exec(select(ReferralPerson).where(
            ReferralPerson.referral_id == referral.id, ReferralPerson.ref == "c1")).one()
    return World(callers=callers, reference=sent["reference"], case_id=case["id"],
                 awaiting_reference=waiting["reference"], agenda_case_id=agenda["id"],
                 person_id=child.person_id, household_id=referral.household_id, extra=extra)


# -- what each row sends (rows not here send nothing but the path) ------------------------
RequestFor = Callable[[World, str], Req]
TODAY = {"meeting_date-day": "1", "meeting_date-month": "12", "meeting_date-year": "2026"}
REQUESTS: dict[str, RequestFor] = {
    # API
    "GET /api/v1/people": lambda w, c: Req(query="q=Reed"),
    "POST /api/v1/triage/preview": lambda w, c: Req(json=hub_referral(channel=_channel(c))),
    "POST /api/v1/referrals": lambda w, c: Req(json=hub_referral(channel=_channel(c))),
    "POST /api/v1/referrals/batch": lambda w, c: Req(json={"referrals": [
        hub_referral(channel=_channel(c))]}),
    "POST /api/v1/referrals/<reference>/consent": lambda w, c: Req(
        path={"reference": w.awaiting_reference}, json={"consent": "given"}),
    "POST /api/v1/referrals/<reference>/override": lambda w, c: Req(
        json={"reason": "Talked to the family again", "level": 2}),
    "POST /api/v1/referrals/<reference>/close": lambda w, c: Req(
        path={"reference": w.awaiting_reference},
        json={"closure": w.extra["closure"], "note": "Advice given by phone"}),
    "POST /api/v1/cases/<int:case_id>/events": lambda w, c: Req(json={"event": "add_to_agenda"}),
    "POST /api/v1/cases/reassign": lambda w, c: Req(json={
        "from_worker": w.callers["hub"].id, "to_worker": w.callers["prac"].id}),
    # web
    "POST /login": lambda w, c: Req(form={"email": "nobody@matrix.example",
                                          "password": "not-the-password"}),
    "POST /account/password": lambda w, c: Req(form={"current_password": "wrong"}),
    "GET /search": lambda w, c: Req(query="q=Reed"),
    "GET /cases/caseloads": lambda w, c: Req(query=f"team={HUB_TEAM}"),
    "POST /cases/caseloads/reassign": lambda w, c: Req(form={
        "team": HUB_TEAM, "from_worker": w.callers["hub"].id, "to_worker": w.callers["prac"].id}),
    "POST /cases/<int:case_id>/events/<event>": lambda w, c: Req(form={}),
    "POST /cases/<int:case_id>/notes": lambda w, c: Req(form={"note": "Called the family"}),
    "POST /hub/meeting": lambda w, c: Req(form={"cases": str(w.case_id)}),
    "GET /hub/meeting/cases/<int:case_id>": lambda w, c: Req(path={"case_id": w.agenda_case_id}),
    "POST /hub/meeting/cases/<int:case_id>": lambda w, c: Req(
        path={"case_id": w.agenda_case_id},
        form={**TODAY, "decision": "no_further_action",
              "reason-no_further_action": w.extra["hub_nfa_reason"]}),
    "GET /self-referral/done": lambda w, c: Req(query="r=" + _done_token(w.reference)),
    "POST /referrals/new": lambda w, c: Req(form={"action": "add_person"}),
    "POST /partner/referrals/new": lambda w, c: Req(form={"action": "add_person"}),
    "POST /partner/batches/new": lambda w, c: Req(form={"file": _spreadsheet()}),
    "POST /referrals/<reference>/consent": lambda w, c: Req(
        path={"reference": w.awaiting_reference}, form={"consent": "given"}),
    "POST /referrals/<reference>/override": lambda w, c: Req(
        form={"reason": "Talked to the family again", "level": "2"}),
    "POST /referrals/<reference>/close": lambda w, c: Req(
        path={"reference": w.awaiting_reference},
        form={"closure": w.extra["closure"], "note": "Advice given by phone"}),
}


def _spreadsheet() -> tuple[io.BytesIO, str]:
    """A one-row CSV of the partners' batch template (a file upload, fresh for each cell)."""
    text = ("postcode,consent,subject_given_name,subject_family_name,subject_date_of_birth,"
            "member1_relationship,member1_date_of_birth,school_attendance_concern\n"
            "LE11 1AB,given,Amy,Ward,05/05/2015,mother,01/01/1985,yes\n")
    return io.BytesIO(text.encode()), "visits.csv"


def _done_token(reference: str) -> str:
    """The signed reference the self-referral's last page redirects to (public.done)."""
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(SECRET_KEY, salt="self-referral-done").dumps(reference)


def _channel(caller: str) -> str:
    return "partner" if caller in ("ptnr", "xptnr", "anon") else "staff"


# -- the table ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    method: str
    rule: str
    cells: dict[str, str]

    @property
    def key(self) -> str:
        return f"{self.method} {self.rule}"


def parse_matrix(text: str) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split(" #", 1)[0].split()  # a row may end with a  # comment
        if not words or words[0].startswith("#"):
            continue
        method, rule, answers = words[0], words[1], words[2:]
        if len(answers) != len(CALLERS):
            raise ValueError(f"matrix line {number} ({method} {rule}) has {len(answers)} "
                             f"answers for {len(CALLERS)} callers")
        for answer in answers:
            for part in answer.split("|"):
                if part not in ("ok", "login") and not re.fullmatch(r"[1-5]\d\d", part):
                    raise ValueError(f"matrix line {number}: {answer!r} is not an answer")
        row = Row(method, rule, dict(zip(CALLERS, answers, strict=True)))
        if row.key in rows:
            raise ValueError(f"matrix line {number}: a second row for {row.key}")
        rows[row.key] = row
    return rows


ROWS = parse_matrix(MATRIX)


def route_keys(app) -> set[str]:
    return {f"{method} {rule.rule}" for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def answer_of(response) -> str:
    """The status as the table writes it."""
    status = response.status_code
    if status in (200, 201, 204):
        return "ok"
    if status in (301, 302, 303, 307, 308):
        location = response.headers.get("Location", "")
        return "login" if re.match(r"(https?://[^/]+)?/login(\?|$)", location) else "ok"
    return str(status)


def matches(expected: str, got: str) -> bool:
    return got in expected.split("|")


# -- running the cells --------------------------------------------------------------------
@pytest.fixture(scope="session")
def matrix(tmp_path_factory, sqlite_template):
    """The app over a working copy of the world's database, and a way to put the copy back."""
    from triage import create_app

    folder = tmp_path_factory.mktemp("matrix")
    snapshot, work = folder / "world.sqlite3", folder / "work.sqlite3"
    shutil.copy(sqlite_template, snapshot)
    builder = create_app(_settings(folder, snapshot), background=False, synchronous_tasks=True)
    world = build_world(builder)
    builder.extensions["triage"].relay.stop()
    builder.extensions["triage"].db.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{snapshot}{suffix}").unlink(missing_ok=True)
    shutil.copy(snapshot, work)
    app = create_app(_settings(folder, work), background=False, synchronous_tasks=True)
    rt = app.extensions["triage"]

    def restore() -> None:
        rt.db.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{work}{suffix}").unlink(missing_ok=True)
        shutil.copy(snapshot, work)

    yield app, world, restore
    rt.relay.stop()
    rt.db.dispose()


def _path(rule: str, world: World, values: dict[str, Any]) -> str:
    def fill(match: re.Match) -> str:
        name = match.group(1).split(":")[-1]
        value = values.get(name, world.value(name))
        assert value is not None, f"no value for <{name}> in {rule}: add it to World.value"
        return str(value)

    return re.sub(r"<([^>]+)>", fill, rule)


def _anonymous_csrf(client) -> str:
    html = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def send(app, world: World, row: Row, caller: str):
    req = REQUESTS.get(row.key, lambda w, c: Req())(world, caller)
    path = _path(row.rule, world, req.path) + (f"?{req.query}" if req.query else "")
    api = row.rule.startswith("/api/") or row.rule == "/healthz"
    client = app.test_client()
    headers = dict(req.headers)
    who = world.callers.get(caller)
    form = req.form
    if api:
        if who:
            headers["Authorization"] = f"Bearer {who.token}"
    else:
        if who:
            client.set_cookie("eh_session", who.session)
        if row.method != "GET":
            form = {"csrf_token": who.csrf if who else _anonymous_csrf(client), **(form or {})}
    kwargs: dict[str, Any] = {"headers": headers}
    if req.json is not None:
        kwargs["json"] = req.json
    elif req.data is not None:
        kwargs.update(data=req.data, content_type=req.content_type)
    elif form is not None:
        kwargs["data"] = form
    return client.open(path, method=row.method, **kwargs)


@pytest.mark.parametrize("key", sorted(ROWS))
def test_each_caller_gets_the_answer_in_the_matrix(matrix, key):
    app, world, restore = matrix
    row = ROWS[key]
    wrong = []
    for caller in CALLERS:
        if row.method != "GET":
            restore()
        response = send(app, world, row, caller)
        got = answer_of(response)
        if not matches(row.cells[caller], got):
            wrong.append(f"{caller}: expected {row.cells[caller]}, got {got} "
                         f"({response.status_code} {response.headers.get('Location', '')})")
    if row.method != "GET":
        restore()
    assert not wrong, f"{key}:\n  " + "\n  ".join(wrong)


def table_problems(routes: set[str]) -> list[str]:
    """Routes of the app without a row, and rows for no route (left-out routes aside)."""
    routes = routes - set(NOT_IN_MATRIX)
    return [f"route {key} has no row in the matrix" for key in sorted(routes - set(ROWS))] + [
        f"the matrix has a row for {key}, which is not a route of the app"
        for key in sorted(set(ROWS) - routes)]


def test_every_route_has_a_row(matrix):
    app, _, _ = matrix
    problems = table_problems(route_keys(app))
    assert not problems, "\n".join(problems)


def test_a_new_route_without_a_row_is_named():
    routes = {*ROWS, "GET /admin/users", "POST /admin/users"}
    assert table_problems(routes) == ["route GET /admin/users has no row in the matrix",
                                      "route POST /admin/users has no row in the matrix"]


def test_every_request_override_is_for_a_row():
    assert set(REQUESTS) <= set(ROWS), sorted(set(REQUESTS) - set(ROWS))
