"""The official slips of a dossier as PDF: issue one (recorded `slip_issued`), print one again, list them.

A slip is built from the dossier's events up to `as_of` (a receipt: the opened event by default), so
printing it again gives the same bytes; the first issue of those bytes is recorded in the dossier's
chain with their SHA-256 and the PDF kept in the blob store.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from engine.papers.documents import issued_slips
from engine.papers.slips import KINDS, SlipUnavailable, build_slip

from ..auth import current_officer, engine
from ..disposition import content_disposition
from ..problems import ApiProblem
from ..slips import qr_address, render_pdf
from ..slips.decision import issue_slip_pdf, issued_bytes, printed_pdf
from ..slips.issuer import ensure
from ..slips.results import RESULT_DOCUMENTS
from ..unseen import require_seen
from .views import visible_dossier

blp = Blueprint("slips", __name__, description="Official one-stop slips (Circular 03/2025/TT-VPCP) as PDF")


class SlipArgsSchema(Schema):
    as_of = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1),
                           metadata={"description": "the event the slip is as of (receipt: 1; others: the latest)"})


class IssuedSlipSchema(Schema):
    seq = fields.Integer()
    at = fields.AwareDateTime()
    actor = fields.String()
    slip = fields.String()
    as_of = fields.Integer()
    number = fields.String()
    size = fields.Integer()
    sha256 = fields.String()


def slip_pdf(dossier_id: int, kind: str, as_of: int | None) -> tuple[bytes, Any]:
    lf = engine()
    if kind not in KINDS:
        raise ApiProblem(404, "not_found", f"no slip of kind {kind!r}; kinds: {', '.join(KINDS)}")
    view = visible_dossier(dossier_id)
    try:
        with lf.db.read() as s:
            slip = build_slip(s, lf.procedures, lf.directory.get(), lf.calendar, dossier_id, kind,
                              as_of if as_of is not None else (1 if kind == "receipt" else None))
    except SlipUnavailable as err:
        raise ApiProblem(409, "slip_unavailable", str(err)) from None
    return render_pdf(slip, qr_address(lf.settings, view.code), lf.calendar.tz), slip


def pdf_response(pdf: bytes, slip: Any) -> Response:
    resp = Response(pdf, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = content_disposition(f"{slip.code}-{slip.kind}.pdf", "inline")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@blp.route("/dossiers/<id:dossier_id>/slips/<string:kind>", methods=["POST"])
@blp.arguments(SlipArgsSchema, location="query")
@blp.response(200, content_type="application/pdf")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def issue(args: dict[str, Any], dossier_id: int, kind: str) -> Response:
    """Issue the slip: the PDF, recorded in the dossier's history the first time these bytes are issued."""
    require_seen(current_officer(), "dossier", dossier_id, "issue_slip")  # out of scope: 404, recorded off-chain
    lf = engine()
    pdf, slip = slip_pdf(dossier_id, kind, args.get("as_of"))
    return pdf_response(issue_slip_pdf(lf, current_officer(), dossier_id, slip, pdf), slip)


@blp.route("/dossiers/<id:dossier_id>/slips/<string:kind>", methods=["GET"])
@blp.arguments(SlipArgsSchema, location="query")
@blp.response(200, content_type="application/pdf")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def reprint(args: dict[str, Any], dossier_id: int, kind: str) -> Response:
    """The same slip again (nothing recorded): the same bytes as when it was issued."""
    pdf, slip = slip_pdf(dossier_id, kind, args.get("as_of"))
    return pdf_response(printed_pdf(engine(), dossier_id, slip, pdf), slip)


@blp.route("/dossiers/<id:dossier_id>/slips", methods=["GET"])
@blp.response(200, IssuedSlipSchema(many=True))
@blp.alt_response(404, response="NOT_FOUND")
def list_slips(dossier_id: int) -> list[dict[str, Any]]:
    visible_dossier(dossier_id)
    with engine().db.read() as s:
        return issued_slips(s, dossier_id)


@blp.route("/dossiers/<id:dossier_id>/decisions/<id:seq>", methods=["GET"])
@blp.response(200, content_type="application/pdf")
@blp.alt_response(404, response="NOT_FOUND")
def decision_record(dossier_id: int, seq: int) -> Response:
    """The record of the signed decision completed at event `seq`, as issued: a PDF sealed PAdES with the
    office's certificate (docs/signatures.md); check it with any PDF reader or `landflow verify-pdf`."""
    view = visible_dossier(dossier_id)
    pdf = ensure(engine(), dossier_id, seq)  # issued by now, or issued here when the issuer has not yet
    if pdf is None:
        raise ApiProblem(404, "not_found", f"no decision record at event {seq} of dossier {view.code}")
    resp = Response(pdf, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = content_disposition(f"{view.code}-decision-{seq}.pdf", "inline")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@blp.route("/dossiers/<id:dossier_id>/results/<kind>/<id:seq>", methods=["GET"])
@blp.response(200, content_type="application/pdf")
@blp.alt_response(404, response="NOT_FOUND")
def result_document(dossier_id: int, kind: str, seq: int) -> Response:
    """A result document the signed step completed at event `seq` produced (`register_page`: the updated
    cadastral register page; `issuance_record`: the certificate-issuance book entry), as issued: sealed
    PAdES like the decision record."""
    view = visible_dossier(dossier_id)
    pdf = issued_bytes(engine(), dossier_id, kind, seq) if kind in RESULT_DOCUMENTS else None
    if pdf is None and kind in RESULT_DOCUMENTS and ensure(engine(), dossier_id, seq) is not None:
        pdf = issued_bytes(engine(), dossier_id, kind, seq)
    if pdf is None:
        raise ApiProblem(404, "not_found", f"no {kind} document at event {seq} of dossier {view.code}")
    resp = Response(pdf, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = content_disposition(f"{view.code}-{kind}-{seq}.pdf", "inline")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
