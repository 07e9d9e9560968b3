"""The documents a signed registering step produces besides its decision record (api/slips/results.py,
docs/decisions/0174): the updated cadastral register page and the certificate-issuance book entry, each
from the same signed completion, sealed PAdES with the office's chain, recorded once as the dossier's
papers, validating with pyHanko and failing after one changed byte; a step may declare only known kinds,
and only when it is signed."""

from __future__ import annotations

import base64
import json
from io import BytesIO
from typing import Any

from flask import Flask
from pypdf import PdfReader

from config.settings import Settings
from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.definitions.lint import lint
from engine.pdfsign import verify_pdf
from engine.signatures import register_key
from tests.api.test_signed_results import pki, walk_to_update_register
from tests.support.bpmn_builder import small_procedure
from tests.support.decisions import records_issued
from tests.support.org import small_organisation
from tests.support.pki import Pki, sign_bytes

__all__ = ["pki"]  # the fixture, shared with test_signed_results
KINDS = ("decision", "register_page", "issuance_record")


def pdf_text(data: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages).replace("\n", " ")


def test_a_signed_transfer_gives_the_register_page_and_the_issuance_entry(
        sign_in: Any, app: Flask, demo_lf: Landflow, pki: Pki, demo_clock: FixedClock,
        demo_settings: Settings) -> None:
    officer_cert = pki.officer("Nguyễn Văn A - Chi nhánh VPĐKĐĐ khu vực 1")
    with demo_lf.db.write() as s:
        register_key(s, "branch.haichau", pki.bundle(officer_cert), "admin", demo_clock.now())
    demo_lf.directory.refresh()
    parcel = {"sheet": "12", "number": "345", "area": 86.5, "address": "Tổ 7, phường Hải Châu"}
    branch, current, item = walk_to_update_register(sign_in, demo_clock, parcel)
    did = current["id"]
    doc = branch.post(f"/api/v1/work-items/{item['id']}/decision", json={"data": {}}).json
    signature = {"signed_at": doc["signed_at"], "value": base64.b64encode(
        sign_bytes(officer_cert.key, doc["document"].encode("utf-8"))).decode()}
    resp = branch.post(f"/api/v1/work-items/{item['id']}/complete", json={"data": {}, "signature": signature})
    assert resp.status_code == 200, resp.json
    records_issued(app)
    slips = [x for x in branch.get(f"/api/v1/dossiers/{did}/slips").json if x["slip"] in KINDS]
    assert [x["slip"] for x in slips] == list(KINDS) and len({x["as_of"] for x in slips}) == 1
    seq = slips[0]["as_of"]
    assert all(x["actor"] == "system" for x in slips)
    for kind, title in (("register_page", "TRANG SỔ ĐỊA CHÍNH ĐÃ CHỈNH LÝ"),
                        ("issuance_record", "TRANG SỔ CẤP GIẤY CHỨNG NHẬN")):
        got = branch.get(f"/api/v1/dossiers/{did}/results/{kind}/{seq}")
        assert got.status_code == 200 and got.mimetype == "application/pdf", got.status_code
        check = verify_pdf(got.data, demo_settings.trust_roots)
        assert check.ok and check.signatures[0]["coverage"] == "ENTIRE_FILE", check.problems
        text = pdf_text(got.data)
        assert title in text and current["code"] in text and "Lê Văn Tám" in text, text[:400]
        assert "Chuyển nhượng quyền sử dụng đất" in text  # the reception's `kind: transfer`, in words
        assert all(str(v) in text for v in ("12", "345", "86,5", "Tổ 7, phường Hải Châu")), text[:600]
        assert doc["sha256"] in text.replace(" ", "")  # the hash of the decision document the officer signed
        assert f"{current['code']}/QĐ-{seq}" in text.replace(" ", ""), text  # names its decision record
        at = got.data.index(b"/MediaBox") + 12
        tampered = got.data[:at] + bytes([got.data[at] ^ 1]) + got.data[at + 1:]
        assert not verify_pdf(tampered, demo_settings.trust_roots).ok
        again = branch.get(f"/api/v1/dossiers/{did}/results/{kind}/{seq}")
        assert again.data == got.data  # as issued, never rendered again
    assert branch.get(f"/api/v1/dossiers/{did}/results/receipt/{seq}").status_code == 404
    assert branch.get(f"/api/v1/dossiers/{did}/results/register_page/{seq - 1}").status_code == 404
    after = [x for x in branch.get(f"/api/v1/dossiers/{did}/slips").json if x["slip"] in KINDS]
    assert after == slips  # reading issued nothing more
    auditor = sign_in("auditor")
    assert auditor.get(f"/api/v1/dossiers/{did}/verify").json["ok"] is True
    events = auditor.get(f"/api/v1/dossiers/{did}/events").json
    documents = [e for e in events if e["type"] == "slip_issued" and e["payload"]["slip"] != "decision"]
    assert [json.dumps(e["payload"]["number"]) for e in documents] == [
        json.dumps(f"{current['code']}/SĐC-{seq}"), json.dumps(f"{current['code']}/CGCN-{seq}")]


def test_the_documents_carry_the_dossiers_lookup_qr(demo_lf: Landflow) -> None:
    """As the slips do: the QR leads to the dossier's public lookup page, and from there to the proof."""
    from api.slips import qr_address, qr_data_uri
    from api.slips.results import ResultPage, result_html

    code = "000.01.90.H17-260302-0001"
    page = ResultPage("register_page", "Trang Sổ địa chính đã chỉnh lý", f"{code}/SĐC-7", "Chi nhánh", "Văn phòng",
                      "Hải Châu", code, "Chuyển nhượng", "Chỉnh lý", "Luật Đất đai 2024", "Lê Văn Tám", "",
                      {"sheet": "12"}, "Chuyển nhượng", "Võ Thị Kim Oanh", "10 giờ", "Hải Châu, ngày 02", "ab" * 32,
                      f"{code}/QĐ-7")
    address = qr_address(demo_lf.settings, code)
    html = result_html(page, address)
    assert qr_data_uri(address) in html and "/tra-cuu" in address
    assert qr_data_uri(qr_address(demo_lf.settings, code[:-1] + "2")) not in html  # another dossier's is not
    assert 'alt="QR"' in html and 'alt="QR"' not in result_html(page)  # no address, no QR


def test_a_step_declares_only_known_documents_and_only_when_signed() -> None:
    roles = {r.code for r in small_organisation().roles.values() if r.owns_steps}
    proc = small_procedure()
    sign = next(n for n in proc.nodes if n.id == "sign")
    sign.props.update(signed="true", documents="register_page|issuance_record")
    assert lint(proc.to_xml(), [], roles).ok
    sign.props["documents"] = "register_page|deed"
    assert [p.element for p in lint(proc.to_xml(), [], roles).problems if p.rule == "step.documents"] == ["sign"]
    sign.props.update(signed="false", documents="register_page")
    found = [p for p in lint(proc.to_xml(), [], roles).problems if p.rule == "step.documents"]
    assert [p.element for p in found] == ["sign"] and "signed" in found[0].message
