"""Procedures: list, versions, the BPMN of a version, validate (lint) and deploy (supervisors)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, request
from flask_smorest import Blueprint

from engine import queries
from engine.definitions.fragments import marked_fragment
from engine.definitions.versions import local_day, pending_versions
from engine.policy import check_validate

from ..auth import current_officer, engine
from ..disposition import content_disposition
from ..problems import ApiProblem
from ..schemas.procedures import (
    BPMN_BODY,
    DeployArgsSchema,
    DeployedSchema,
    PendingSchema,
    ProcedureSchema,
    ValidationSchema,
    VersionSchema,
)

blp = Blueprint("procedures", __name__, description="Procedures (BPMN) and their versions")
XML_TYPES = ("application/xml", "text/xml", "application/octet-stream", "application/bpmn+xml")


def procedure_dict(p: queries.ProcedureView) -> dict[str, Any]:
    m = p.meta
    return {"key": p.key, "version": p.version, "name": p.name, "sla": m.get("sla"),
            "legal_basis": m.get("legal_basis"), "remote_extension": m.get("remote_extension"),
            "content_hash": p.content_hash, "deployed_at": p.deployed_at, "deployed_by": p.deployed_by,
            "steps": m.get("steps", []),
            "fragment": marked_fragment(m.get("properties", {})),
            "calls": [{k: b[k] for k in ("element", "key", "version", "content_hash", "name")}
                      for b in m.get("fragments", [])]}


def uploaded_files() -> tuple[bytes, list[bytes]]:
    """The BPMN (raw XML body or multipart `file`) and any multipart `dmn` files."""
    if request.mimetype == "multipart/form-data":
        extra = sorted({str(k) for k in request.form} | {str(k) for k in request.files if k not in ("file", "dmn")})
        if extra:
            raise ApiProblem(422, "invalid_request", f"unexpected multipart field(s): {', '.join(extra)[:200]}; "
                             "send `file` and optionally `dmn`")
        file = request.files.get("file")
        if file is None:
            raise ApiProblem(422, "invalid_request", "send the BPMN file in the multipart field `file`")
        return file.read(), [f.read() for f in request.files.getlist("dmn")]
    if request.mimetype in XML_TYPES:
        return request.get_data(cache=False), []
    raise ApiProblem(415, "unsupported_media_type", "send application/xml or multipart/form-data")


@blp.route("/procedures", methods=["GET"])
@blp.response(200, ProcedureSchema(many=True))
def list_procedures() -> list[dict[str, Any]]:
    """The latest version of every procedure, with its steps."""
    return [procedure_dict(p) for p in queries.latest_procedures(engine().db)]


@blp.route("/procedures/pending", methods=["GET"])
@blp.response(200, PendingSchema(many=True))
def list_pending() -> list[dict[str, Any]]:
    """Versions deployed to take effect on a day still to come (the decree's date), soonest first."""
    lf = engine()
    with lf.db.read() as s:
        return [p.as_dict() for p in pending_versions(s, lf.clock.now())]


def check_effective(lf: Any, day: date | None) -> None:
    """A version cannot take effect in the past: dossiers already received stay on their version."""
    if day is not None and day < local_day(lf.clock.now()):
        raise ApiProblem(422, "invalid_request", f"effective_from {day.isoformat()} is before today; "
                         "leave it out to deploy with effect from now")


@blp.route("/procedures", methods=["POST"])
@blp.doc(requestBody=BPMN_BODY)
@blp.arguments(DeployArgsSchema, location="query", as_kwargs=True)
@blp.response(201, DeployedSchema, description="a new version was stored")
@blp.alt_response(200, schema=DeployedSchema, description="the same file was already deployed: nothing changed",
                  success=True)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def deploy(effective_from: date | None = None) -> tuple[dict[str, Any], int]:
    """Validate and deploy a BPMN file (supervisors). A refused file lists every problem; nothing is stored.
    With `effective_from`, dossiers received from that day use the new version, before it the previous one."""
    lf = engine()
    check_effective(lf, effective_from)
    bpmn, dmns = uploaded_files()
    result = lf.runtime.deploy(current_officer(), bpmn, dmns, lf.settings.max_bpmn_bytes, effective_from)
    return {"key": result.key, "version": result.version, "created": result.created}, 201 if result.created else 200


@blp.route("/procedures/validate", methods=["POST"])
@blp.doc(requestBody=BPMN_BODY)
@blp.response(200, ValidationSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
def validate() -> dict[str, Any]:
    """Every problem of a file, and its "6 clear" report (people, work, results, authority, progress,
    responsibility); stores nothing. Supervisors only: checking costs the server work, so anyone else
    is refused (403, recorded in the audit log) before the file is read."""
    lf = engine()
    officer = current_officer()
    if check_validate(officer) is not None:
        lf.runtime.validate(officer, b"")  # raises the refusal, recorded, before the upload is read
    bpmn, dmns = uploaded_files()
    return lf.runtime.validate(officer, bpmn, dmns, lf.settings.max_bpmn_bytes).as_dict()


@blp.route("/procedures/<string(maxlength=64):key>/versions", methods=["GET"])
@blp.response(200, VersionSchema(many=True))
@blp.alt_response(404, response="NOT_FOUND")
def versions(key: str) -> list[queries.ProcedureView]:
    found = queries.procedure_versions(engine().db, key)
    if not found:
        raise ApiProblem(404, "not_found", f"procedure {key!r} is not deployed")
    return found


def _source(key: str, version: int) -> tuple[queries.ProcedureView, str, list[str]]:
    found = queries.procedure_source(engine().db, key, version)
    if found is None:
        raise ApiProblem(404, "not_found", f"procedure {key!r} has no version {version}")
    return found


@blp.route("/procedures/<string(maxlength=64):key>/versions/<int(max=2147483647):version>", methods=["GET"])
@blp.response(200, ProcedureSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_version(key: str, version: int) -> dict[str, Any]:
    return procedure_dict(_source(key, version)[0])


@blp.route("/procedures/<string(maxlength=64):key>/versions/<int(max=2147483647):version>/bpmn", methods=["GET"])
@blp.doc(responses={"200": {"description": "the BPMN file as deployed",
                            "content": {"application/xml": {"schema": {"type": "string"}}}}})
@blp.alt_response(404, response="NOT_FOUND")
def get_bpmn(key: str, version: int) -> Response:
    _, bpmn, _ = _source(key, version)
    return Response(bpmn, mimetype="application/xml",
                    headers={"Content-Disposition": content_disposition(f"{key}.v{version}.bpmn", "inline")})
