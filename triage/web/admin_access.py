"""Administrators' pages for an account's access: resetting its password, issuing and
revoking API tokens, unlocking it, and recent sign-ins and lock-outs across accounts."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from triage.errors import Conflict, ValidationFailed
from triage.policy import ADMINISTER_ACCOUNTS
from triage.services.accounts import access, admin, resets
from triage.web.admin_users import user_page
from triage.web.forms import field_errors
from triage.web.security import current_user, require_role, runtime

bp = Blueprint("admin_access", __name__, url_prefix="/admin")


@bp.post("/users/<int:user_id>/password")
@require_role(ADMINISTER_ACCOUNTS)
def reset_password(user_id: int):
    try:
        issued = resets.issue(runtime(), admin=current_user(), user_id=user_id,
                              body={"method": request.form.get("method") or None})
    except ValidationFailed as exc:
        return user_page(user_id, errors=field_errors(exc.errors, {"method": "method"}),
                         status=422)
    except Conflict as exc:
        return user_page(user_id, errors={"method": exc.message}, status=409)
    if issued.password is None:
        return redirect(url_for("admin_users.show", user_id=user_id, done="emailed"))
    account = admin.get_user(runtime(), admin=current_user(), user_id=user_id)
    return render_template("admin/password_shown.html", account=account,
                           password=issued.password)


@bp.post("/users/<int:user_id>/tokens")
@require_role(ADMINISTER_ACCOUNTS)
def new_token(user_id: int):
    try:
        token = access.issue_token(runtime(), admin=current_user(), user_id=user_id,
                                   body={"label": request.form.get("label", "")})
    except ValidationFailed as exc:
        return user_page(user_id, errors=field_errors(exc.errors, {"label": "label"}),
                         status=422, forms={"label": request.form.get("label", "")})
    except Conflict as exc:
        return user_page(user_id, errors={"label": exc.message}, status=409)
    account = admin.get_user(runtime(), admin=current_user(), user_id=user_id)
    return render_template("admin/token_created.html", account=account, token=token)


@bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
@require_role(ADMINISTER_ACCOUNTS)
def revoke_token(user_id: int, token_id: int):
    try:
        access.revoke(runtime(), admin=current_user(), user_id=user_id, token_id=token_id)
    except Conflict as exc:
        return user_page(user_id, errors={"tokens": exc.message}, status=409)
    return redirect(url_for("admin_users.show", user_id=user_id, done="revoked") + "#tokens")


@bp.post("/users/<int:user_id>/unlock")
@require_role(ADMINISTER_ACCOUNTS)
def unlock(user_id: int):
    access.unlock(runtime(), admin=current_user(), user_id=user_id)
    return redirect(url_for("admin_users.show", user_id=user_id, done="unlocked") + "#sign-ins")


@bp.get("/sign-ins")
@require_role(ADMINISTER_ACCOUNTS)
def sign_ins():
    return render_template("admin/sign_ins.html",
                           overview=access.overview(runtime(), admin=current_user()),
                           role_names=admin.role_names(runtime()))
