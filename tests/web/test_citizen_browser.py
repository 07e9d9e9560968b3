"""The citizen on a phone (390 px), in a real browser, without signing in: looks a dossier up with the wrong
and the right digits (the same refusal for a wrong code), reads the papers asked for, and after the
hand-back rates the service; the rating then shows in the KPI."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine.store import WorkItemRow
from tests.api.test_lookup import run_to
from tests.web.conftest import PHONE, Pages, Site, submit

pytestmark = pytest.mark.xdist_group("browser")


def lookup(page: Any, site: Site, code: str, digits: str) -> str:
    page.goto(site.url("/tra-cuu"))
    page.fill("#l-code", code)
    page.fill("#l-digits", digits)
    submit(page, "form.filters button[type=submit]")
    return page.locator("main").inner_text()


def test_a_citizen_looks_up_and_rates_on_a_phone(site: Site, pages: Pages) -> None:
    lf = site.lf
    officers = lf.directory.get().officers
    st = lf.runtime.open(officers["desk.haichau"], "land_transfer", "20242",
                         {"name": "Đỗ Thị Mai", "id_number": "048190005678", "phone": "0905111222"},
                         {"sheet": "8", "number": "44"})
    run_to(lf, st.id, "receive")
    with lf.db.read() as s:
        item = s.scalar(select(WorkItemRow).where(WorkItemRow.dossier_id == st.id, WorkItemRow.state == "ready"))
    asked = "Hợp đồng tặng cho có công chứng"
    lf.runtime.request_supplement(officers["branch.haichau"], item.id, asked)

    page = pages.context(PHONE).new_page()
    lookup(page, site, st.code, "0000")
    wrong_digits = page.locator("#not-found").inner_text()
    lookup(page, site, st.code[:-1] + ("1" if st.code[-1] != "1" else "2"), "5678")
    wrong_code = page.locator("#not-found").inner_text()
    assert "Không tìm thấy hồ sơ" in wrong_digits and wrong_digits == wrong_code  # nothing tells which was wrong
    assert page.locator("#status").count() == 0
    said = lookup(page, site, st.code, "5678")
    assert "Chờ ông/bà bổ sung hồ sơ" in said and asked in said
    for private in ("048190005678", "0905111222", "Đỗ Thị Mai", officers["branch.haichau"].name):
        assert private not in said
    wide = page.evaluate("""() => [...document.querySelectorAll('main *')]
        .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
        .map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)""")
    assert wide == [], wide  # nothing in the page's content runs past a phone's width

    lf.runtime.receive_supplement(officers["desk.haichau"], st.id, "đã nhận")
    run_to(lf, st.id, "return_result")
    said = lookup(page, site, st.code, "5678")
    assert "Đã trả kết quả" in said
    page.locator("#rt-very_satisfied").check()
    submit(page, "#rating-form button[type=submit]")
    assert "ý kiến đánh giá đã được ghi nhận" in page.locator("main").inner_text()
    assert page.locator("#rating-form").count() == 0  # once

    auditor = pages.signed_in("auditor")
    auditor.goto(site.url("/audit/kpi"))
    row = auditor.locator("table[data-table=kpi-satisfaction] tr", has_text="Hải Châu")
    cells = row.locator("td").all_inner_texts()
    assert cells and int(cells[2]) >= 1 and int(cells[3]) >= 1, cells  # rated, very satisfied


def test_a_citizen_proves_a_receipt_genuine_on_a_phone(site: Site, pages: Pages, tmp_path: Any) -> None:
    """From the lookup page (where the receipt's QR leads) to the proof of the receipt, and the PDF itself
    uploaded: "genuine", at 390 px, in Vietnamese."""
    from api.slips import qr_address, render_pdf
    from engine.checkpoints import create_checkpoint, ensure_key
    from engine.papers.documents import record_slip
    from engine.papers.slips import build_slip
    from engine.signatures import read_private_key

    lf = site.lf
    officers = lf.directory.get().officers
    st = lf.runtime.open(officers["desk.haichau"], "land_transfer", "20242",
                         {"name": "Lê Văn Bình", "id_number": "048190004321", "phone": "0905333444"},
                         {"sheet": "9", "number": "12"})
    with lf.db.read() as s:  # the receipt as the desk issues it (api/resources/slips.py)
        slip = build_slip(s, lf.procedures, lf.directory.get(), lf.calendar, st.id, "receipt", 1)
    pdf = render_pdf(slip, qr_address(lf.settings, st.code), lf.calendar.tz)
    record_slip(lf.runtime, officers["desk.haichau"], st.id, "receipt", slip.as_of, slip.number, pdf, lf.blobs)
    ensure_key(lf.settings.checkpoint_key)
    create_checkpoint(lf.db, read_private_key(lf.settings.checkpoint_key), lf.clock.now())
    (tmp_path / "receipt.pdf").write_bytes(pdf)

    # `landflow verify-slip` fetching the proof from the running server, with only the published key
    from click.testing import CliRunner

    from api.cli import main
    from engine.checkpoints import public_path
    fetched = CliRunner().invoke(main, ["verify-slip", str(tmp_path / "receipt.pdf"), "--url", site.base,
                                        "--key", str(public_path(lf.settings.checkpoint_key))])
    assert fetched.exit_code == 0 and "GENUINE" in fetched.output, fetched.output
    forged_bytes = bytearray(pdf)
    forged_bytes[len(pdf) // 3] ^= 0x20  # one byte changed
    (tmp_path / "forged.pdf").write_bytes(bytes(forged_bytes))
    forged = CliRunner().invoke(main, ["verify-slip", str(tmp_path / "forged.pdf"), "--url", site.base,
                                       "--key", str(public_path(lf.settings.checkpoint_key))])
    assert forged.exit_code != 0 and "NOT GENUINE" in forged.output

    page = pages.context(PHONE).new_page()
    lookup(page, site, st.code, "4321")
    submit(page, page.locator("#papers a").first)
    said = page.locator("main").inner_text()
    assert "Giấy tờ này là thật" in said and "Giấy tiếp nhận hồ sơ và hẹn trả kết quả" in said
    for private in ("048190004321", "0905333444", "Lê Văn Bình", officers["desk.haichau"].name):
        assert private not in said
    wide = page.evaluate("""() => [...document.querySelectorAll('main *')]
        .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
        .map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)""")
    assert wide == [], wide
    page.goto(site.url("/xac-thuc"))
    page.set_input_files("#p-file", str(tmp_path / "receipt.pdf"))
    submit(page, "form[enctype] button[type=submit]")
    assert page.locator("#verdict").get_attribute("data-verdict") == "genuine"
