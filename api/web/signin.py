"""Sign-in, sign-out, the language switch and the home page (which sends each role to its pages)."""

from __future__ import annotations

import logging
from typing import Any

from flask import make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine import accounts

from ..auth import password_matches
from .common import directory, lf
from .i18n import COOKIE, LANGUAGES
from .pages import blueprint
from .session import current_account, redirect_to, safe_next, sign_in, sign_out, signed_in

bp = blueprint("web_auth", __name__, static_folder="static", static_url_path="/static/web")
log = logging.getLogger("landflow.web")
SEE_ALL = ("auditor", "supervisor")


def home_of(roles: tuple[str, ...]) -> str:
    step_roles = directory().step_roles()
    if set(roles) & step_roles:
        return url_for("web_officer.worklist")
    if "supervisor" in roles:
        return url_for("web_procedures.index")
    if "auditor" in roles:
        return url_for("web_audit.search")
    return url_for("web_auth.welcome")


@bp.get("/")
def home() -> Response:
    account = current_account()
    if account is None:
        return redirect_to("web_auth.login")
    return redirect(home_of(account.roles), 303)


@bp.get("/welcome")
@signed_in()
def welcome() -> Any:
    return render_template("welcome.html")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    target = request.values.get("next")
    if request.method == "GET":
        return render_template("login.html", next=safe_next(target, ""), username="")
    engine = lf()
    username = request.form.get("username", "").strip()[:80]  # shown back in the form
    account = accounts.get_account(engine.db, request.form.get("username", ""))  # normalised there (and in the limit)
    if not password_matches(account, request.form.get("password", "")) or account is None \
            or not account.usable(engine.settings.demo):
        log.warning("failed page sign-in for %r", username)
        return render_template("login.html", next=safe_next(target, ""), username=username,
                               error=_("Wrong username or password, or the account is disabled.")), 401
    sign_in(account)
    return redirect(safe_next(target, home_of(account.roles)), 303)


@bp.post("/logout")
def logout() -> Response:
    sign_out()
    return redirect_to("web_auth.login")


@bp.get("/lang/<string(length=2):code>")
def language(code: str) -> Response:
    """Switch the pages' language (a cookie; nothing else changes), back to where the officer was."""
    resp = make_response(redirect(safe_next(request.args.get("next"), url_for("web_auth.home")), 303))
    if code in LANGUAGES:
        resp.set_cookie(COOKIE, code, max_age=365 * 86400, httponly=True, samesite="Lax",
                        secure=request.is_secure)
    return resp
