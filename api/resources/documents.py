"""A dossier's papers: upload (multipart), list, download by SHA-256.

Only those who may read the dossier see or fetch its files (404 otherwise, as for the dossier); only
the receiving desk or the holder of the current step adds one (the engine decides and records a
refusal). A file is served as an attachment with `nosniff`: a scan is never rendered as a page of
landflow's own origin.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Response, request, send_file
from flask_smorest import Blueprint
from marshmallow import ValidationError

from engine.papers.blobs import HEX
from engine.papers.documents import Upload, UploadRefused, add_document, documents

from ..auth import current_officer, engine
from ..problems import ApiProblem
from ..schemas.documents import DocumentFileSchema, DocumentSchema, DocumentUploadSchema
from ..unseen import require_seen
from .views import expected_version, visible_dossier

blp = Blueprint("documents", __name__, description="A dossier's papers (scans and results)")
STATUS = {"file_too_large": 413, "unsupported_type": 415, "empty_file": 422}


def checked_upload(data: bytes, filename: str | None) -> Upload:
    try:
        return Upload.of(data, filename, engine().settings.max_upload_bytes)
    except UploadRefused as err:
        raise ApiProblem(STATUS[err.code], err.code, str(err)) from None


@blp.route("/dossiers/<id:dossier_id>/documents", methods=["POST"])
@blp.arguments(DocumentFileSchema, location="files")
@blp.response(201, DocumentSchema)
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def add(files: dict[str, Any], dossier_id: int) -> dict[str, Any]:
    """Attach a scanned paper or a step's result: the desk at reception, or whoever holds the current step."""
    require_seen(current_officer(), "dossier", dossier_id, "add_document")  # out of scope: 404, recorded off-chain
    try:
        form = DocumentUploadSchema().load(request.form.to_dict())
    except ValidationError as err:
        raise ApiProblem(422, "invalid_data", f"the form fields are not valid: {err.messages}") from None
    lf = engine()
    storage = files["file"]
    upload = checked_upload(storage.read(lf.settings.max_upload_bytes + 1), storage.filename)
    add_document(lf.runtime, current_officer(), dossier_id, upload, lf.blobs, paper=form.get("paper"),
                 kind=form["kind"], expected_version=expected_version())
    with lf.db.read() as s:
        return [d for d in documents(s, dossier_id) if d.sha256 == upload.sha256][-1].as_dict()


@blp.route("/dossiers/<id:dossier_id>/documents", methods=["GET"])
@blp.response(200, DocumentSchema(many=True))
@blp.alt_response(404, response="NOT_FOUND")
def list_documents(dossier_id: int) -> list[dict[str, Any]]:
    """The files the dossier's history names, oldest first."""
    visible_dossier(dossier_id)
    with engine().db.read() as s:
        return [d.as_dict() for d in documents(s, dossier_id)]


@blp.route("/dossiers/<id:dossier_id>/documents/<string:sha256>", methods=["GET"])
@blp.response(200, content_type="application/octet-stream")
@blp.alt_response(404, response="NOT_FOUND")
def download(dossier_id: int, sha256: str) -> Response:
    """One file, by its SHA-256, as an attachment (only a file this dossier's history names)."""
    visible_dossier(dossier_id)
    lf = engine()
    if not HEX.match(sha256):
        raise ApiProblem(404, "not_found", "no such document in this dossier")
    with lf.db.read() as s:
        named = [d for d in documents(s, dossier_id) if d.sha256 == sha256]
    data = lf.blobs.get(sha256) if named else None
    if data is None:
        raise ApiProblem(404, "not_found", "no such document in this dossier")
    doc = named[-1]
    resp = send_file(io.BytesIO(data), mimetype=doc.media_type, as_attachment=True, download_name=doc.name,
                     etag=sha256, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
