"""Bearer-token authentication and the caller's identity.

Passwords are hashed with werkzeug's scrypt; tokens are random and stored as SHA-256 by the engine
(engine.accounts). Every `/api/v1` view needs a live token unless it is marked `@public`. The
officer a request acts as is rebuilt from the database on each request, so a deactivation or a
role change takes effect at once, in every worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from werkzeug.security import check_password_hash, generate_password_hash

from engine import accounts
from engine.accounts import Account
from engine.bootstrap import Landflow
from engine.org import Officer

from .problems import ApiProblem

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("landflow.api")
# Compared against when the username is unknown, so that a wrong username costs what a wrong password does.
_DUMMY_HASH = generate_password_hash("not a password", method="scrypt")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="landflow"'}


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def password_matches(account: Account | None, password: str) -> bool:
    stored = account.password_hash if account is not None and account.password_hash else _DUMMY_HASH
    ok = check_password_hash(stored, password)
    return ok and account is not None and bool(account.password_hash)


def public(view: F) -> F:
    """Mark a view as reachable without a token (health, sign-in)."""
    view._public = True  # type: ignore[attr-defined]
    return view


def engine() -> Landflow:
    lf: Landflow = current_app.extensions["landflow"]
    return lf


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def current_account() -> Account:
    account: Account | None = g.get("account")
    if account is None:  # a view forgot @public or the hook did not run: never act anonymously
        raise ApiProblem(401, "unauthenticated", "sign in first", CHALLENGE)
    return account


def current_officer() -> Officer:
    return current_account().officer()


def require_role(*roles: str) -> Officer:
    officer = current_officer()
    if not officer.roles & set(roles):
        raise ApiProblem(403, "wrong_role", f"this needs one of the roles: {', '.join(roles)}")
    return officer


def init_app(app: Flask) -> None:
    @app.before_request
    def authenticate() -> None:
        if not request.path.startswith("/api/v1/") or request.endpoint is None:
            return
        if request.blueprint == "api-docs":  # the OpenAPI document is public, like the Swagger UI page
            return
        view = app.view_functions.get(request.endpoint)
        if view is None or getattr(view, "_public", False):
            return
        token = bearer_token()
        if token is None:
            log.info("no bearer token: %s %s from %s", request.method, request.path, request.remote_addr)
            raise ApiProblem(401, "unauthenticated", "send Authorization: Bearer <token> (POST /api/v1/auth/token)",
                             CHALLENGE)
        lf = engine()
        account = accounts.token_account(lf.db, token, lf.clock.now())
        if account is None or not account.usable(lf.settings.demo):
            # Unauthenticated attempts go to the server log, not the audit chain: they are attributable
            # to no officer and unbounded in number; the log keeps the address and a digest prefix.
            log.warning("rejected bearer token %s…: %s %s from %s", accounts.token_digest(token)[:12],
                        request.method, request.path, request.remote_addr)
            raise ApiProblem(401, "invalid_token", "the token is unknown, expired or revoked, or the account "
                             "is disabled", CHALLENGE)
        g.account = account
        g.token = token
