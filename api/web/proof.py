"""Is this paper genuine? (`/xac-thuc`): no sign-in, no JavaScript, readable on a phone.

The citizen (a bank, a notary) types or follows the SHA-256 of a slip or result (the lookup page links every
paper of the dossier here), or uploads the PDF and the page hashes it. The server builds the proof bundle
(engine/proofs.py) and checks it exactly as `landflow verify-slip` does offline (engine/proofcheck.py), with
the published checkpoint keys: genuine; recorded but not yet under a signed checkpoint; not provable (the
history was changed after the checkpoint, named); or not found. Nothing personal is shown: the kind of
paper, its number and date, the dossier code, the checkpoint. The bundle is offered for download.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from engine.checkpoints import has_key, verifying_ring
from engine.jsoncanon import parse_iso
from engine.keyhistory import KeyHistoryProblem
from engine.papers.slips import KINDS
from engine.proofcheck import KeyRing, ProofReport, check_bundle
from engine.proofs import SHA256, proof_bundle

from .common import lf
from .pages import blueprint

bp = blueprint("web_proof", __name__)
VERDICT = {
    "genuine": _l("Genuine: this paper was issued by the one-stop desk and its record has not been changed."),
    "pending": _l("Recorded in the dossier's history, not yet under a signed checkpoint (one is made every hour): "
                  "check again later."),
    "changed": _l("Cannot be confirmed: the dossier's history was changed after it was signed. Tell the one-stop "
                  "desk."),
    "unverifiable": _l("Cannot be confirmed: the signing key of the checkpoints is not available here."),
}
WHERE = {
    "chain": _l("The events from this paper to the signed head of the dossier no longer give the signed hash."),
    "merkle": _l("The dossier's signed head no longer leads to the checkpoint's signed root."),
    "signature": _l("The checkpoint's signature does not hold with the published keys."),
    "event": _l("The dossier's history does not name this paper as it should."),
    "bundle": _l("The proof is incomplete."),
}
RESULT = _l("Result of the dossier")


def paper_name(kind: str) -> str:
    """The official title of a slip (Circular 03/2025), or "result"."""
    if kind in KINDS:
        return KINDS[kind][1].capitalize()
    return str(RESULT)


def _ring() -> KeyRing | None:
    path = lf().settings.checkpoint_key
    if not has_key(path):
        return None
    try:
        return verifying_ring(path)
    except KeyHistoryProblem:
        return None


def judge(sha: str) -> tuple[dict[str, Any] | None, str, ProofReport | None]:
    """(bundle, verdict, report): verdict genuine | pending | changed | unverifiable | not_found."""
    with lf().db.read() as s:
        bundle = proof_bundle(s, sha)
    if bundle is None:
        return None, "not_found", None
    ring = _ring()
    if ring is None:
        return bundle, "unverifiable", None
    report = check_bundle(bundle, ring, sha)
    if report.ok:
        return bundle, "genuine", report
    return bundle, ("pending" if report.where == "pending" else "changed"), report


@bp.get("/xac-thuc")
def proof_page() -> Any:
    sha = (request.args.get("h") or "").strip().lower()[:64]
    asked = bool(sha)
    if asked and not SHA256.match(sha):
        return _render(sha, "bad", None, None), 400
    bundle, verdict, report = judge(sha) if asked else (None, "", None)
    status = 404 if verdict == "not_found" else 200
    return _render(sha, verdict, bundle, report), status


@bp.post("/xac-thuc")
def proof_upload() -> Any:
    """The PDF itself: hashed here (kept nowhere), then the page of its SHA-256."""
    storage = request.files.get("file")
    if storage is None:
        return _render("", "no_file", None, None), 400
    digest = hashlib.sha256()
    for chunk in iter(lambda: storage.stream.read(65536), b""):
        digest.update(chunk)
    return redirect(url_for("web_proof.proof_page", h=digest.hexdigest()), 303)


def _render(sha: str, verdict: str, bundle: dict[str, Any] | None, report: ProofReport | None) -> str:
    paper = (bundle or {}).get("paper") or {}
    checkpoint = (bundle or {}).get("checkpoint")
    record_at: datetime | None = None
    if checkpoint:
        import json

        try:
            record_at = parse_iso(json.loads(checkpoint["record"])["at"])
        except (ValueError, KeyError, TypeError):
            record_at = None
    return render_template(
        "public_proof.html", sha=sha, verdict=verdict, verdict_text=str(VERDICT.get(verdict, "")),
        where_text=str(WHERE.get(report.where or "", "")) if report is not None and not report.ok else "",
        paper_name=paper_name(str(paper.get("kind", ""))) if paper else "", paper=paper,
        paper_at=parse_iso(paper["at"]) if paper.get("at") else None, code=(bundle or {}).get("code", ""),
        checkpoint=checkpoint, checkpoint_at=record_at, tree_size=(bundle or {}).get("tree_size"))
