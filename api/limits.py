"""Brute-force protection of sign-in: failed attempts per (client address, username) are limited.

The API's sign-in and the pages' sign-in form share the rule. Only failed sign-ins (401) count, so an
officer who types the password right is never slowed; after LANDFLOW_LOGIN_RATE failures (default 10
per minute) that username from that address gets 429 until the window passes. Counters live in
memory, per worker process: with N workers an attacker gets at most N times the rate, which still
stops guessing at scale (a shared store is a deployment choice).
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address


def _client_and_username() -> str:
    body = request.get_json(silent=True)
    username = body.get("username") if isinstance(body, dict) else request.form.get("username")
    return f"{get_remote_address()}|{str(username)[:80]}"


def init_app(app: Flask, rate: str) -> Limiter:
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://", default_limits=[],
                      headers_enabled=False, key_prefix="landflow")
    for endpoint in ("auth.sign_in", "web_auth.login"):  # the API's sign-in and the pages' share the rule
        if endpoint not in app.view_functions:
            continue
        app.view_functions[endpoint] = limiter.limit(
            rate, key_func=_client_and_username, methods=["POST"], deduct_when=lambda resp: resp.status_code == 401,
            error_message="too many failed sign-ins for this username; wait a minute")(app.view_functions[endpoint])
    return limiter
