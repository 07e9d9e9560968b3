"""The organisation-wide audit (auditors): verify everything, export for process mining, checkpoints.

Verifying replays every dossier, which takes minutes on a province's database, longer than an HTTP
request may. So GET /audit/verify walks the dossiers a page at a time (`limit`, default 100, and the
`X-Next-Cursor` of the page before); the first page also checks the organisation-wide layers (the
audit log's chain and every signed checkpoint). `dossier=` checks one dossier, with the heads of it
that checkpoints signed. A client that follows the cursors to the end has checked what
`landflow verify --all` checks.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from flask import Response
from flask_smorest import Blueprint

from engine import queries
from engine.checkpoints import has_key, list_checkpoints, verifying_ring
from engine.export import ExportFilter, ocel, write_xes
from engine.integrity import IntegrityReport, dossier_ids, verify_dossiers, verify_one, verify_organisation

from .. import pagination
from ..auth import engine
from ..disposition import content_disposition
from ..problems import ApiProblem
from ..schemas.common import PAGE_HEADERS, PageArgsSchema
from ..schemas.reports import CheckpointSchema, ExportArgsSchema, IntegritySchema, VerifyArgsSchema
from .reports import period
from .views import report_unit

blp = Blueprint("audit", __name__, description="Verify everything, process-mining export, checkpoints (auditors)")
CHUNK = 64 * 1024
SPOOL = 8 * 1024 * 1024  # an export larger than this is spooled to a temporary file, not held in memory


def integrity_body(report: IntegrityReport, scope: str, ids: list[int], organisation: bool) -> dict[str, Any]:
    return {"ok": report.ok, "scope": scope, "dossiers": report.dossiers, "first_dossier": ids[0] if ids else None,
            "last_dossier": ids[-1] if ids else None, "organisation_checked": organisation,
            "checkpoints": report.checkpoints, "first": report.first, "findings": report.findings}


@blp.route("/audit/verify", methods=["GET"])
@blp.arguments(VerifyArgsSchema, location="query")
@blp.response(200, IntegritySchema, headers=PAGE_HEADERS)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def verify_all(args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Hash chains, replays and decision signatures of a page of dossiers (in id order); on the first
    page also the audit log and every signed checkpoint. `first` names the first inconsistency
    (layer, dossier, seq). Follow `X-Next-Cursor` to check every dossier; `dossier=` checks one."""
    report_unit("audit", "verify_all")
    lf = engine()
    if "dossier" in args:
        did = args["dossier"]
        with lf.db.read() as s:
            exists = queries.visible(s, queries.Scope(None, ""), did)
        if not exists:
            raise ApiProblem(404, "not_found", f"dossier {did} does not exist")
        return integrity_body(verify_one(lf.db, lf.procedures, did, lf.blobs), "dossier", [did], False), {}
    cursor = pagination.decode(args.get("cursor"), (int,))
    limit = args["limit"]
    ids = dossier_ids(lf.db, cursor[0] if cursor else 0, limit + 1)
    page = ids[:limit]
    report = IntegrityReport()
    verify_dossiers(lf.db, lf.procedures, page, report, blobs=lf.blobs)
    first_page = cursor is None
    if first_page:
        verify_organisation(lf.db, lf.settings.checkpoint_key, report)
    headers = pagination.next_headers([page[-1]] if len(ids) > limit else None)
    return integrity_body(report, "page", page, first_page), headers


def export_filter(args: dict[str, Any]) -> tuple[ExportFilter, str]:
    """The filter and the file name's stem: landflow-<procedure|all>[-from][-to]."""
    start, end = period(args)
    parts = ["landflow", args.get("procedure") or "all"]
    parts += [str(d) for d in (args.get("from_"), args.get("to")) if d is not None]
    return ExportFilter(args.get("procedure"), start, end), "-".join(parts)


def _stream(file: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := file.read(CHUNK):
            yield chunk
    finally:
        file.close()


@blp.route("/audit/export.xes", methods=["GET"])
@blp.arguments(ExportArgsSchema, location="query")
@blp.doc(responses={"200": {"description": "XES (IEEE 1849): one trace per dossier",
                            "content": {"application/xml": {"schema": {"type": "string"}}},
                            "headers": {"Content-Disposition": {"schema": {"type": "string"}}}}})
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def export_xes(args: dict[str, Any]) -> Response:
    """The event log as XES for process mining (README, 'Process-mining export'): dossiers received
    in [from, to) (local days; both optional), of one `procedure` or all."""
    report_unit("audit", "export_xes")
    flt, stem = export_filter(args)
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115 - closed by the stream
    try:
        write_xes(engine().db, flt, out)
        size = out.tell()
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return Response(_stream(out), mimetype="application/xml", direct_passthrough=True,
                    headers={"Content-Disposition": content_disposition(f"{stem}.xes"), "Content-Length": str(size)})


@blp.route("/audit/export.ocel.json", methods=["GET"])
@blp.arguments(ExportArgsSchema, location="query")
@blp.doc(responses={"200": {"description": "OCEL 2.0 JSON: events related to dossier, parcel, officer and "
                                           "unit objects",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                            "headers": {"Content-Disposition": {"schema": {"type": "string"}}}}})
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def export_ocel(args: dict[str, Any]) -> Response:
    """The event log as OCEL 2.0 JSON (objects: dossier, parcel, officer, unit): dossiers received in
    [from, to) (local days; both optional), of one `procedure` or all."""
    report_unit("audit", "export_ocel")
    flt, stem = export_filter(args)
    body = json.dumps(ocel(engine().db, flt), ensure_ascii=False).encode("utf-8")
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": content_disposition(f"{stem}.ocel.json")})


@blp.route("/checkpoints", methods=["GET"])
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, CheckpointSchema(many=True), headers=PAGE_HEADERS)
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(403, response="FORBIDDEN")
def checkpoints(args: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Signed checkpoints, newest first: time, events, dossiers, Merkle root, signed record and
    signature, and whether the signature, the stored columns and the link to the checkpoint before
    check with the key file (never a key from the database). GET /audit/verify also recomputes
    each root from its leaves and checks every signed head against today's chains."""
    report_unit("audit", "read_checkpoints")
    lf = engine()
    cursor = pagination.decode(args.get("cursor"), (int,))
    path = lf.settings.checkpoint_key
    public = verifying_ring(path) if has_key(path) else None
    with lf.db.read() as s:
        rows, more = list_checkpoints(s, public, cursor[0] if cursor else None, args["limit"])
    out = [{"id": c.id, "at": c.at, "events": c.events, "dossiers": c.dossiers, "root": c.root, "prev": c.prev,
            "audit_seq": c.audit_seq, "record": c.record, "signature": c.signature, "key_id": c.key_id,
            "verified": c.verified, "problem": c.problem} for c in rows]
    return out, pagination.next_headers([out[-1]["id"]] if more else None)
