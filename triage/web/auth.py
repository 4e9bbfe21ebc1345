"""Signing in and out, and changing one's password."""

from __future__ import annotations

from flask import Blueprint, g, make_response, redirect, render_template, request, url_for

from triage.errors import ValidationFailed
from triage.models import Role
from triage.services.accounts import resets, signin
from triage.web.forms import field_errors
from triage.web.security import (
    clear_session_cookie,
    current_user,
    home_for,
    require_role,
    runtime,
    safe_next,
    session_token,
    set_session_cookie,
)

bp = Blueprint("auth", __name__)
ALL_ROLES = set(Role)

ENDED = {
    signin.SessionEnd.idle: "You were signed out because you had not done anything for "
                            "{minutes} minutes. Sign in again to continue.",
    signin.SessionEnd.expired: "You were signed out because you had been signed in for "
                               "{hours} hours. Sign in again to continue.",
}


@bp.route("/login", methods=["GET", "POST"])
def login():
    rt = runtime()
    next_url = safe_next(request.values.get("next"), "")
    errors: dict[str, str] = {}
    email = ""
    status = 200
    if request.method == "POST":
        email = request.form.get("email", "")
        try:
            signed = signin.sign_in(rt, email=email, password=request.form.get("password", ""),
                                    previous_token=session_token(),
                                    source=request.remote_addr)
        except ValidationFailed as exc:
            errors = field_errors(exc.errors, {"email": "email", "password": "password"})
            status = 422
        except signin.SignInRefused as exc:
            errors = {"email": exc.message}
            status = 401
        else:
            response = make_response(redirect(next_url or home_for(signed.user)))
            set_session_cookie(response, signed.token)
            return response
    elif current_user() is not None:
        return redirect(next_url or home_for(current_user()))
    notice = None
    ended = g.get("session_ended")
    if ended not in ENDED and request.args.get("ended") in ENDED:
        ended = signin.SessionEnd(request.args["ended"])
    if ended in ENDED:
        notice = ENDED[ended].format(minutes=rt.settings.session_idle_minutes,
                                     hours=rt.settings.session_absolute_hours)
    return render_template("auth/login.html", errors=errors, email=email, next_url=next_url,
                           notice=notice, idle_minutes=rt.settings.session_idle_minutes), status


@bp.get("/sign-out")
def logout_confirm():
    if current_user() is None:
        return redirect(url_for("auth.login"))
    return render_template("auth/sign_out.html")


@bp.post("/sign-out")
def logout():
    signin.sign_out(runtime(), session_token())
    response = make_response(redirect(url_for("auth.signed_out")))
    clear_session_cookie(response)
    return response


@bp.get("/signed-out")
def signed_out():
    return render_template("auth/signed_out.html")


@bp.route("/account/password", methods=["GET", "POST"])
@require_role(ALL_ROLES)
def password():
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            signin.change_password(runtime(), user=current_user(),
                                   current=request.form.get("current_password", ""),
                                   new=request.form.get("new_password", ""),
                                   confirm=request.form.get("confirm_password", ""))
        except ValidationFailed as exc:
            errors = field_errors(exc.errors, {k: k for k in exc.errors})
        else:
            signin.end_other_sessions(runtime(), user=current_user(),
                                      keep_token=session_token())
            return render_template("auth/password_changed.html")
    return render_template("auth/password.html", errors=errors), (422 if errors else 200)


@bp.route("/account/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    """Choose a new password from a one-time link an administrator had emailed."""
    rt = runtime()
    try:
        resets.check_link(rt, token=token)
    except resets.ResetLinkInvalid:
        return render_template("auth/reset_invalid.html"), 404
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            resets.use_link(rt, token=token, body={
                "new_password": request.form.get("new_password", ""),
                "confirm_password": request.form.get("confirm_password", "")})
        except ValidationFailed as exc:
            errors = field_errors(exc.errors, {k: k for k in exc.errors})
        except resets.ResetLinkInvalid:
            return render_template("auth/reset_invalid.html"), 404
        else:
            response = make_response(render_template("auth/reset_done.html"))
            clear_session_cookie(response)
            return response
    return render_template("auth/reset.html", errors=errors), (422 if errors else 200)
