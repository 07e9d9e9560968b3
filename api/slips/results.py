"""The documents a signed step produces besides its decision record: the updated cadastral register page
and the certificate-issuance book entry (issue 18, point 3; docs/decisions/0174).

A signed step names them in its `documents` property (`register_page|issuance_record`); the bundled
procedures' registering steps do. Each is rendered from the same signed completion as the decision
record (the dossier's parcel and applicant, the change recorded by the dossier's forms, the signer and
the instant, the SHA-256 of the decision document the officer signed), sealed PAdES with the office's
seal like every result, and recorded as the dossier's paper (`slip_issued`, its kind, `as_of` = the
completion). Issued once per (kind, completion), by the same issuer and on request, like the decision
record (api/slips/issuer.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine.bootstrap import Landflow
from engine.definitions.documents import RESULT_KINDS
from engine.definitions.model import ProcedureMeta
from engine.org import SYSTEM, Officer
from engine.papers.documents import record_slip
from engine.store import CaseEventRow, DossierRow

from . import _env, place_date, qr_address, qr_data_uri, vn_time

# kind -> (template, title, number mark)
RESULT_DOCUMENTS = {
    "register_page": ("register_page.html", "Trang Sổ địa chính đã chỉnh lý", "SĐC"),
    "issuance_record": ("issuance_record.html", "Trang Sổ cấp Giấy chứng nhận", "CGCN"),
}
CHANGE_WORDS = {"transfer": "Chuyển nhượng quyền sử dụng đất", "inheritance": "Thừa kế quyền sử dụng đất",
                "donation": "Tặng cho quyền sử dụng đất", "capital_contribution": "Góp vốn bằng quyền sử dụng đất"}


def documents_of(meta: ProcedureMeta, step: str) -> list[str]:
    """The result documents a step declares (`documents=register_page|issuance_record`), known kinds only."""
    node = meta.nodes.get(step)
    text = node.properties.get("documents", "") if node is not None else ""
    return [k for k in (x.strip() for x in text.split("|")) if k in RESULT_DOCUMENTS and k in RESULT_KINDS]


@dataclass(frozen=True)
class ResultPage:
    kind: str
    title: str
    number: str
    unit: str
    parent_unit: str
    place: str
    code: str
    procedure_name: str
    step_name: str
    legal_basis: str
    holder: str
    holder_id: str
    parcel: dict[str, Any]
    change: str
    officer_name: str
    signed_when: str
    place_date: str
    document_sha256: str
    decision_number: str


def _dossier_data(lf: Landflow, dossier_id: int, seq: int) -> dict[str, Any]:
    """The dossier's form values up to the signed completion (later values win)."""
    data: dict[str, Any] = {}
    with lf.db.read() as s:
        for payload in s.scalars(select(CaseEventRow.payload).where(
                CaseEventRow.dossier_id == dossier_id, CaseEventRow.type == "completed",
                CaseEventRow.seq <= seq).order_by(CaseEventRow.seq)):
            body = json.loads(payload) if isinstance(payload, str) else payload
            if isinstance(body, dict) and isinstance(body.get("data"), dict):
                data.update(body["data"])
    return data


def result_page(lf: Landflow, record: Any, dossier_id: int, kind: str, unit_code: str | None,
                legal_basis: str) -> ResultPage:
    """`record`: the completion's DecisionRecord (api/slips/decision.py)."""
    with lf.db.read() as s:
        d = s.get(DossierRow, dossier_id)
        applicant = json.loads(d.applicant or "{}") if d else {}
        parcel = json.loads(d.parcel or "{}") if d else {}
    parcel = {k: (f"{v:g}".replace(".", ",") if isinstance(v, float) else v) for k, v in parcel.items()}  # 86,5 m²
    directory = lf.directory.get()
    unit = directory.units.get(unit_code or "")
    parent = directory.units.get(unit.parent) if unit is not None and unit.parent else None
    data = _dossier_data(lf, dossier_id, record.seq)
    change = CHANGE_WORDS.get(str(data.get("kind", "")), record.procedure_name)
    template, title, mark = RESULT_DOCUMENTS[kind]
    tz = lf.calendar.tz
    return ResultPage(
        kind, title, f"{record.code}/{mark}-{record.seq}", unit.name if unit else record.unit_name,
        parent.name if parent else record.parent_agency, record.place, record.code, record.procedure_name,
        record.step_name, legal_basis, str(applicant.get("name", "")), str(applicant.get("id_number", "")),
        parcel, change, record.officer_name, vn_time(record.signed_at, tz),
        place_date(record.place, record.signed_at, tz), record.document_sha256, f"{record.code}/QĐ-{record.seq}")


def result_html(page: ResultPage, lookup_url: str = "") -> str:
    """`lookup_url`: what the QR holds (the dossier's public lookup page, as on the slips), from where
    anyone reaches the page proving a paper genuine (issue 16)."""
    return _env.get_template(RESULT_DOCUMENTS[page.kind][0]).render(
        p=page, qr=qr_data_uri(lookup_url) if lookup_url else None)


def render_result(page: ResultPage, signed_at: Any, tz: Any, lookup_url: str = "") -> bytes:
    from weasyprint import HTML

    html = result_html(page, lookup_url)
    doc = HTML(string=html).render()
    doc.metadata.title = f"{page.title} – {page.code}"
    doc.metadata.authors = [page.unit]
    doc.metadata.created = doc.metadata.modified = signed_at.astimezone(tz).isoformat(timespec="seconds")
    doc.metadata.generator = "landflow"
    return doc.write_pdf()


def issue_results(lf: Landflow, dossier_id: int, record: Any, meta: ProcedureMeta, unit_code: str | None,
                  desk: str, seal: Any, issued: Any) -> list[str]:
    """Issue the step's declared result documents not issued yet; `seal(pdf, reason, place)` seals,
    `issued(kind)` gives stored bytes or None. Returns the kinds issued now."""
    step = meta.steps.get(record.step)
    legal_basis = (step.legal_basis if step else None) or ""
    system = Officer(SYSTEM, "landflow", desk, frozenset({"one_stop_desk"}))
    done: list[str] = []
    for kind in documents_of(meta, record.step):
        if issued(kind) is not None:
            continue
        page = result_page(lf, record, dossier_id, kind, unit_code, legal_basis)
        pdf = seal(render_result(page, record.signed_at, lf.calendar.tz, qr_address(lf.settings, record.code)),
                   f"{page.title}: {record.step_name}", record.place)
        record_slip(lf.runtime, system, dossier_id, kind, record.seq, page.number, pdf, lf.blobs)
        done.append(kind)
    return done
