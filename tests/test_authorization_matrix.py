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
  World.value in tests/authz_world.py) and nothing else is sent. A row that needs a body or
  other ids gets an entry in REQUESTS (a function of the world and the caller's name
  returning a Req). Web POSTs carry the caller's CSRF token (an anonymous one for `anon`),
  so a cell shows the permission answer, never a CSRF 400.
* Every cell of a row that is not a GET runs on a fresh copy of the fixtures' database, so
  a POST that is allowed (a referral closed, a case moved, a session ended) cannot change the
  answer of the next cell. The fixtures are built once per test session (build_world in
  tests/authz_world.py).

Adding rows (admin pages, privacy operations...): copy a row of the same kind, put the
route and the answers in, and add a REQUESTS entry if the row needs a body or new fixtures
(add those to build_world in tests/authz_world.py). A cell that differs from what the app
answers is either a wrong cell or a defect in the app: fix the app.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.authz_world import (
    CHILD,
    HUB_TEAM,
    SECRET_KEY,
    Req,
    World,
    answer_of,
    build_world,
    hub_referral,
    matches,
    send,
    settings_for,
)

CALLERS = ("anon", "admin", "fd", "hub", "prac", "mgr", "mgr0", "xhub", "xprac", "xmgr",
           "ptnr", "xptnr")

MATRIX = """
# -- API (bearer tokens; anon has none) -----------------------------------------------------------------------------------
# METHOD rule                                       anon  admin fd    hub   prac  mgr   mgr0  xhub  xprac xmgr  ptnr  xptnr
GET  /api/v1/audit                                  401   ok    403   403   403   ok    ok    403   403   ok    403   403  # the audit trail: managers and admins
GET  /api/v1/cases                                  401   ok    ok    ok    ok    ok    ok    ok    ok    ok    403   403
GET  /api/v1/cases/capacity                         401   ok    403   403   403   ok    ok    403   403   ok    403   403  # counts only: managers and admins
GET  /api/v1/cases/<int:case_id>                    401   ok    ok    ok    ok    ok    ok    403   403   ok    403   403
POST /api/v1/cases/<int:case_id>/events             401   403   403   ok    ok    ok    ok    403   403   403   403   403
POST /api/v1/cases/reassign                         401   403   403   403   403   ok    ok    403   403   403   403   403  # a team's managers only; a member takes one case at a time
GET  /api/v1/checklist                              ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /api/v1/households/<int:household_id>          401   ok    ok    ok    ok    ok    ok    404   404   ok    403   403
GET  /api/v1/notifications                          401   ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /api/v1/people/<int:person_id>/merge           401   ok    ok    403   403   ok    ok    403   403   ok    403   403  # merging: the roles that see every record
POST /api/v1/households/<int:household_id>/merge     401   ok    ok    403   403   ok    ok    403   403   ok    403   403
GET  /api/v1/merges/<int:merge_id>                  401   ok    ok    403   403   ok    ok    403   403   ok    403   403
POST /api/v1/merges/<int:merge_id>/undo             401   ok    ok    403   403   ok    ok    403   403   ok    403   403
GET  /api/v1/match-reviews                          401   ok    ok    403   403   ok    ok    403   403   ok    403   403  # the check-who-this-is worklist: the front door and managers
POST /api/v1/match-reviews/<int:review_id>          401   ok    ok    403   403   ok    ok    403   403   ok    403   403
POST /api/v1/notifications/<int:notification_id>/read 401   404   404   ok    ok    ok    404   404   404   404   404   404  # a Charnwood hub notification: its team's members only
GET  /api/v1/notifications/overview                 401   ok    403   403   403   ok    ok    403   403   ok    403   403
POST /api/v1/notifications/read-all                 401   ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /api/v1/notifications/unread-count             401   ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /api/v1/openapi.json                           ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /api/v1/people                                 401   ok    ok    ok    ok    ok    ok    ok    ok    ok    403   403
GET  /api/v1/people/<int:person_id>                 401   ok    ok    ok    ok    ok    ok    404   404   ok    403   403
GET  /api/v1/people/<int:person_id>/export          401   ok    ok    403   403   ok    ok    403   403   ok    403   403  # subject access: the front door, managers and admins
POST /api/v1/people/<int:person_id>/rectification   401   ok    ok    403   403   ok    ok    403   403   ok    403   403
POST /api/v1/people/<int:person_id>/restriction     401   ok    403   403   403   ok    ok    403   403   ok    403   403  # restricting a record: managers and admins
GET  /api/v1/restrictions                           401   ok    403   403   403   ok    ok    403   403   ok    403   403
POST /api/v1/restrictions/<int:restriction_id>/lift 401   ok    403   403   403   ok    ok    403   403   ok    403   403
GET  /api/v1/retention/reviews                      401   ok    403   403   403   403   403   403   403   403   403   403  # the retention schedule: admins only
POST /api/v1/retention/reviews                      401   ok    403   403   403   403   403   403   403   403   403   403
POST /api/v1/retention/reviews/<int:review_id>/confirm 401 ok   403   403   403   403   403   403   403   403   403   403
GET  /api/v1/referrals                              401   ok    ok    403   403   ok    ok    403   403   ok    ok    ok
POST /api/v1/referrals                              401   ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /api/v1/referrals/<reference:reference>        401   ok    ok    ok    ok    ok    ok    404   404   ok    ok    404
POST /api/v1/referrals/<reference:reference>/close  401   ok    ok    403   403   ok    ok    403   403   ok    403   403
POST /api/v1/referrals/<reference:reference>/consent 401   ok    ok    404   404   ok    ok    404   404   ok    403   403  # awaiting consent: no case yet, so no team sees it
POST /api/v1/referrals/<reference:reference>/override 401   ok    ok    403   403   ok    ok    403   403   ok    403   403
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
GET  /account/reset/<token>                         ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok  # an emailed one-time link: whoever holds it
POST /account/reset/<token>                         ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /admin/sign-ins                                login ok    403   403   403   403   403   403   403   403   403   403  # account administration: admins only
GET  /admin/users/                                  login ok    403   403   403   403   403   403   403   403   403   403
GET  /admin/users/<int:user_id>                     login ok    403   403   403   403   403   403   403   403   403   403
GET  /admin/users/<int:user_id>/change              login ok    403   403   403   403   403   403   403   403   403   403
POST /admin/users/<int:user_id>/change              login ok    403   403   403   403   403   403   403   403   403   403
POST /admin/users/<int:user_id>/deactivate          login ok    403   403   403   403   403   403   403   403   403   403
POST /admin/users/<int:user_id>/password            login ok    403   403   403   403   403   403   403   403   403   403
POST /admin/users/<int:user_id>/reactivate          login ok    403   403   403   403   403   403   403   403   403   403
POST /admin/users/<int:user_id>/tokens              login ok    403   403   403   403   403   403   403   403   403   403
POST /admin/users/<int:user_id>/tokens/<int:token_id>/revoke login ok 403 403 403   403   403   403   403   403   403   403
POST /admin/users/<int:user_id>/unlock              login ok    403   403   403   403   403   403   403   403   403   403
GET  /admin/users/new                               login ok    403   403   403   403   403   403   403   403   403   403
POST /admin/users/new                               login ok    403   403   403   403   403   403   403   403   403   403
GET  /audit                                         login ok    403   403   403   ok    ok    403   403   ok    403   403
GET  /cases/                                        login ok    ok    ok    ok    ok    ok    ok    ok    ok    403   403
GET  /cases/<int:case_id>                           login ok    ok    ok    ok    ok    ok    403   403   ok    403   403
GET  /cases/<int:case_id>/events/<event>            login 403   403   ok    ok    ok    ok    403   403   403   403   403  # a form only for those whose POST is allowed
POST /cases/<int:case_id>/events/<event>            login 403   403   ok    ok    ok    ok    403   403   403   403   403
POST /cases/<int:case_id>/notes                     login 403   403   ok    ok    ok    ok    403   403   403   403   403  # seeing a case is not working it (issue 12, defect 8)
GET  /cases/capacity                                login ok    403   403   403   ok    ok    403   403   ok    403   403
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
GET  /notifications/                                login ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /notifications/<int:notification_id>/read      login 404   404   ok    ok    ok    404   404   404   404   404   404
GET  /notifications/overview                        login ok    403   403   403   ok    ok    403   403   ok    403   403
POST /notifications/read-all                        login ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET  /partner/                                      login 403   403   403   403   403   403   403   403   403   ok    ok
GET  /partner/batches/new                           login 403   403   403   403   403   403   403   403   403   ok    ok
POST /partner/batches/new                           login 403   403   403   403   403   403   403   403   403   ok    ok
GET  /partner/batches/template.csv                  login 403   403   403   403   403   403   403   403   403   ok    ok
GET  /partner/referrals/<reference>                 login 403   403   403   403   403   403   403   403   403   ok    404
GET  /partner/referrals/<reference>/confirmation    login 403   403   403   403   403   403   403   403   403   ok    404
GET  /partner/referrals/new                         login 403   403   403   403   403   403   403   403   403   ok    ok
POST /partner/referrals/new                         login 403   403   403   403   403   403   403   403   403   ok    ok
GET  /people/<int:person_id>                        login ok    ok    ok    ok    ok    ok    404   404   ok    403   403
GET  /people/<int:person_id>/export                 login ok    ok    403   403   ok    ok    403   403   ok    403   403
GET  /people/<int:person_id>/rectify                login ok    ok    403   403   ok    ok    403   403   ok    403   403
POST /people/<int:person_id>/rectify                login ok    ok    403   403   ok    ok    403   403   ok    403   403
GET  /people/<int:person_id>/restriction            login ok    403   403   403   ok    ok    403   403   ok    403   403
POST /people/<int:person_id>/restriction            login ok    403   403   403   ok    ok    403   403   ok    403   403
GET  /privacy/restrictions                          login ok    403   403   403   ok    ok    403   403   ok    403   403
POST /privacy/restrictions/<int:restriction_id>/lift login ok   403   403   403   ok    ok    403   403   ok    403   403
GET  /privacy/retention                             login ok    403   403   403   403   403   403   403   403   403   403
POST /privacy/retention/<int:review_id>/confirm     login ok    403   403   403   403   403   403   403   403   403   403
POST /privacy/retention/report                      login ok    403   403   403   403   403   403   403   403   403   403
GET  /referrals/<reference>                         login ok    ok    ok    ok    ok    ok    404   404   ok    403   403
POST /referrals/<reference>/close                   login ok    ok    403   403   ok    ok    403   403   ok    403   403
GET  /referrals/<reference>/confirmation            login ok    ok    ok    ok    ok    ok    404   404   ok    403   403
POST /referrals/<reference>/consent                 login ok    ok    404   404   ok    ok    404   404   ok    403   403
GET  /referrals/<reference>/family                  login ok    ok    ok    ok    ok    ok    404   404   ok    403   403  # another team's family is not named, even by its id
POST /referrals/<reference>/override                login ok    ok    403   403   ok    ok    403   403   ok    403   403
GET  /referrals/new                                 login ok    ok    ok    ok    ok    ok    ok    ok    ok    403   403
POST /referrals/new                                 login ok    ok    ok    ok    ok    ok    ok    ok    ok    403   403
GET  /search                                        login ok    ok    ok    ok    ok    ok    ok    ok    ok    403   403
GET  /people/<int:person_id>/merge                  login ok    ok    403   403   ok    ok    403   403   ok    403   403
POST /people/<int:person_id>/merge                  login ok    ok    403   403   ok    ok    403   403   ok    403   403
GET  /families/<int:household_id>/merge              login ok    ok    403   403   ok    ok    403   403   ok    403   403
POST /families/<int:household_id>/merge             login ok    ok    403   403   ok    ok    403   403   ok    403   403
POST /merges/<int:merge_id>/undo                    login ok    ok    403   403   ok    ok    403   403   ok    403   403
GET  /front-door/check                              login ok    ok    403   403   ok    ok    403   403   ok    403   403
POST /front-door/check/<int:review_id>             login ok    ok    403   403   ok    ok    403   403   ok    403   403
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
    "POST /api/v1/referrals/<reference:reference>/consent": lambda w, c: Req(
        path={"reference": w.awaiting_reference}, json={"consent": "given"}),
    "POST /api/v1/referrals/<reference:reference>/override": lambda w, c: Req(
        json={"reason": "Talked to the family again", "level": 2}),
    "POST /api/v1/referrals/<reference:reference>/close": lambda w, c: Req(
        path={"reference": w.awaiting_reference},
        json={"closure": w.extra["closure"], "note": "Advice given by phone"}),
    "POST /api/v1/cases/<int:case_id>/events": lambda w, c: Req(json={"event": "add_to_agenda"}),
    "POST /api/v1/cases/reassign": lambda w, c: Req(json={
        "from_worker": w.callers["hub"].id, "to_worker": w.callers["prac"].id}),
    "POST /api/v1/people/<int:person_id>/rectification": lambda w, c: Req(json={
        "changes": {"given_name": "Jo"}, "reason": "The family spelt it for us"}),
    "POST /api/v1/people/<int:person_id>/restriction": lambda w, c: Req(json={
        "users": [w.callers["admin"].id], "reason": "A member of staff's own family"}),
    "POST /api/v1/restrictions/<int:restriction_id>/lift": lambda w, c: Req(json={
        "reason": "The named worker has left"}),
    "POST /api/v1/retention/reviews/<int:review_id>/confirm": lambda w, c: Req(json={
        "reason": "Checked against the schedule"}),
    "POST /api/v1/people/<int:person_id>/merge": lambda w, c: Req(json={
        "into": w.extra["merge_into_person"], "reason": "The family told us it is them"}),
    "POST /api/v1/households/<int:household_id>/merge": lambda w, c: Req(json={
        "into": w.extra["merge_into_household"], "reason": "The same family at one address"}),
    "POST /api/v1/merges/<int:merge_id>/undo": lambda w, c: Req(json={
        "reason": "Two different people after all"}),
    "POST /api/v1/match-reviews/<int:review_id>": lambda w, c: Req(
        path={"review_id": w.extra["match_review_id"]}, json={
        "decision": "not_same", "reason": "Different schools, different people"}),
    # web
    "POST /people/<int:person_id>/rectify": lambda w, c: Req(form={
        "given_name": "Thom", "family_name": CHILD["family_name"],
        "reason": "The family spelt it for us"}),
    "POST /people/<int:person_id>/restriction": lambda w, c: Req(form={
        "users": "admin@matrix.example", "reason": "A member of staff's own family"}),
    "POST /privacy/restrictions/<int:restriction_id>/lift": lambda w, c: Req(form={
        "reason": "The named worker has left"}),
    "POST /privacy/retention/<int:review_id>/confirm": lambda w, c: Req(form={
        "reason": "Checked against the schedule"}),
    "POST /people/<int:person_id>/merge": lambda w, c: Req(form={
        "into": str(w.extra["merge_into_person"]), "reason": "The family told us it is them"}),
    "POST /families/<int:household_id>/merge": lambda w, c: Req(form={
        "into": str(w.extra["merge_into_household"]),
        "reason": "The same family at one address"}),
    "POST /merges/<int:merge_id>/undo": lambda w, c: Req(form={
        "reason": "Two different people after all"}),
    "POST /front-door/check/<int:review_id>": lambda w, c: Req(
        path={"review_id": w.extra["match_review_id"]}, form={
        "decision": "not_same", "reason": "Different schools, different people"}),
    "POST /account/reset/<token>": lambda w, c: Req(form={
        "new_password": "a brand new passphrase 2026", "confirm_password":
        "a brand new passphrase 2026"}),
    "POST /admin/users/new": lambda w, c: Req(form={
        "name": "New Worker", "email": "new.worker@matrix.example", "role": "practitioner",
        "team": HUB_TEAM, "organisation": ""}),
    "POST /admin/users/<int:user_id>/change": lambda w, c: Req(form={
        "name": "Target", "role": "hub_coordinator", "team": HUB_TEAM, "organisation": ""}),
    "POST /admin/users/<int:user_id>/password": lambda w, c: Req(form={"method": "shown"}),
    "POST /admin/users/<int:user_id>/reactivate": lambda w, c: Req(
        path={"user_id": w.extra["former_user_id"]}, form={}),
    "POST /admin/users/<int:user_id>/tokens": lambda w, c: Req(form={"label": "case system"}),
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


# -- running the cells --------------------------------------------------------------------
@pytest.fixture(scope="session")
def matrix(tmp_path_factory, sqlite_template):
    """The app over a working copy of the world's database, and a way to put the copy back."""
    from triage import create_app

    folder = tmp_path_factory.mktemp("matrix")
    snapshot, work = folder / "world.sqlite3", folder / "work.sqlite3"
    shutil.copy(sqlite_template, snapshot)
    builder = create_app(settings_for(folder, snapshot), background=False, synchronous_tasks=True)
    world = build_world(builder)
    builder.extensions["triage"].relay.stop()
    builder.extensions["triage"].db.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{snapshot}{suffix}").unlink(missing_ok=True)
    shutil.copy(snapshot, work)
    app = create_app(settings_for(folder, work), background=False, synchronous_tasks=True)
    rt = app.extensions["triage"]

    def restore() -> None:
        rt.db.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{work}{suffix}").unlink(missing_ok=True)
        shutil.copy(snapshot, work)

    yield app, world, restore
    rt.relay.stop()
    rt.db.dispose()


@pytest.mark.parametrize("key", sorted(ROWS))
def test_each_caller_gets_the_answer_in_the_matrix(matrix, key):
    app, world, restore = matrix
    row = ROWS[key]
    wrong = []
    for caller in CALLERS:
        if row.method != "GET":
            restore()
        req = REQUESTS.get(row.key, lambda w, c: Req())(world, caller)
        response = send(app, world, row.method, row.rule, caller, req)
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
