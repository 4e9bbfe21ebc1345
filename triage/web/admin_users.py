"""Administrators' pages for accounts: the list, a new account, an account's page (details,
password, tokens, sign-ins), changing its details, deactivating and reactivating it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from triage.errors import Conflict, ValidationFailed
from triage.policy import ADMINISTER_ACCOUNTS
from triage.services.accounts import access, admin
from triage.web.forms import field_errors
from triage.web.security import current_user, require_role, runtime

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")

ACCOUNT_FIELDS = ("name", "email", "role", "team", "organisation")
DONE = {
    "created": "Account created. Give the person a password below.",
    "changed": "Account details changed.",
    "deactivated": "Account deactivated: its sessions have ended and its API tokens are "
                   "revoked.",
    "reactivated": "Account reactivated. Its old API tokens stay revoked.",
    "emailed": "A one-time link to set a new password is being emailed to the person.",
    "revoked": "Token revoked.",
    "unlocked": "Failed sign-ins cleared: the account is no longer locked.",
}


def _form(names: tuple[str, ...]) -> dict[str, Any]:
    """Only the fields the form has (the CSRF token and anything else are not the body)."""
    return {name: request.form.get(name, "") for name in names}


def _ids(errors: dict[str, list[str]]) -> dict[str, str]:
    return field_errors(errors, {k: k for k in (*ACCOUNT_FIELDS, *errors)})


def _common() -> dict[str, Any]:
    rt = runtime()
    return {"teams": admin.teams(rt.profile), "role_names": admin.role_names(rt),
            "roles_offered": admin.roles_offered(rt)}


@bp.get("/")
@require_role(ADMINISTER_ACCOUNTS)
def index():
    args = {k: v for k, v in request.args.items() if k in ("role", "team", "active", "page")}
    errors: dict[str, str] = {}
    try:
        found = admin.list_users(runtime(), admin=current_user(), args=args)
    except ValidationFailed as exc:
        errors = _ids(exc.errors)
        found = admin.list_users(runtime(), admin=current_user(), args={})
    return render_template("admin/users.html", found=found, errors=errors, args=args,
                           **_common()), (422 if errors else 200)


@bp.route("/new", methods=["GET", "POST"])
@require_role(ADMINISTER_ACCOUNTS)
def new():
    errors: dict[str, str] = {}
    form = _form(ACCOUNT_FIELDS)
    if request.method == "POST":
        try:
            user = admin.create_user(runtime(), admin=current_user(), body=form)
        except ValidationFailed as exc:
            errors = _ids(exc.errors)
        else:
            return redirect(url_for("admin_users.show", user_id=user.id, done="created"))
    return render_template("admin/user_form.html", form=form, errors=errors, account=None,
                           **_common()), (422 if errors else 200)


def user_page(user_id: int, *, errors: dict[str, str] | None = None, status: int = 200,
              forms: dict[str, Any] | None = None):
    """An account's page: details, password, API tokens, sign-ins (also re-shown, with the
    errors by their fields, when one of its forms is refused)."""
    rt, me = runtime(), current_user()
    account = admin.get_user(rt, admin=me, user_id=user_id)
    return render_template(
        "admin/user.html", account=account, errors=errors or {}, forms=forms or {},
        tokens=access.tokens_of(rt, admin=me, user_id=user_id),
        sign_ins=access.sign_in_state(rt, admin=me, user_id=user_id),
        done=DONE.get(request.args.get("done", "")), email_ready=bool(rt.settings.smtp_url),
        **_common()), status


@bp.get("/<int:user_id>")
@require_role(ADMINISTER_ACCOUNTS)
def show(user_id: int):
    return user_page(user_id)


@bp.route("/<int:user_id>/change", methods=["GET", "POST"])
@require_role(ADMINISTER_ACCOUNTS)
def change(user_id: int):
    account = admin.get_user(runtime(), admin=current_user(), user_id=user_id)
    errors: dict[str, str] = {}
    names = ("name", "role", "team", "organisation")
    if request.method == "POST":
        form = _form(names)
        try:
            admin.change_user(runtime(), admin=current_user(), user_id=user_id, body=form)
        except ValidationFailed as exc:
            errors = _ids(exc.errors)
        else:
            return redirect(url_for("admin_users.show", user_id=user_id, done="changed"))
    else:
        form = {name: getattr(account, name) or "" for name in names}
    return render_template("admin/user_form.html", form=form, errors=errors, account=account,
                           **_common()), (422 if errors else 200)


@bp.post("/<int:user_id>/deactivate")
@require_role(ADMINISTER_ACCOUNTS)
def deactivate(user_id: int):
    try:
        admin.deactivate(runtime(), admin=current_user(), user_id=user_id)
    except Conflict as exc:
        return user_page(user_id, errors={"deactivate": exc.message}, status=409)
    if user_id == current_user().id:
        return redirect(url_for("auth.signed_out"))
    return redirect(url_for("admin_users.show", user_id=user_id, done="deactivated"))


@bp.post("/<int:user_id>/reactivate")
@require_role(ADMINISTER_ACCOUNTS)
def reactivate(user_id: int):
    try:
        admin.reactivate(runtime(), admin=current_user(), user_id=user_id)
    except Conflict as exc:
        return user_page(user_id, errors={"reactivate": exc.message}, status=409)
    return redirect(url_for("admin_users.show", user_id=user_id, done="reactivated"))
