"""The one-stop desk's whole day in a real browser: receive a land_transfer dossier on the reception page
(commune typed without marks, papers ticked, a PDF and a JPEG scanned in), print the receipt and read it
back (text and QR), run the dossier to its result, hand it back to the person who collects it, and print
the process-control slip with every hand-over."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from api.slips import qr_address
from engine.papers.documents import documents
from engine.store import DossierRow, WorkItemRow
from tests.reliability.land import STEP_DATA
from tests.support.files import jpeg, pdf
from tests.web.conftest import Pages, Site, screenshot, submit

pytestmark = pytest.mark.xdist_group("browser")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages).split())


def qr_of(data: bytes, tmp_path: Path) -> list[str]:
    src = tmp_path / "slip.pdf"
    src.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "200", "-f", "1", "-l", "1", str(src), str(tmp_path / "page")],
                   check=True)
    (png,) = tmp_path.glob("page*.png")
    return [r.text for r in zxingcpp.read_barcodes(Image.open(png))]


def slip_pngs(data: bytes, name: str, tmp_path: Path) -> None:
    """docs/screenshots/slip-<name>.png, like the page screenshots (written when missing or asked for)."""
    import os

    target = SHOTS / f"slip-{name}.png"
    if target.exists() and os.environ.get("LANDFLOW_WRITE_SCREENSHOTS") != "1":
        return
    src = tmp_path / f"{name}.pdf"
    src.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", str(src),
                    str(SHOTS / f"slip-{name}")], check=True)


def csrf(page: Any) -> str:
    return page.locator("input[name=csrf_token]").first.get_attribute("value")


def issue(page: Any, site: Site, dossier_id: int, kind: str) -> bytes:
    resp = page.request.post(site.url(f"/dossiers/{dossier_id}/slips/{kind}"), form={"csrf_token": csrf(page)})
    assert resp.status == 200, resp.text()[:300]
    assert resp.headers["content-type"] == "application/pdf"
    return resp.body()


def open_item(site: Site, dossier_id: int) -> WorkItemRow:
    with site.lf.db.read() as s:
        (item,) = s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == dossier_id,
                                                      WorkItemRow.state.in_(("ready", "claimed"))))
    return item


def test_the_desk_receives_prints_and_hands_back(site: Site, pages: Pages, tmp_path: Path) -> None:
    desk = pages.signed_in("desk.haichau")
    submit(desk, "nav >> text=Tiếp nhận hồ sơ")
    desk.locator("#r-procedure").select_option("land_transfer")
    desk.fill("#r-commune", "hai chau")
    submit(desk, "form.filters button[type=submit]")
    # the commune typed without marks is found and chosen
    assert desk.locator("#c-20242").is_checked()
    desk.fill("#a-name", "Phạm Văn Đức")
    desk.locator("#a-kind").select_option("cccd")
    desk.fill("#a-id", "048090007777")
    desk.fill("#a-phone", "0905 777 888")
    desk.fill("#p-sheet", "21")
    desk.fill("#p-number", "102")
    desk.locator("#ch-in_person").check()
    for code in ("don_mau_18", "giay_chung_nhan", "hop_dong_chuyen_quyen"):
        desk.locator(f"#pp-{code}").check()
    desk.locator("select[name=form_hop_dong_chuyen_quyen]").select_option("certified_copy")
    desk.locator("input[name=file_don_mau_18]").set_input_files(
        files=[{"name": "don-mau-18.pdf", "mimeType": "application/pdf", "buffer": pdf("Don 18")}])
    desk.locator("input[name=file_giay_chung_nhan]").set_input_files(
        files=[{"name": "gcn.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
    desk.locator("#rs-decision").select_option("accept")
    desk.locator("#rs-kind").select_option("transfer")
    screenshot(desk, "reception", tmp_path)
    submit(desk, "#reception-form button[type=submit]")
    code = desk.locator("h1 .code").inner_text()
    assert re.fullmatch(r"[\w.]+-\d{6}-\d{4}", code)
    with site.lf.db.read() as s:
        dossier = s.scalar(select(DossierRow).where(DossierRow.code == code))
        assert dossier is not None
        docs = documents(s, dossier.id)
    assert [(d.paper, d.media_type) for d in docs] == [("don_mau_18", "application/pdf"),
                                                       ("giay_chung_nhan", "image/jpeg")]
    assert desk.locator("#papers li").count() == 2
    assert open_item(site, dossier.id).step == "check_rights"  # the reception step was completed on submit

    receipt = issue(desk, site, dossier.id, "receipt")
    text = pdf_text(receipt)
    due = dossier.due_at.astimezone(site.lf.calendar.tz)
    assert code in text and "Phạm Văn Đức" in text
    assert "Đơn đăng ký biến động đất đai" in text and "Giấy chứng nhận đã cấp" in text
    assert "bản sao có chứng thực" in text
    assert f"ngày {due:%d/%m/%Y}" in text
    # the QR leads to the lookup page of this dossier with its receipt token (no typing needed)
    assert qr_of(receipt, tmp_path) == [qr_address(site.lf.settings, code)]
    assert qr_of(receipt, tmp_path)[0].startswith(f"{site.lf.settings.public_url}/tra-cuu?ma={code}&t=")
    assert issue(desk, site, dossier.id, "receipt") == receipt  # printed again: the same bytes
    slip_pngs(receipt, "receipt", tmp_path)

    # the branch and the tax office do their steps; the branch signs its decision on its page
    rt, officers = site.lf.runtime, site.lf.directory.get().officers
    for step, who in (("check_rights", "branch.haichau"), ("send_form19", "branch.haichau"),
                      ("tax_assess", "tax.haichau"), ("tax_payment", "tax.haichau")):
        item = open_item(site, dossier.id)
        assert item.step == step
        rt.complete(officers[who], item.id, STEP_DATA[step])
    branch = pages.signed_in("branch.haichau")
    branch.goto(site.url(f"/dossiers/{dossier.id}"))
    item = open_item(site, dossier.id)
    resp = branch.request.post(site.url(f"/dossiers/{dossier.id}/items/{item.id}/complete"),
                               multipart={"csrf_token": csrf(branch), "sign_with": "demo"})
    assert resp.ok, resp.text()[:300]

    # the desk hands the result back and writes who collected it
    desk.goto(site.url("/worklist"))
    assert desk.locator("table[data-table=awaiting-collection]", has_text=code).count() == 1
    submit(desk, f"table[data-table=awaiting-collection] >> text={code}")
    assert desk.locator(".badge.status-collection").count() == 1
    item = open_item(site, dossier.id)
    assert item.step == "return_result"
    desk.fill(f"#item{item.id}-collected_by", "Phạm Văn Đức")
    desk.fill(f"#item{item.id}-collector_id_number", "048090007777")
    submit(desk, f"#item-{item.id} button[value=complete]")
    with site.lf.db.read() as s:
        assert s.scalar(select(DossierRow.status).where(DossierRow.id == dossier.id)) == "done"

    control = issue(desk, site, dossier.id, "control")
    text = pdf_text(control)
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in text
    for unit in ("Chi nhánh Văn phòng Đăng ký đất đai", "Người nộp hồ sơ"):
        assert unit in text
    with site.lf.db.read() as s:
        done = s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == dossier.id,
                                                   WorkItemRow.state == "done").order_by(WorkItemRow.ordinal)).all()
    assert len(done) == 7
    for item in done:  # every hand-over's time is on the slip
        local: datetime = item.done_at.astimezone(site.lf.calendar.tz)
        assert f"{local:%H} giờ {local:%M} phút, ngày {local:%d/%m/%Y}" in text
    slip_pngs(control, "control", tmp_path)
