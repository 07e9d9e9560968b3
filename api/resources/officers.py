"""Officer accounts (administrators): list, add, deactivate/activate, set a password.

Auditors may read the list. Every change is an audit-log entry; a refused change is recorded too.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from engine import accounts

from ..auth import current_officer, engine, hash_password, require_role
from ..problems import ApiProblem
from ..schemas.auth import NewOfficerSchema, OfficerFilterSchema, OfficerSchema, PasswordSchema

blp = Blueprint("officers", __name__, description="Officer accounts (administrators)")


def officer_dict(a: accounts.Account) -> dict[str, Any]:
    return {"username": a.username, "name": a.name, "unit": a.unit, "roles": list(a.roles), "active": a.active,
            "demo": a.demo}


@blp.route("/officers", methods=["GET"])
@blp.arguments(OfficerFilterSchema, location="query")
@blp.response(200, OfficerSchema(many=True))
@blp.alt_response(403, response="FORBIDDEN")
def list_officers(args: dict[str, Any]) -> list[dict[str, Any]]:
    require_role("admin", "auditor")
    return [officer_dict(a) for a in accounts.list_accounts(engine().db, args.get("unit"))]


@blp.route("/officers", methods=["POST"])
@blp.arguments(NewOfficerSchema)
@blp.response(201, OfficerSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def add_officer(body: dict[str, Any]) -> dict[str, Any]:
    lf = engine()
    officer = current_officer()
    pw_hash = hash_password(body["password"]) if "admin" in officer.roles else None
    account = accounts.add_account(lf.db, officer, lf.clock.now(), body["username"], body["name"], body["unit"],
                                   body["roles"], pw_hash)
    lf.directory.refresh()
    return officer_dict(account)


@blp.route("/officers/<string(maxlength=80):username>", methods=["GET"])
@blp.response(200, OfficerSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def get_officer(username: str) -> dict[str, Any]:
    require_role("admin", "auditor")
    account = accounts.get_account(engine().db, username)
    if account is None:
        raise ApiProblem(404, "not_found", f"officer {username} does not exist")
    return officer_dict(account)


def _set_active(username: str, active: bool) -> dict[str, Any]:
    lf = engine()
    account = accounts.set_active(lf.db, current_officer(), lf.clock.now(), username, active)
    lf.directory.refresh()
    return officer_dict(account)


@blp.route("/officers/<string(maxlength=80):username>/deactivate", methods=["POST"])
@blp.response(200, OfficerSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def deactivate(username: str) -> dict[str, Any]:
    """Disable the account and revoke its tokens; its history stays."""
    return _set_active(username, False)


@blp.route("/officers/<string(maxlength=80):username>/activate", methods=["POST"])
@blp.response(200, OfficerSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def activate(username: str) -> dict[str, Any]:
    return _set_active(username, True)


@blp.route("/officers/<string(maxlength=80):username>/password", methods=["POST"])
@blp.arguments(PasswordSchema)
@blp.response(204)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def set_password(body: dict[str, str], username: str) -> None:
    """Set a new password; the officer's tokens are revoked."""
    lf = engine()
    officer = current_officer()
    pw_hash = hash_password(body["password"]) if "admin" in officer.roles else ""
    accounts.set_password(lf.db, officer, lf.clock.now(), username, pw_hash)
