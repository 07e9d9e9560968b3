"""Signing in to the pages: the same accounts as the API, with a server-side session.

Signing in checks the password exactly as `POST /api/v1/auth/token` does and issues a *page
session*: a random secret stored, like API tokens, only as its SHA-256 (engine.accounts, purpose
`page`). Flask's signed session cookie carries that secret (`sid`), never an API token: /api/v1
refuses a page secret, so a leaked cookie opens no API (and Flask's cookie is signed, not encrypted:
anyone holding it can read it). Every request re-reads the account behind the session, so an
expired or revoked session, a deactivated officer (or a new password) or a demo account outside
demo mode is signed out at once, in every worker; signing out revokes the session row. The
cookie is HttpOnly and SameSite=Lax; `Secure` follows LANDFLOW_COOKIE_SECURE (auto: when the
request came over https, which behind a reverse proxy needs LANDFLOW_PROXIES).

The session is cleared at sign-in (no session fixation) and gets a fresh CSRF token (api/web/csrf.py).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.wrappers import Response

from config.settings import Settings
from engine import accounts
from engine.accounts import Account

from ..auth import engine

F = TypeVar("F", bound=Callable[..., Any])
COOKIE = "landflow_session"
SESSION_ID = "sid"  # the page session's secret in the cookie (a cookie of old holding "token" signs in no one)


def secret_key(settings: Settings) -> str:
    """LANDFLOW_SECRET_KEY, else a random key kept in <var dir>/keys/session.key (mode 0600), made by the
    first process that needs it, so that every worker of one deployment signs cookies alike."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.var_dir / "keys" / "session.key"
    return _read_or_create(path)


NEXT, PREVIOUS = "session.key.next", "session.key.previous"


def secret_key_fallbacks(settings: Settings, now: float | None = None) -> list[str]:
    """The keys a cookie may also be signed with while the session key is rotated without downtime
    (`landflow keys rotate-session`, docs/operations.md "Keys"): LANDFLOW_SECRET_KEY_FALLBACKS; the staged
    next key (<var dir>/keys/session.key.next: accepted before any worker signs with it); the previous key
    (session.key.previous), for a page session's lifetime (LANDFLOW_TOKEN_HOURS) after the rotation."""
    keys = list(settings.secret_key_fallbacks)
    folder = settings.var_dir / "keys"
    if not settings.secret_key:
        nxt = folder / NEXT
        if nxt.exists():
            keys.append(nxt.read_text(encoding="ascii").strip())
        prev = folder / PREVIOUS
        if prev.exists():
            age = (time.time() if now is None else now) - prev.stat().st_mtime
            if age < settings.token_hours * 3600:
                keys.append(prev.read_text(encoding="ascii").strip())
    return [k for k in dict.fromkeys(keys) if k]


def rotate_session_key(settings: Settings, stage: bool = False) -> str:
    """Stage a next key (accepted, not yet used), or make the staged (else a new) key the one that signs and
    keep the current one as the previous (accepted for LANDFLOW_TOKEN_HOURS). Returns what was done."""
    if settings.secret_key:
        raise ValueError("LANDFLOW_SECRET_KEY is set: rotate it with LANDFLOW_SECRET_KEY_FALLBACKS "
                         "(docs/operations.md, Keys)")
    folder = settings.var_dir / "keys"
    current, nxt, prev = folder / "session.key", folder / NEXT, folder / PREVIOUS
    if stage:
        if nxt.exists():
            return f"{nxt} is already staged"
        _read_or_create(nxt)
        return f"staged {nxt}: restart every worker, then run `landflow keys rotate-session` again"
    if not nxt.exists():
        _read_or_create(nxt)
    _read_or_create(current)
    tmp = folder / "session.key.previous.tmp"
    tmp.write_text(current.read_text(encoding="ascii"), encoding="ascii")
    os.chmod(tmp, 0o600)
    tmp.replace(prev)  # its modification time starts the grace period
    nxt.replace(current)
    return (f"{current} replaced; the previous key stays accepted for {settings.token_hours:g} hours: "
            "restart every worker")


def _read_or_create(path: Path) -> str:
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it meanwhile
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie session, with `Secure` decided per request in `auto` mode."""

    def __init__(self, secure: str):
        self.secure = secure

    def get_cookie_secure(self, app: Flask) -> bool:
        if self.secure == "auto":
            return request.is_secure
        return self.secure == "1"


def init_app(app: Flask, settings: Settings) -> None:
    app.secret_key = secret_key(settings)
    app.config["SECRET_KEY_FALLBACKS"] = secret_key_fallbacks(settings)
    app.session_interface = SessionCookies(settings.cookie_secure)
    app.config.update(SESSION_COOKIE_NAME=COOKIE, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.token_hours))


# -- who is signed in ----------------------------------------------------------------------------------

def sign_in(account: Account) -> None:
    lf = engine()
    secret, _expires = accounts.issue_token(lf.db, account.username, lf.clock.now(),
                                            timedelta(hours=lf.settings.token_hours), purpose=accounts.PAGE)
    session.clear()
    session[SESSION_ID] = secret
    session.permanent = True
    g.web_account = account


def sign_out() -> None:
    secret = session.get(SESSION_ID)
    if isinstance(secret, str):
        lf = engine()
        accounts.revoke_token(lf.db, secret, lf.clock.now())
    session.clear()


def signed_in_account() -> Account:
    """The account of a page behind `@signed_in` (the decorator has already sent anyone else away)."""
    account = current_account()
    if account is None:
        raise RuntimeError("signed_in_account() outside a @signed_in page")
    return account


def current_account() -> Account | None:
    """The account signed in on this request, or None (never a stale one)."""
    if "web_account" in g:
        found: Account | None = g.web_account
        return found
    secret = session.get(SESSION_ID)
    account = None
    if isinstance(secret, str):
        lf = engine()
        account = accounts.token_account(lf.db, secret, lf.clock.now(), purpose=accounts.PAGE)
        if account is not None and not account.usable(lf.settings.demo):
            account = None
        if account is None:
            session.pop(SESSION_ID, None)
    g.web_account = account
    return account


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site (no scheme, no host, no `//`): no open redirect after sign-in."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def _referrer_path() -> str | None:
    ref = urlsplit(request.referrer or "")
    if ref.netloc != request.host or not ref.path.startswith("/"):
        return None
    return ref.path + (f"?{ref.query}" if ref.query else "")


def signed_in(*roles: str) -> Callable[[F], F]:
    """A page for signed-in officers (holding one of `roles`, when given); others go to the sign-in
    page, or get 403 when signed in without the role."""
    def wrap(view: F) -> F:
        @wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            account = current_account()
            if account is None:  # after signing in, back to this page (or to the page a form was on)
                target = request.full_path.rstrip("?") if request.method == "GET" else _referrer_path()
                return redirect(url_for("web_auth.login", next=target or None), 303)
            if roles and not set(account.roles) & set(roles):
                abort(403)
            return view(*args, **kwargs)
        return inner  # type: ignore[return-value]
    return wrap


def redirect_to(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), 303)
