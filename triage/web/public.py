"""The public self-referral: plain English, one thing per page, a check-your-answers page, a
reference at the end; protected by a per-address rate limit and a honeypot field.

Answers are kept in a server-side draft (triage.services.drafts) until sent; every page is
validated by the same referral schema as the API, keeping only the errors about that page.
"""

from __future__ import annotations

import re
import time
from typing import Any

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from marshmallow import ValidationError

from triage.errors import ValidationFailed, flatten_errors
from triage.schemas.referral import referral_schema_for
from triage.services.accounts import rate_limits, signin
from triage.services.referrals import drafts, intake
from triage.web.forms import PersonRow, referral_errors
from triage.web.security import cookie_name, runtime

bp = Blueprint("public", __name__, url_prefix="/self-referral")
DRAFT_KIND = "self_referral"
DRAFT_COOKIE = "eh_draft"
HOUSEHOLD_ROWS = 4
HONEYPOT = "website"

# The pages in order: (endpoint name, title, template, which error ids belong to it).
PAGES = ["about_you", "postcode", "household", "safety", "needs", "more", "contact",
         "consent"]


def _token() -> str | None:
    return request.cookies.get(cookie_name(DRAFT_COOKIE))


def _draft() -> dict[str, Any] | None:
    return drafts.load(runtime(), kind=DRAFT_KIND, token=_token())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(runtime().settings.secret_key, salt="self-referral-done")


def _person(data: dict[str, Any]) -> PersonRow:
    return PersonRow(**{k: data.get(k, "") for k in ("given_name", "family_name",
                                                      "relationship", "day", "month", "year")})


def body_from(draft: dict[str, Any]) -> tuple[dict[str, Any], dict[int, int]]:
    """The API body for the answers so far (the same shape partners send)."""
    me = _person(draft.get("person", {}))
    people: list[dict[str, Any]] = [_person_body("p1", "subject", me)]
    rows = {0: 0}
    for i, row in enumerate(draft.get("household", [])):
        person = _person(row)
        if person.blank:
            continue
        rows[len(people)] = i + 1
        people.append(_person_body(f"p{i + 2}", "household", person))
    name = f"{me.given_name} {me.family_name}".strip()
    referrer = {k: v for k, v in (("name", name), ("email", draft.get("email", "")),
                                  ("phone", draft.get("phone", ""))) if v}
    contact = {k: v for k, v in (("phone", draft.get("phone", "")),
                                 ("email", draft.get("email", "")),
                                 ("preferred", draft.get("preferred", "")),
                                 ("safe_contact_notes", draft.get("safe_contact_notes", "")))
               if v}
    if draft.get("safe_to_contact") in ("yes", "no"):
        contact["safe_to_contact"] = draft["safe_to_contact"] == "yes"
    if contact:
        people[0]["contact"] = contact  # the person referring themselves
    address = {k: v for k, v in (("line1", draft.get("address_line1", "")),
                                 ("town", draft.get("town", ""))) if v}
    answers = {qid: True for qid in draft.get("safety", []) + draft.get("needs", [])}
    body: dict[str, Any] = {"channel": "self", "referrer": referrer,
                            "postcode": draft.get("postcode", ""), "people": people,
                            "answers": answers, "consent": draft.get("consent") or "not_asked",
                            "information_only": bool(draft.get("information_only"))}
    if draft.get("concerns"):
        body["concerns"] = draft["concerns"]
    if address:
        body["address"] = address
    if not body["postcode"]:
        body.pop("postcode")
    return body, rows


def _person_body(ref: str, role: str, row: PersonRow) -> dict[str, Any]:
    person: dict[str, Any] = {"ref": ref, "role": role}
    for name in ("given_name", "family_name", "relationship"):
        if getattr(row, name):
            person[name] = getattr(row, name)
    dob = row.date_of_birth()
    if dob is not None:
        person["date_of_birth"] = dob
    return person


def schema_errors(draft: dict[str, Any]) -> dict[str, str]:
    """Every problem with the answers so far, as {public page field id: message}."""
    body, rows = body_from(draft)
    try:
        referral_schema_for(runtime().profile).load(body)
    except ValidationError as exc:
        profile = runtime().profile
        errors = referral_errors(flatten_errors(exc.messages), rows, profile.checklist,
                                 postcode_example=profile.texts["postcode_example"])
        return {_public_id(k): _plain(v) for k, v in errors.items()}
    return {}


def _public_id(field_id: str) -> str:
    """Field ids on the staff form -> ids on the public pages."""
    if field_id.startswith("people-0-"):
        return field_id.replace("people-0-", "")
    if field_id.startswith("people-"):
        _, n, rest = field_id.split("-", 2)
        return f"household-{int(n) - 1}-{rest}"
    if field_id.startswith("referrer-"):
        return field_id.replace("referrer-", "")
    return field_id


def _plain(message: str) -> str:
    """Speak to the person: 'the person being referred' is 'you' on the public form, and the
    household's people are numbered from 1 on its household page."""
    message = re.sub(r"person (\d+) in the household",
                     lambda m: f"person {int(m.group(1)) - 1} who lives with you", message)
    return (message.replace("the date of birth of the person being referred", "your date of birth")
            .replace("The date of birth of the person being referred", "Your date of birth")
            .replace("Enter the date of birth of the person being referred",
                     "Enter your date of birth")
            .replace("the person being referred", "you")
            .replace("Enter the postcode of the household", "Enter your postcode"))


PAGE_FIELDS = {
    "about_you": ("given_name", "family_name", "dob-day"),
    "postcode": ("postcode", "address-"),
    "household": ("household-",),
    "safety": ("answer-",),
    "needs": ("answer-",),
    "more": ("concerns",),
    "contact": ("email", "phone", "preferred", "safe_to_contact", "safe_contact_notes"),
    "consent": ("consent",),
}


def _page_errors(page: str, draft: dict[str, Any]) -> dict[str, str]:
    prefixes = PAGE_FIELDS[page]
    errors = {k: v for k, v in schema_errors(draft).items() if k.startswith(prefixes)}
    if page == "about_you":
        person = draft.get("person", {})
        if not person.get("given_name"):
            errors = {"given_name": "Enter your first name", **errors}
        if not person.get("family_name"):
            errors.setdefault("family_name", "Enter your last name")
        errors = {k: errors[k] for k in ("given_name", "family_name", "dob-day") if k in errors}
    if page == "contact" and not (draft.get("email") or draft.get("phone")):
        errors = {"email": "Enter an email address or a phone number so we can contact you",
                  **errors}
    if page == "consent" and draft.get("consent") not in ("given", "refused"):
        errors = {"consent": "Select yes if you agree to the referral and to sharing"}
    return errors


def _read(page: str, draft: dict[str, Any]) -> dict[str, Any]:
    """This page's answers from the posted form, merged into the draft."""
    f = request.form
    draft = dict(draft)
    if page == "about_you":
        draft["person"] = {k: f.get(k, "").strip() for k in ("given_name", "family_name")}
        draft["person"].update({k: f.get(f"dob-{k}", "").strip()
                                for k in ("day", "month", "year")})
    elif page == "postcode":
        draft["postcode"] = f.get("postcode", "").strip()
        draft["address_line1"] = f.get("address-line1", "").strip()
        draft["town"] = f.get("address-town", "").strip()
    elif page == "household":
        draft["household"] = [{
            "given_name": f.get(f"household-{i}-given_name", "").strip(),
            "relationship": f.get(f"household-{i}-relationship", "").strip(),
            "day": f.get(f"household-{i}-dob-day", "").strip(),
            "month": f.get(f"household-{i}-dob-month", "").strip(),
            "year": f.get(f"household-{i}-dob-year", "").strip(),
        } for i in range(HOUSEHOLD_ROWS)]
    elif page in ("safety", "needs"):
        valid = runtime().profile.checklist.questions
        draft[page] = [q for q in f.getlist("answers") if q in valid]
    elif page == "more":
        draft["concerns"] = f.get("concerns", "").strip()
        draft["information_only"] = f.get("information_only") == "yes"
    elif page == "contact":
        draft["email"] = f.get("email", "").strip()
        draft["phone"] = f.get("phone", "").strip()
        draft["preferred"] = f.get("preferred", "").strip()
        draft["safe_to_contact"] = f.get("safe_to_contact", "").strip()
        draft["safe_contact_notes"] = f.get("safe_contact_notes", "").strip()
    elif page == "consent":
        draft["consent"] = f.get("consent", "")
    return draft


@bp.get("/")
def start():
    return render_template("public/start.html")


@bp.get("/privacy")
def privacy():
    return render_template("public/privacy.html")


@bp.post("/begin")
def begin():
    rt = runtime()
    if not rate_limits.allow(rt, bucket="self_referral_start", source=_source(),
                             limit=rt.settings.self_referral_per_ip_per_hour * 5):
        abort(429, description="There have been too many self-referrals started from your "
                               "connection in the last hour. Try again later.")
    token = drafts.start(rt, kind=DRAFT_KIND)
    response = make_response(redirect(url_for("public.page", page=PAGES[0])))
    response.set_cookie(cookie_name(DRAFT_COOKIE), token, max_age=2 * 3600, **_cookie_flags())
    return response


def _cookie_flags() -> dict[str, Any]:
    """Set and deleted with the same attributes: a browser only deletes a __Host- cookie
    when the deleting Set-Cookie is Secure with Path=/ too."""
    return {"httponly": True, "samesite": "Lax", "path": "/",
            "secure": runtime().settings.env == "production"}


@bp.route("/<page>", methods=["GET", "POST"])
def page(page: str):
    if page not in PAGES:
        abort(404)
    draft = _draft()
    if draft is None:
        return redirect(url_for("public.start", expired=1))
    errors: dict[str, str] = {}
    if request.method == "POST":
        draft = _read(page, draft)
        drafts.save(runtime(), token=_token(), data=draft, kind=DRAFT_KIND)
        errors = _page_errors(page, draft)
        if not errors:
            if request.args.get("change") or page == PAGES[-1]:
                return redirect(url_for("public.check"))
            return redirect(url_for("public.page", page=PAGES[PAGES.index(page) + 1]))
    back = (url_for("public.check") if request.args.get("change") else
            url_for("public.page", page=PAGES[PAGES.index(page) - 1]) if PAGES.index(page)
            else url_for("public.start"))
    return render_template(f"public/{page}.html", draft=draft, errors=errors, back=back,
                           has_children=_has_children(draft),
                           change=bool(request.args.get("change"))), (422 if errors else 200)


def _has_children(draft: dict[str, Any]) -> bool:
    from datetime import date

    from triage.schemas.referral import children_in_household

    body, _ = body_from(draft)
    people = []
    for p in body["people"]:
        try:
            people.append({"date_of_birth": date.fromisoformat(p.get("date_of_birth", ""))})
        except ValueError:
            continue
    return children_in_household(runtime().profile.checklist, body["answers"], people,
                                 date.today())


@bp.route("/check", methods=["GET", "POST"])
def check():
    rt = runtime()
    draft = _draft()
    if draft is None:
        return _already_sent()
    errors = {}
    for name in PAGES:
        for field_id, message in _page_errors(name, draft).items():
            errors.setdefault(field_id, (name, message))
    if request.method == "POST" and not errors:
        if request.form.get(HONEYPOT):
            signin.record_refused(rt, user=None, what="self_referral.honeypot")
            abort(400, description="We could not send your referral. If this keeps happening, "
                                   "call the council's customer service centre.")
        # Only one request can claim the draft, so a double click (or a second tab) cannot
        # send it twice; the loser is shown what became of the first.
        draft = drafts.claim(rt, kind=DRAFT_KIND, token=_token())
        if draft is None:
            return _already_sent()
        try:
            body, rows = body_from(draft)
            if not rate_limits.allow(rt, bucket="self_referral", source=_source(),
                                     limit=rt.settings.self_referral_per_ip_per_hour):
                abort(429, description="There have been too many self-referrals sent from "
                                       "your connection in the last hour. Try again later.")
            _, created = intake.submit_referral(rt, user=None, body=body)
        except ValidationFailed as exc:
            drafts.release(rt, kind=DRAFT_KIND, token=_token())
            found = referral_errors(exc.errors, rows, rt.profile.checklist,
                                    postcode_example=rt.profile.texts["postcode_example"])
            errors = {_public_id(k): ("check", _plain(v)) for k, v in found.items()}
        except BaseException:
            # Nothing was sent: the answers stay, to send again.
            drafts.release(rt, kind=DRAFT_KIND, token=_token())
            raise
        else:
            drafts.mark_sent(rt, kind=DRAFT_KIND, token=_token(),
                             reference=created["reference"])
            return _to_done(created["reference"])
    page_of = {field_id: page for field_id, (page, _) in errors.items()}
    return render_template("public/check.html", draft=draft,
                           errors={k: m for k, (_, m) in errors.items()}, page_of=page_of,
                           has_children=_has_children(draft)), (422 if errors else 200)


# How long a repeated submission waits for the first one to finish sending.
SENDING_WAIT_SECONDS = 5.0


def _already_sent():
    """The draft cannot be used: show the reference if it was sent (waiting briefly while
    another request sends it), otherwise start again."""
    rt = runtime()
    deadline = time.monotonic() + SENDING_WAIT_SECONDS
    while True:
        found = drafts.status(rt, kind=DRAFT_KIND, token=_token())
        if found is None:
            return redirect(url_for("public.start", expired=1))
        if found.reference:
            return _to_done(found.reference)
        if time.monotonic() >= deadline:
            return render_template("public/sending.html"), 409
        time.sleep(0.1)


def _to_done(reference: str):
    signed = _serializer().dumps(reference)
    response = make_response(redirect(url_for("public.done", r=signed)))
    response.delete_cookie(cookie_name(DRAFT_COOKIE), **_cookie_flags())
    return response


@bp.get("/done")
def done():
    try:
        reference = _serializer().loads(request.args.get("r", ""), max_age=24 * 3600)
    except BadSignature:
        abort(404)
    return render_template("public/done.html", reference=reference)


def _source() -> str:
    return request.remote_addr or "unknown"
