"""The result PDFs: the decision record of a signed step, and sealing of the slips (PAdES, engine/pdfsign.py).

When an officer completes a signed step, the office issues the decision record: a PDF stating the
decision's fields in words, the dossier, the step, the officer, the instant, the SHA-256 of the exact
decision document the officer signed, the officer's certificate and the signature value; sealed PAdES
by the office's seal certificate and recorded as the dossier's paper (`slip_issued`, kind `decision`,
the PDF in the blob store). The system issues it on behalf of the receiving desk (as continuations do),
because the signing officer may hold nothing of the dossier once the step is done. Record 0127.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine import certificates
from engine.bootstrap import Landflow
from engine.jsoncanon import parse_iso
from engine.org import SYSTEM, Officer
from engine.papers.documents import issued_slips, record_slip
from engine.papers.slips import _agency
from engine.pdfsign import Seal, sign_pdf
from engine.signatures import decision_document
from engine.store import CaseEventRow, DossierRow, WorkItemRow

from . import _env, place_date, qr_address, qr_data_uri, vn_time
from .results import issue_results

log = logging.getLogger(__name__)
KIND = "decision"
_issuing = threading.Lock()


def seal_of(lf: Landflow) -> Seal | None:
    return Seal.configured(lf.settings.seal_cert, lf.settings.seal_key)


def seal(lf: Landflow, pdf: bytes, reason: str, location: str) -> bytes:
    """The PDF sealed with the office's certificate, or as it is when no seal is configured."""
    found = seal_of(lf)
    return pdf if found is None else sign_pdf(pdf, found, reason=reason, location=location,
                                              tsa_url=lf.settings.tsa_url)


def issued_bytes(lf: Landflow, dossier_id: int, kind: str, as_of: int) -> bytes | None:
    """The PDF issued for this slip (its stored bytes), if it was issued: a sealed PDF is never re-signed."""
    with lf.db.read() as s:
        same = [x for x in issued_slips(s, dossier_id) if x["slip"] == kind and x["as_of"] == as_of]
    return lf.blobs.get(same[-1]["sha256"]) if same else None


def issue_slip_pdf(lf: Landflow, officer: Officer, dossier_id: int, slip: Any, pdf: bytes) -> bytes:
    """Issue a one-stop slip: unsealed, once per distinct bytes (as before); sealed, once per slip and
    event, and printing again gives the issued bytes."""
    from engine.papers.blobs import digest

    if seal_of(lf) is None:
        with lf.db.read() as s:
            known = {x["sha256"] for x in issued_slips(s, dossier_id)}
        if digest(pdf) not in known:
            record_slip(lf.runtime, officer, dossier_id, slip.kind, slip.as_of, slip.number, pdf, lf.blobs)
        return pdf
    stored = issued_bytes(lf, dossier_id, slip.kind, slip.as_of)
    if stored is not None:
        return stored
    sealed = seal(lf, pdf, slip.title, slip.place)
    record_slip(lf.runtime, officer, dossier_id, slip.kind, slip.as_of, slip.number, sealed, lf.blobs)
    return sealed


def printed_pdf(lf: Landflow, dossier_id: int, slip: Any, pdf: bytes) -> bytes:
    """Printing again: the sealed bytes as issued, else the render (unsealed slips render the same bytes)."""
    if seal_of(lf) is None:
        return pdf
    return issued_bytes(lf, dossier_id, slip.kind, slip.as_of) or pdf


# -- the decision record ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DecisionRecord:
    code: str
    seq: int
    step: str
    step_name: str
    procedure_name: str
    officer: str
    officer_name: str
    unit_name: str
    agency: str
    parent_agency: str
    place: str
    signed_at: datetime
    fields: list[tuple[str, str]]
    document_sha256: str
    signature: str
    certificate: dict[str, str] | None
    key_text: str
    unit: str | None = None  # the signing officer's unit (its code)


def decision_record(lf: Landflow, dossier_id: int, seq: int, labels: Any) -> DecisionRecord:
    """From the `completed` event at `seq` (a signed step) and the procedure; `labels(name, value)` gives the
    words of a field and its value (the pages' catalogue)."""
    with lf.db.read() as s:
        ev = s.scalar(select(CaseEventRow).where(CaseEventRow.dossier_id == dossier_id, CaseEventRow.seq == seq))
        d = s.get(DossierRow, dossier_id)
        if ev is None or d is None or ev.type != "completed" or ev.step is None:
            raise LookupError(f"no completed step at seq {seq} of dossier {dossier_id}")
        payload = json.loads(ev.payload) if isinstance(ev.payload, str) else ev.payload
        sig = payload.get("signature")
        if not sig:
            raise LookupError(f"the step at seq {seq} was not signed")
        meta = lf.procedures.get(s.connection(), d.procedure_version_id).meta
    directory = lf.directory.get()
    data = payload.get("data", {})
    doc = decision_document(d.code, ev.step, payload["item"], data, ev.actor, sig["signed_at"])
    step = meta.steps.get(ev.step)
    agency, parent, place = _agency(directory, d.desk_unit)
    who = directory.officers.get(ev.actor)
    unit = directory.units.get(ev.unit) if ev.unit else None
    key = str(sig.get("key", ""))
    return DecisionRecord(
        d.code, seq, ev.step, step.name if step else ev.step, meta.name, ev.actor, who.name if who else ev.actor,
        unit.name if unit else (ev.unit or ""), agency, parent, place, parse_iso(sig["signed_at"]),
        [labels(k, v) for k, v in data.items()], hashlib.sha256(doc).hexdigest(), sig["value"],
        certificates.describe(key) if certificates.is_certificate(key) else None, key, ev.unit)


def render_decision(record: DecisionRecord, tz: Any, lookup_url: str = "") -> bytes:
    """`lookup_url`: what the QR holds, the dossier's public lookup page with its token (as on the slips),
    from where anyone reaches the page proving a paper genuine."""
    from weasyprint import HTML

    html = _env.get_template("decision.html").render(
        r=record, when=vn_time(record.signed_at, tz), place_date=place_date(record.place, record.signed_at, tz),
        qr=qr_data_uri(lookup_url) if lookup_url else None)
    doc = HTML(string=html).render()
    doc.metadata.title = f"Quyết định – {record.step_name} – {record.code}"
    doc.metadata.authors = [record.agency]
    doc.metadata.created = doc.metadata.modified = record.signed_at.astimezone(tz).isoformat(timespec="seconds")
    doc.metadata.generator = "landflow"
    return doc.write_pdf()


def last_signed_completion(lf: Landflow, dossier_id: int, step: str) -> int | None:
    with lf.db.read() as s:
        return s.scalar(select(CaseEventRow.seq).where(CaseEventRow.dossier_id == dossier_id,
                                                       CaseEventRow.type == "completed", CaseEventRow.step == step)
                        .order_by(CaseEventRow.seq.desc()).limit(1))


def step_of_item(lf: Landflow, item_id: int) -> str | None:
    with lf.db.read() as s:
        return s.scalar(select(WorkItemRow.step).where(WorkItemRow.id == item_id))


def issue_decision(lf: Landflow, dossier_id: int, step: str, labels: Any) -> bytes | None:
    """After a signed step is completed: the sealed decision record, issued once (None when not signed)."""
    seq = last_signed_completion(lf, dossier_id, step)
    return None if seq is None else issue_decision_at(lf, dossier_id, seq, labels)


def issue_decision_at(lf: Landflow, dossier_id: int, seq: int, labels: Any) -> bytes | None:
    """The decision record of the signed completion at event `seq`, issued once, with the result documents
    its step declares (api/slips/results.py): the stored bytes when it was issued already, None when that
    event is no signed completion."""
    stored = issued_bytes(lf, dossier_id, KIND, seq)
    try:
        record = decision_record(lf, dossier_id, seq, labels)
    except LookupError:
        return stored
    with lf.db.read() as s:
        row = s.get(DossierRow, dossier_id)
        desk, version = (row.desk_unit, row.procedure_version_id) if row is not None else ("", 0)
        meta = lf.procedures.get(s.connection(), version).meta
    system = Officer(SYSTEM, "landflow", desk, frozenset({"one_stop_desk"}))
    with _issuing:  # two threads of one process issuing the same record: the second finds it issued
        pdf = stored or issued_bytes(lf, dossier_id, KIND, seq)
        if pdf is None:
            pdf = seal(lf, render_decision(record, lf.calendar.tz, qr_address(lf.settings, record.code)),
                       f"Quyết định: {record.step_name}", record.place)
            record_slip(lf.runtime, system, dossier_id, KIND, seq, f"{record.code}/QĐ-{seq}", pdf, lf.blobs)
        issue_results(lf, dossier_id, record, meta, record.unit, desk,
                      lambda doc, reason, place: seal(lf, doc, reason, place),
                      lambda kind: issued_bytes(lf, dossier_id, kind, seq))
    return pdf


def vietnamese_labels(name: str, value: Any) -> tuple[str, str]:
    """A field and its value in the words of the pages' catalogue, in Vietnamese (the record is Vietnamese)."""
    from flask_babel import force_locale

    from ..web.labels import CHOICE, field_label, label

    with force_locale("vi"):
        if isinstance(value, bool):
            words = "Có" if value else "Không"
        elif isinstance(value, str) and value in CHOICE:
            words = label(CHOICE, value)
        else:
            words = "" if value is None else str(value)
        return field_label(name), words
