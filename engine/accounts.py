"""Officer accounts and bearer tokens: who may sign in, and what a token stands for.

Password hashing is the caller's job (the API uses werkzeug's scrypt): the engine stores and hands
back hashes, never passwords. Tokens are random, shown once, and kept only as their SHA-256, with an
expiry and a revocation time. Managing officers is the `admin` role's; a refused change is recorded
in the audit log like every other refusal, and every change is an audit entry.

Demo accounts (`demo` = true) are usable only while the deployment runs in demo mode: the caller
says whether it does (`demo_mode`), and a demo account is refused otherwise, even with a valid token.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update

from . import audit
from .errors import CommandRefused, Conflict, Forbidden, Invalid, NotFound
from .events import ActionRefused, OfficerActivated, OfficerAdded, OfficerDeactivated, OfficerPasswordSet
from .org import Officer
from .store import ApiTokenRow, Database, OfficerRow, RoleRow, UnitRow

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
CLI_ACTOR = Officer("system:cli", "command line", "", frozenset({"admin"}))


@dataclass(frozen=True)
class Account:
    username: str
    name: str
    unit: str
    roles: tuple[str, ...]
    active: bool
    demo: bool
    password_hash: str | None
    public_key: str | None = None

    def officer(self) -> Officer:
        return Officer(self.username, self.name, self.unit, frozenset(self.roles), self.active, self.public_key)

    def usable(self, demo_mode: bool) -> bool:
        return self.active and (demo_mode or not self.demo)


def _account(row: OfficerRow) -> Account:
    return Account(row.username, row.name, row.unit, tuple(sorted(row.roles.split())), row.active, row.demo,
                   row.password_hash, row.public_key)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


# -- reading ----------------------------------------------------------------------------------------

def normal_username(typed: str) -> str:
    """The username a sign-in means: surrounding blanks dropped, case folded, Unicode NFC. The account
    look-up and the failed-sign-in limit (api/limits.py) both key on it, so no spelling of one name
    (`'  Desk.HaiChau'`) looks up the account while counting as another name."""
    return unicodedata.normalize("NFC", typed.strip().casefold())


def get_account(db: Database, username: str) -> Account | None:
    """The account a sign-in names (`normal_username` of what was typed), or None."""
    with db.read() as s:
        row = s.scalar(select(OfficerRow).where(OfficerRow.username == normal_username(username)))
        return None if row is None else _account(row)


def list_accounts(db: Database, unit: str | None = None) -> list[Account]:
    q = select(OfficerRow).order_by(OfficerRow.username)
    if unit is not None:
        q = q.where(OfficerRow.unit == unit)
    with db.read() as s:
        return [_account(r) for r in s.scalars(q)]


# -- tokens -----------------------------------------------------------------------------------------

API, PAGE = "api", "page"  # what a token is for: a bearer token of /api/v1, or a page session (cookie)


def issue_token(db: Database, username: str, now: datetime, ttl: timedelta, purpose: str = API) -> tuple[str, datetime]:
    """A new random secret for `username`, kept only as its SHA-256. A `page` one (the pages' session,
    api/web/session.py) is refused by /api/v1 and an `api` one by the pages: a copied cookie is no API
    token. Both expire, are revoked by sign-out, deactivation and a new password alike."""
    token = secrets.token_urlsafe(32)
    expires = now + ttl
    with db.write() as s:
        s.add(ApiTokenRow(token_hash=token_digest(token), username=username, created_at=now, expires_at=expires,
                          purpose=purpose))
    return token, expires


# Runs on every authenticated request: one statement (Core, no ORM identity map, no transaction).
TOKEN_ACCOUNT = (
    select(OfficerRow.username, OfficerRow.name, OfficerRow.unit, OfficerRow.roles, OfficerRow.active,
           OfficerRow.demo, OfficerRow.password_hash, OfficerRow.public_key, ApiTokenRow.expires_at,
           ApiTokenRow.revoked_at)
    .join(ApiTokenRow, ApiTokenRow.username == OfficerRow.username)
    .where(ApiTokenRow.token_hash == bindparam("digest"), ApiTokenRow.purpose == bindparam("purpose"))
)


def token_account(db: Database, token: str, now: datetime, purpose: str = API) -> Account | None:
    """The account a live token of this `purpose` stands for (not expired, not revoked), or None."""
    with db.lookup() as conn:
        row = conn.execute(TOKEN_ACCOUNT, {"digest": token_digest(token), "purpose": purpose}).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    return Account(row.username, row.name, row.unit, tuple(sorted(row.roles.split())), row.active, row.demo,
                   row.password_hash, row.public_key)


def revoke_token(db: Database, token: str, now: datetime) -> bool:
    with db.write() as s:
        result = s.execute(update(ApiTokenRow).where(ApiTokenRow.token_hash == token_digest(token),
                                                     ApiTokenRow.revoked_at.is_(None)).values(revoked_at=now))
        return bool(result.rowcount)  # type: ignore[attr-defined]


def revoke_all(db: Database, username: str, now: datetime) -> int:
    with db.write() as s:
        result = s.execute(update(ApiTokenRow).where(ApiTokenRow.username == username,
                                                     ApiTokenRow.revoked_at.is_(None)).values(revoked_at=now))
        return int(result.rowcount)  # type: ignore[attr-defined]


# -- managing officers (admin) ----------------------------------------------------------------------

def _guard(db: Database, actor: Officer, action: str, now: datetime, decide: Callable[[], None]) -> None:
    """Run a change; a refusal is recorded in the audit log (its own transaction) and re-raised."""
    try:
        if not actor.active or "admin" not in actor.roles:
            raise Forbidden("wrong_role", "only administrators manage officers")
        decide()
    except CommandRefused as err:
        refused = ActionRefused(action=action, kind_=err.kind, code=err.code, message=err.message,
                                category=err.refusal.recorded_category)
        audit.append(db, refused.kind, actor.username, actor.unit or None, now, refused.to_payload())
        raise


def add_account(db: Database, actor: Officer, now: datetime, username: str, name: str, unit: str,
                roles: Iterable[str], password_hash: str | None) -> Account:
    roles = sorted(set(roles))
    out: list[Account] = []

    def decide() -> None:
        if not USERNAME.match(username or ""):
            raise Invalid("invalid_data", "username: 2-80 lower-case letters, digits, '.', '_' or '-'")
        with db.write() as s:
            if s.get(UnitRow, unit) is None:
                raise Invalid("invalid_data", f"unit {unit!r} does not exist")
            known = set(s.scalars(select(RoleRow.code)))
            unknown = [r for r in roles if r not in known]
            if unknown or not roles:
                raise Invalid("invalid_data", f"unknown role(s): {', '.join(unknown) or '(none given)'}")
            if s.scalar(select(OfficerRow.id).where(OfficerRow.username == username)) is not None:
                raise Conflict("exists", f"officer {username} already exists")
            row = OfficerRow(username=username, name=(name or username).strip()[:200], unit=unit,
                             roles=" ".join(roles), password_hash=password_hash, active=True, demo=False)
            s.add(row)
            s.flush()
            added = OfficerAdded(username=username, unit=unit, roles=roles)
            audit.append_in(s, added.kind, actor.username, actor.unit or None, now, added.to_payload())
            out.append(_account(row))

    _guard(db, actor, "add_officer", now, decide)
    return out[0]


def set_active(db: Database, actor: Officer, now: datetime, username: str, active: bool) -> Account:
    out: list[Account] = []

    def decide() -> None:
        if username == actor.username and not active:
            raise Invalid("invalid_data", "you cannot deactivate your own account")
        with db.write() as s:
            row = s.scalar(select(OfficerRow).where(OfficerRow.username == username))
            if row is None:
                raise NotFound("not_found", f"officer {username} does not exist")
            row.active = active
            if not active:
                s.execute(update(ApiTokenRow).where(ApiTokenRow.username == username,
                                                    ApiTokenRow.revoked_at.is_(None)).values(revoked_at=now))
            changed = OfficerActivated(username=username) if active else OfficerDeactivated(username=username)
            audit.append_in(s, changed.kind, actor.username, actor.unit or None, now, changed.to_payload())
            out.append(_account(row))

    _guard(db, actor, "activate_officer" if active else "deactivate_officer", now, decide)
    return out[0]


def set_password(db: Database, actor: Officer, now: datetime, username: str, password_hash: str) -> None:
    def decide() -> None:
        with db.write() as s:
            row = s.scalar(select(OfficerRow).where(OfficerRow.username == username))
            if row is None:
                raise NotFound("not_found", f"officer {username} does not exist")
            row.password_hash = password_hash
            s.execute(update(ApiTokenRow).where(ApiTokenRow.username == username,
                                                ApiTokenRow.revoked_at.is_(None)).values(revoked_at=now))
            password = OfficerPasswordSet(username=username)
            audit.append_in(s, password.kind, actor.username, actor.unit or None, now, password.to_payload())

    _guard(db, actor, "set_password", now, decide)


def mark_demo(db: Database, usernames: Iterable[str], password_hash: str) -> int:
    """Flag the seeded demo officers as demo accounts; give those without a password `password_hash`."""
    names = list(usernames)
    with db.write() as s:
        rows = list(s.scalars(select(OfficerRow).where(OfficerRow.username.in_(names))))
        for row in rows:
            row.demo = True
            if row.password_hash is None:
                row.password_hash = password_hash
        return len(rows)
