"""Brute-force protection of sign-in: failed attempts per (client address, username) are limited.

The API's sign-in (`POST /api/v1/auth/token`) and the pages' sign-in form share ONE counter (one
flask-limiter scope, `sign_in`): an address locked out on one is locked out on the other. The
username part of the key is `engine.accounts.normal_username`, the very normalisation the account
look-up applies, so no spelling of a name that finds the account (blanks around it, capitals,
another Unicode composition) escapes the count. Only failed sign-ins (401) count, so an officer who
types the password right is never slowed; after LANDFLOW_LOGIN_RATE failures (default 10 per minute)
that username from that address gets 429 until the window passes. Counters live in memory, per
worker process: with N workers an attacker gets at most N times the rate, which still stops guessing
at scale (a shared store is a deployment choice).
"""

from __future__ import annotations

from typing import cast

from flask import Flask, request
from flask.typing import RouteCallable
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from engine.accounts import normal_username

SIGN_IN_VIEWS = ("auth.sign_in", "web_auth.login")  # the API's sign-in and the pages'
SCOPE = "sign_in"
KEY_CHARS = 100  # longer than any username (80): a longer name finds no account, whatever it is cut to


def sign_in_key() -> str:
    """`<client address>|<normalised username>` of a sign-in request, JSON (API) or form (pages)."""
    body = request.get_json(silent=True)
    username = body.get("username") if isinstance(body, dict) else request.form.get("username")
    return f"{get_remote_address()}|{normal_username(str(username or ''))[:KEY_CHARS]}"


# the citizen's lookup (page and JSON) and rating: no sign-in, so limited per client address, all requests
LOOKUP_VIEWS = ("public.lookup", "public.rating", "web_public.lookup", "web_public.rate_page", "public.proof",
                "web_proof.proof_page", "web_proof.proof_upload")


def init_app(app: Flask, rate: str, lookup_rate: str = "30/minute") -> Limiter:
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://", default_limits=[],
                      headers_enabled=False, key_prefix="landflow")
    shared = limiter.shared_limit(
        rate, scope=SCOPE, key_func=sign_in_key, methods=["POST"], deduct_when=lambda resp: resp.status_code == 401,
        error_message="too many failed sign-ins for this username; wait a minute")
    for endpoint in SIGN_IN_VIEWS:
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = cast(RouteCallable, shared(app.view_functions[endpoint]))
    lookups = limiter.shared_limit(lookup_rate, scope="lookup", key_func=get_remote_address,
                                   error_message="too many look-ups from this address; wait a minute")
    for endpoint in LOOKUP_VIEWS:
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = cast(RouteCallable, lookups(app.view_functions[endpoint]))
    return limiter
