"""Signed PDF results: a decision signed with a certificate produces the decision record, sealed PAdES
with the office's certificate and chain; the slips are sealed the same way; both validate with pyHanko's
validator against the trust roots, and fail after one changed byte."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from pypdf import PdfReader

from api.cli import main
from config.settings import Settings
from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.pdfsign import verify_pdf
from engine.signatures import register_key
from tests.api.test_land_transfer_flow import item_at
from tests.support.decisions import records_issued
from tests.support.pki import Issued, Pki, sign_bytes


@pytest.fixture
def pki(demo_settings: Settings, demo_clock: FixedClock) -> Pki:
    p = Pki(demo_clock.now() - timedelta(days=100))
    p.write_roots(demo_settings.trust_roots)
    seal = p.officer("Văn phòng Đăng ký đất đai thành phố Đà Nẵng")
    demo_settings.seal_cert.parent.mkdir(parents=True, exist_ok=True)
    demo_settings.seal_cert.write_text(p.bundle(seal))
    demo_settings.seal_key.write_bytes(seal.key_pem())
    return p


def walk_to_update_register(sign_in: Any, clock: FixedClock,
                            parcel: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    desk, branch, tax = (sign_in(u) for u in ("desk.haichau", "branch.haichau", "tax.haichau"))
    current = desk.post("/api/v1/dossiers", json={"procedure": "land_transfer", "commune": "20242",
                                                  "applicant": {"name": "Lê Văn Tám"}, "parcel": parcel or {}}).json
    for who, step, data in ((desk, "receive", {"decision": "accept", "kind": "transfer"}),
                            (branch, "check_rights", {"eligible": True}), (branch, "send_form19", {}),
                            (tax, "tax_assess", {"obligation_amount": 12.5, "notice_no": "TB-01"}),
                            (tax, "tax_payment", {"payment_date": "2026-03-02"})):
        clock.advance(minutes=30)
        resp = who.post(f"/api/v1/work-items/{item_at(current, step)['id']}/complete", json={"data": data})
        assert resp.status_code == 200, resp.json
        current = resp.json
    return branch, current, item_at(current, "update_register")


def sign_with(who: Issued, client: Any, item: dict[str, Any]) -> dict[str, str]:
    doc = client.post(f"/api/v1/work-items/{item['id']}/decision", json={"data": {}}).json
    signed = doc["document"].encode("utf-8")
    return {"signed_at": doc["signed_at"], "value": base64.b64encode(sign_bytes(who.key, signed)).decode()}


def test_a_certificate_signed_decision_gives_a_sealed_pades_record(sign_in: Any, app: Flask, demo_lf: Landflow,
                                                                    pki: Pki, demo_clock: FixedClock,
                                                                    demo_settings: Settings, tmp_path: Path) -> None:
    officer_cert = pki.officer("Nguyễn Văn A - Chi nhánh VPĐKĐĐ khu vực 1")
    with demo_lf.db.write() as s:
        register_key(s, "branch.haichau", pki.bundle(officer_cert), "admin", demo_clock.now())
    demo_lf.directory.refresh()
    branch, current, item = walk_to_update_register(sign_in, demo_clock)
    resp = branch.post(f"/api/v1/work-items/{item['id']}/complete",
                       json={"data": {}, "signature": sign_with(officer_cert, branch, item)})
    assert resp.status_code == 200, resp.json
    records_issued(app)
    did = current["id"]
    slips = branch.get(f"/api/v1/dossiers/{did}/slips").json
    decision = [x for x in slips if x["slip"] == "decision"]
    assert len(decision) == 1 and decision[0]["actor"] == "system"
    pdf = branch.get(f"/api/v1/dossiers/{did}/decisions/{decision[0]['as_of']}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    data = pdf.data
    check = verify_pdf(data, demo_settings.trust_roots)
    assert check.ok, check.problems
    assert "Văn phòng Đăng ký đất đai" in str(check.signatures[0]["signer"])
    assert check.signatures[0]["trusted"] and check.signatures[0]["coverage"] == "ENTIRE_FILE"
    # the record states the officer's certificate in words (the PDF text holds its serial number)
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages)
    assert format(officer_cert.cert.serial_number, "X")[:12] in text.replace("\n", "")
    assert current["code"] in text
    at = data.index(b"/MediaBox") + 12
    tampered = data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]
    assert not verify_pdf(tampered, demo_settings.trust_roots).ok
    # `landflow verify-pdf` says the same, with its exit status
    good, bad = tmp_path / "decision.pdf", tmp_path / "tampered.pdf"
    good.write_bytes(data)
    bad.write_bytes(tampered)
    roots = str(demo_settings.trust_roots)
    ok = CliRunner().invoke(main, ["verify-pdf", str(good), "--roots", roots, "--json"])
    assert ok.exit_code == 0 and json.loads(ok.output)["ok"] is True, ok.output
    failed = CliRunner().invoke(main, ["verify-pdf", str(bad), "--roots", roots])
    assert failed.exit_code == 1 and "NOT VALID" in failed.output


def test_slips_are_sealed_once_and_printed_again_as_issued(sign_in: Any, demo_lf: Landflow, pki: Pki,
                                                           demo_settings: Settings) -> None:
    desk = sign_in("desk.haichau")
    did = desk.post("/api/v1/dossiers", json={"procedure": "land_transfer", "commune": "20242",
                                              "applicant": {"name": "Lê Văn Tám"}}).json["id"]
    issued = desk.post(f"/api/v1/dossiers/{did}/slips/receipt")
    assert issued.status_code == 200
    assert verify_pdf(issued.data, demo_settings.trust_roots).ok
    again = desk.post(f"/api/v1/dossiers/{did}/slips/receipt")
    assert again.data == issued.data == desk.get(f"/api/v1/dossiers/{did}/slips/receipt").data
    assert [x["slip"] for x in desk.get(f"/api/v1/dossiers/{did}/slips").json] == ["receipt"]
    assert demo_settings.trust_roots.is_dir() and (demo_settings.trust_roots / "root.pem").exists()
