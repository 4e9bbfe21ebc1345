"""The authorisation matrix's fixtures and how one cell is sent (tests/test_authorization_matrix.py
holds the table): the callers, one world of referrals, cases and people built once, and the
answer as the table writes it."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from config.settings import Settings

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
        from triage.services.directory.ids import derived

        defaults = {"case_id": self.case_id, "reference": self.reference,
                    "person_id": self.person_id, "household_id": self.household_id,
                    "event": "add_to_agenda", "name": "new_today", "page": "about_you",
                    # the directory: the Charnwood hub (the case's team) and its ORUK id
                    "service": "early_help_hub", "instance": "charnwood-hub",
                    "service_id": derived("leicestershire", "service", "early_help_hub")}
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


def settings_for(folder: Path, database: Path) -> Settings:
    return Settings(env="test", instance_path=folder / "instance",
                    database_url=f"sqlite:///{database}", secret_key=SECRET_KEY)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def build_world(app) -> World:
    from sqlmodel import select

    from triage.models import ApiToken, PasswordReset, Referral, ReferralPerson
    from triage.models.base import utcnow
    from triage.models.web import WebSession
    from triage.services.accounts import admin as accounts_admin
    from triage.services.accounts import resets, users
    from triage.services.privacy import retention

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
    # A restriction on another family's child (named: the admin), for the lift rows, and a
    # retention review waiting for confirmation (reported as of ten years on, when the
    # fixtures' referrals are due), for the confirm rows.
    private = api("fd", "POST", "/api/v1/referrals", json=hub_referral(
        channel="staff", people=[{**MUM, "family_name": "Quill"},
                                 {**CHILD, "family_name": "Quill"}]))
    with rt.db.reader() as session:
        quill = session.exec(select(ReferralPerson).join(
            Referral, Referral.id == ReferralPerson.referral_id).where(
            Referral.reference == private["reference"], ReferralPerson.ref == "c1")).one()
    restricted = api("mgr0", "POST", f"/api/v1/people/{quill.person_id}/restriction",
                     json={"users": [callers["admin"].id],
                           "reason": "A member of staff's own family"})
    extra["restriction_id"] = restricted["id"]
    extra["review_id"] = retention.report_due(rt, now=utcnow() + timedelta(days=3660))
    assert extra["review_id"], "the retention report found nothing due ten years on"
    # Accounts for the admin rows: a practitioner with a token and an emailed reset link
    # waiting, and a deactivated one (to reactivate).
    admin_user = users.user_for_token(rt.db, callers["admin"].token)
    target = users.create_user(rt.db, email="target@matrix.example", name="Target",
                               role="practitioner", team=HUB_TEAM)
    users.create_token(rt.db, email=target.email, label="case system")
    former = users.create_user(rt.db, email="former@matrix.example", name="Former",
                               role="practitioner", team=HUB_TEAM)
    accounts_admin.deactivate(rt, admin=admin_user, user_id=former.id)
    with rt.db.unit_of_work() as session:
        token_id = session.exec(select(ApiToken.id).where(ApiToken.user_id == target.id)).one()
        now = utcnow()
        reset = PasswordReset(user_id=target.id, created_by_id=admin_user.id, method="email",
                              nonce=secrets.token_hex(16), created_at=now,
                              expires_at=now + timedelta(days=1))
        session.add(reset)
        session.flush()
        link = resets._token(rt.settings.secret_key, reset.id, reset.nonce)
        reset.token_hash = resets._digest(link)
    extra.update(user_id=target.id, former_user_id=former.id, token_id=token_id, token=link)
    extra.update(_merge_fixtures(rt, api, waiting["reference"]))
    # The Charnwood hub's notification of its new case (a team notification: read per member).
    from triage.models import Notification

    with rt.db.reader() as session:
        extra["notification_id"] = session.exec(select(Notification.id).where(
            Notification.case_id == case["id"],
            Notification.recipient == f"team:{HUB_TEAM}")).one()
    return World(callers=callers, reference=sent["reference"], case_id=case["id"],
                 awaiting_reference=waiting["reference"], agenda_case_id=agenda["id"],
                 person_id=child.person_id, household_id=referral.household_id, extra=extra)


def _merge_fixtures(rt, api, waiting_reference: str) -> dict[str, Any]:
    """A record to merge the world's child (and family) into, a merge done already (to read
    and undo) and an open pair on the check-who-this-is worklist."""
    from sqlmodel import select

    from triage.models import MatchReview, Referral, ReferralPerson

    def people_of(reference: str) -> tuple[list[int], int]:
        with rt.db.reader() as session:
            referral = session.exec(select(Referral).where(
                Referral.reference == reference)).one()
            ids = session.exec(select(ReferralPerson.person_id).where(
                ReferralPerson.referral_id == referral.id).order_by(ReferralPerson.ref)).all()
        return list(ids), referral.household_id

    into, into_household = people_of(waiting_reference)
    twins = api("fd", "POST", "/api/v1/referrals", json=hub_referral(
        channel="staff", postcode="LE11 2AA", people=[{**MUM, "family_name": "Dupe"},
                                                       {**CHILD, "family_name": "Dupe"}]))
    (child, mum), _ = people_of(twins["reference"])
    done = api("fd", "POST", f"/api/v1/people/{child}/merge",
               json={"into": mum, "reason": "Entered twice by mistake"})
    pair = api("fd", "POST", "/api/v1/referrals", json=hub_referral(
        channel="staff", postcode="LE11 2AA", people=[{**MUM, "family_name": "Pair"},
                                                       {**CHILD, "family_name": "Pair"}]))
    (a, b), _ = people_of(pair["reference"])
    with rt.db.unit_of_work() as session:
        review = MatchReview(person_id=min(a, b), other_person_id=max(a, b), source="intake",
                             score=10.0, band="possible", comparisons=[])
        session.add(review)
        session.flush()
        review_id = review.id
    return {"merge_into_person": into[0], "merge_into_household": into_household,
            "merge_id": done["id"], "match_review_id": review_id}


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


def send(app, world: World, method: str, rule: str, caller: str, req: Req):
    """One cell's request: the caller's token (API) or session and CSRF token (web)."""
    path = _path(rule, world, req.path) + (f"?{req.query}" if req.query else "")
    api = rule.startswith("/api/") or rule == "/healthz"
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
        if method != "GET":
            form = {"csrf_token": who.csrf if who else _anonymous_csrf(client), **(form or {})}
    kwargs: dict[str, Any] = {"headers": headers}
    if req.json is not None:
        kwargs["json"] = req.json
    elif req.data is not None:
        kwargs.update(data=req.data, content_type=req.content_type)
    elif form is not None:
        kwargs["data"] = form
    return client.open(path, method=method, **kwargs)
