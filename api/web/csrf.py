"""CSRF protection of every form of the pages: a per-session token, checked on every unsafe request.

The token is random (256 bits), kept in the signed session cookie and written into each form as
`csrf_token`; a POST whose token is missing or different is refused with 400 before the view runs,
and nothing changes. The Origin header, when the browser sends one, must be this site as well. The
session cookie's SameSite=Lax is a second fence, not the only one. The API (`/api/v1`) is not
concerned: it authenticates with bearer tokens, which a browser never sends on its own.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from flask import abort, request, session

FIELD = "csrf_token"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def token() -> str:
    value = session.get("csrf")
    if not isinstance(value, str) or len(value) < 32:
        value = secrets.token_urlsafe(32)
        session["csrf"] = value
    return value


def check() -> None:
    """Before every unsafe request to a page: refuse a missing or foreign token, or a foreign Origin."""
    if request.method not in UNSAFE:
        return
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        parts = urlsplit(origin)
        if parts.netloc != request.host or parts.scheme != request.scheme:
            abort(400, description="csrf_origin")
    sent = request.form.get(FIELD, "")
    expected = session.get("csrf")
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="csrf")
