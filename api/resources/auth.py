"""Sign in (a bearer token), who am I, sign out (revoke)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import g, request
from flask_smorest import Blueprint

from engine import accounts

from ..auth import CHALLENGE, current_account, engine, password_matches, public
from ..problems import ApiProblem
from ..schemas.auth import CredentialsSchema, OfficerBriefSchema, RevokeSchema, TokenSchema

blp = Blueprint("auth", __name__, description="Sign-in with bearer tokens")
log = logging.getLogger("landflow.api")


def brief(account: accounts.Account) -> dict[str, Any]:
    return {"username": account.username, "name": account.name, "unit": account.unit, "roles": list(account.roles)}


@blp.route("/auth/token", methods=["POST"])
@blp.arguments(CredentialsSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.doc(security=[])
@public
def sign_in(creds: dict[str, str]) -> dict[str, Any]:
    """Exchange a username and password for a bearer token (expires after LANDFLOW_TOKEN_HOURS)."""
    lf = engine()
    account = accounts.get_account(lf.db, creds["username"])
    if not password_matches(account, creds["password"]) or account is None or not account.usable(lf.settings.demo):
        log.warning("failed sign-in for %r from %s", creds["username"][:80], request.remote_addr)
        raise ApiProblem(401, "invalid_credentials", "wrong username or password, or the account is disabled",
                         CHALLENGE)
    now = lf.clock.now()
    token, expires = accounts.issue_token(lf.db, account.username, now, timedelta(hours=lf.settings.token_hours))
    return {"token": token, "expires_at": expires, "officer": brief(account)}


@blp.route("/auth/me", methods=["GET"])
@blp.response(200, OfficerBriefSchema)
def me() -> dict[str, Any]:
    """The officer this token signs in as."""
    return brief(current_account())


def _revoke(body: dict[str, str] | None) -> None:
    lf = engine()
    token = (body or {}).get("token") or g.token
    if token != g.token:
        owner = accounts.token_account(lf.db, token, lf.clock.now())
        if owner is None or owner.username != current_account().username:
            raise ApiProblem(404, "not_found", "no such live token of yours")
    accounts.revoke_token(lf.db, token, lf.clock.now())


@blp.route("/auth/revoke", methods=["POST"])
@blp.arguments(RevokeSchema, required=False)
@blp.response(204)
def revoke(body: dict[str, str] | None) -> None:
    """Revoke this token (sign out), or another live token of yours named in the body."""
    _revoke(body)


@blp.route("/auth/token", methods=["DELETE"])
@blp.response(204)
def sign_out() -> None:
    """Revoke the token of this request."""
    _revoke(None)
