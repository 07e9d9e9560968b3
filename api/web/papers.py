"""The dossier page's papers and slips: attach a scan, download one, issue or print a slip.

Each act goes to the engine (`add_document`, `issue_slip`), which decides who may and records it;
reading follows the dossier's read scope (404 otherwise, as for the dossier page).
"""

from __future__ import annotations

import io
from typing import Any

from flask import Response, abort, request, send_file
from flask_babel import gettext as _

from engine import queries
from engine.papers.blobs import HEX
from engine.papers.documents import Upload, UploadRefused, add_document, documents
from engine.papers.slips import KINDS, SlipUnavailable, build_slip
from engine.runtime import CommandRefused

from ..disposition import content_disposition
from ..slips import qr_address, render_pdf
from ..slips.decision import issue_slip_pdf, issued_bytes, printed_pdf
from ..slips.issuer import ensure
from ..slips.results import RESULT_DOCUMENTS
from ..unseen import unseen
from .common import directory, lf, refusal_message, say
from .pages import blueprint
from .reception import upload_words
from .session import redirect_to, signed_in, signed_in_account

bp = blueprint("web_documents", __name__)


def _readable(dossier_id: int) -> queries.DossierView:
    view = queries.dossier(lf().db, queries.Scope.of(signed_in_account().officer()), dossier_id)
    if view is None:
        abort(404)
    return view


@bp.post("/dossiers/<id:dossier_id>/documents")
@signed_in()
def upload(dossier_id: int) -> Any:
    if unseen(signed_in_account().officer(), "dossier", dossier_id, "add_document") is not None:
        abort(404)  # out of read scope: as a missing dossier, recorded off its chain (api/unseen.py)
    engine = lf()
    storage = request.files.get("file")
    paper = request.form.get("paper") or None
    kind = request.form.get("kind") or "received"
    if storage is None or not storage.filename:
        say(_("Choose a file to attach."), "error")
        return redirect_to("web_officer.dossier", dossier_id=dossier_id)
    try:
        up = Upload.of(storage.read(engine.settings.max_upload_bytes + 1), storage.filename,
                       engine.settings.max_upload_bytes)
        add_document(engine.runtime, signed_in_account().officer(), dossier_id, up, engine.blobs, paper=paper,
                     kind=kind)
    except UploadRefused as err:
        say(_("The file was refused: %(why)s", why=upload_words(err.code)), "error")
        return redirect_to("web_officer.dossier", dossier_id=dossier_id)
    except CommandRefused as err:
        say(refusal_message(err), "error")
        return redirect_to("web_officer.dossier", dossier_id=dossier_id)
    say(_("The file %(name)s is attached to the dossier.", name=up.filename), "success")
    return redirect_to("web_officer.dossier", dossier_id=dossier_id)


@bp.get("/dossiers/<id:dossier_id>/documents/<sha256>")
@signed_in()
def download(dossier_id: int, sha256: str) -> Any:
    _readable(dossier_id)
    engine = lf()
    if not HEX.match(sha256):
        abort(404)
    with engine.db.read() as s:
        named = [d for d in documents(s, dossier_id) if d.sha256 == sha256]
    data = engine.blobs.get(sha256) if named else None
    if data is None:
        abort(404)
    resp = send_file(io.BytesIO(data), mimetype=named[-1].media_type, as_attachment=True,
                     download_name=named[-1].name, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def _slip(dossier_id: int, kind: str) -> tuple[bytes, Any]:
    view = _readable(dossier_id)
    engine = lf()
    if kind not in KINDS:
        abort(404)
    try:
        with engine.db.read() as s:
            slip = build_slip(s, engine.procedures, directory(), engine.calendar, dossier_id, kind,
                              1 if kind == "receipt" else None)
    except SlipUnavailable:
        abort(404)
    return render_pdf(slip, qr_address(engine.settings, view.code), engine.calendar.tz), slip


def _pdf(pdf: bytes, slip: Any) -> Response:
    resp = Response(pdf, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = content_disposition(f"{slip.code}-{slip.kind}.pdf", "inline")
    return resp


@bp.post("/dossiers/<id:dossier_id>/slips/<kind>")
@signed_in()
def issue(dossier_id: int, kind: str) -> Any:
    """Issue (the first time these bytes are issued, recorded) and show the PDF to print."""
    if unseen(signed_in_account().officer(), "dossier", dossier_id, "issue_slip") is not None:
        abort(404)
    engine = lf()
    pdf, slip = _slip(dossier_id, kind)
    try:
        pdf = issue_slip_pdf(engine, signed_in_account().officer(), dossier_id, slip, pdf)
    except CommandRefused as err:
        say(refusal_message(err), "error")
        return redirect_to("web_officer.dossier", dossier_id=dossier_id)
    return _pdf(pdf, slip)


@bp.get("/dossiers/<id:dossier_id>/slips/<kind>")
@signed_in()
def reprint(dossier_id: int, kind: str) -> Any:
    pdf, slip = _slip(dossier_id, kind)
    return _pdf(printed_pdf(lf(), dossier_id, slip, pdf), slip)


@bp.get("/dossiers/<id:dossier_id>/decisions/<id:seq>.pdf")
@signed_in()
def decision_pdf(dossier_id: int, seq: int) -> Any:
    """The signed decision record as issued (sealed PAdES when the office has a seal)."""
    _readable(dossier_id)
    pdf = ensure(lf(), dossier_id, seq)  # issued by now, or issued here when the issuer has not yet
    if pdf is None:
        abort(404)
    resp = Response(pdf, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = content_disposition(f"decision-{dossier_id}-{seq}.pdf", "inline")
    return resp


@bp.get("/dossiers/<id:dossier_id>/results/<kind>/<id:seq>.pdf")
@signed_in()
def result_pdf(dossier_id: int, kind: str, seq: int) -> Any:
    """A result document a signed step produced (the register page, the issuance book entry), as issued."""
    _readable(dossier_id)
    if kind not in RESULT_DOCUMENTS or ensure(lf(), dossier_id, seq) is None:
        abort(404)
    pdf = issued_bytes(lf(), dossier_id, kind, seq)
    if pdf is None:
        abort(404)
    resp = Response(pdf, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = content_disposition(f"{kind}-{dossier_id}-{seq}.pdf", "inline")
    return resp
