"""Drafts of procedures (the browser modeler's saves): per supervisor, versioned, never executed.

Only supervisors save or read drafts (anyone else is refused and recorded, as for validate); each
reads only their own (another's draft answers 404, the same as a draft that does not exist). Saving
runs the engine's check and keeps its problem count with the revision; a draft with problems saves
(it is work in progress) but deploys only through the ordinary deploy, which refuses it.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint

from engine import queries
from engine.definitions import drafts
from engine.org import Officer
from engine.policy import check_validate

from ..auth import current_officer, engine
from ..problems import ApiProblem
from ..schemas.procedures import BPMN_BODY, DraftSchema
from .procedures import uploaded_files

blp = Blueprint("drafts", __name__, description="Drafts of procedures (the modeler's saves, never executed)")
KEY = "string(maxlength=64)"


def supervisor() -> Officer:
    """The signed-in supervisor; anyone else is refused (403) and the refusal recorded."""
    officer = current_officer()
    if check_validate(officer) is not None:
        engine().runtime.validate(officer, b"")  # raises the recorded refusal
    return officer


def save_draft(officer: Officer, key: str, bpmn: bytes) -> drafts.Draft:
    """Check the file (to keep its problem count) and store it as the next revision; DraftRefused when
    it is not UTF-8, is empty, or is another procedure's file."""
    lf = engine()
    try:
        text = bpmn.decode("utf-8")
    except UnicodeDecodeError as err:
        raise drafts.DraftRefused("not_utf8") from err
    if not text.strip():
        raise drafts.DraftRefused("empty")
    report = lf.runtime.validate(officer, bpmn, [], lf.settings.max_bpmn_bytes)
    if report.key is not None and report.key != key:
        raise drafts.DraftRefused("other_key")
    versions = queries.procedure_versions(lf.db, key)
    based_on = versions[-1].version if versions else None
    return drafts.save(lf.db, officer.username, key, report.name or key, text, based_on, len(report.problems),
                       lf.clock.now())


@blp.route("/procedures/drafts", methods=["GET"])
@blp.response(200, DraftSchema(many=True))
@blp.alt_response(403, response="FORBIDDEN")
def list_drafts() -> list[dict[str, Any]]:
    """The signed-in supervisor's drafts: the last revision of each, with how many revisions it has."""
    officer = supervisor()
    with engine().db.read() as s:
        return [{**d.as_dict(), "revisions": n} for d, n in drafts.latest_of_owner(s, officer.username)]


@blp.route(f"/procedures/<{KEY}:key>/drafts", methods=["POST"])
@blp.doc(requestBody=BPMN_BODY)
@blp.response(201, DraftSchema, description="a new revision was stored")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def save(key: str) -> tuple[dict[str, Any], int]:
    """Save the BPMN as the next revision of the supervisor's draft of `key` (never executed)."""
    officer = supervisor()
    bpmn, _dmns = uploaded_files()
    try:
        return save_draft(officer, key, bpmn).as_dict(), 201
    except drafts.DraftRefused as err:
        raise ApiProblem(422, "invalid_request", str(err)) from err


@blp.route(f"/procedures/<{KEY}:key>/drafts", methods=["GET"])
@blp.response(200, DraftSchema(many=True))
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def list_revisions(key: str) -> list[dict[str, Any]]:
    """The revisions of the supervisor's own draft of `key`, newest first."""
    officer = supervisor()
    with engine().db.read() as s:
        found = drafts.revisions(s, officer.username, key)
    if not found:
        raise ApiProblem(404, "not_found", f"you have no draft of {key!r}")
    return [d.as_dict() for d in found]


@blp.route(f"/procedures/<{KEY}:key>/drafts", methods=["DELETE"])
@blp.response(204, description="the draft, every revision, is deleted; the audit log records draft_deleted")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def delete_draft(key: str) -> None:
    """Delete the supervisor's own draft of `key`, every revision (decision 0171)."""
    officer = supervisor()
    lf = engine()
    if drafts.delete(lf.db, officer.username, officer.unit, key, lf.clock.now()) is None:
        raise ApiProblem(404, "not_found", f"you have no draft of {key!r}")


@blp.route(f"/procedures/<{KEY}:key>/drafts/<int(max=2147483647):revision>/bpmn", methods=["GET"])
@blp.doc(responses={"200": {"description": "the draft's BPMN",
                            "content": {"application/xml": {"schema": {"type": "string"}}}}})
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def get_bpmn(key: str, revision: int) -> Response:
    officer = supervisor()
    with engine().db.read() as s:
        found = drafts.source(s, officer.username, key, revision)
    if found is None:
        raise ApiProblem(404, "not_found", f"you have no revision {revision} of a draft of {key!r}")
    return Response(found[1], mimetype="application/xml")
