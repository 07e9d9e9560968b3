"""The supervisor's what-if page: in Chromium with its charts, and its refusals through the test client."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from config.settings import ROOT
from engine.bootstrap import Landflow
from engine.store import AuditEntryRow
from tests.web.conftest import Pages, Site, screenshot, sign_in_page, submit

LAND_TRANSFER = ROOT / "workflows" / "land" / "land_transfer.bpmn"


@pytest.mark.xdist_group("browser")
def test_supervisor_reads_the_what_if_of_a_checked_file(site: Site, pages: Pages, tmp_path: Path) -> None:
    page = pages.signed_in("supervisor")
    page.goto(site.url("/procedures/land_transfer"))
    submit(page, "a:has-text('Dự báo trước khi triển khai')")
    assert page.locator("h1").inner_text().startswith("Dự báo trước khi triển khai")
    candidate = tmp_path / "land_transfer.bpmn"
    candidate.write_bytes(LAND_TRANSFER.read_bytes())
    page.set_input_files("#bpmn", str(candidate))
    page.fill("#months", "3")
    submit(page, "#whatif-form button[type=submit]")
    summary = page.locator("#whatif-summary")
    assert "Tỷ lệ đúng hạn dự báo" in summary.inner_text()
    rate = page.locator("[data-rate=candidate]").inner_text()
    assert rate.endswith("%") and "," in rate  # Vietnamese decimals: 92,0%
    charts = page.locator(".charts svg.chart")
    assert charts.count() == 4
    assert page.locator("svg.chart title").first.text_content() == "Tỷ lệ đúng hạn dự báo"
    assert page.locator("svg[aria-labelledby^=w-rates] g.bar").count() == 2
    assert page.locator("svg[aria-labelledby^=w-load-b] rect.seg").count() > 0
    assert "tuần" in page.locator("svg[aria-labelledby^=w-load-a]").inner_html()
    assert "Cách dự báo" in page.content()
    assert page.locator("#months").input_value() == "3"
    screenshot(page, "whatif", tmp_path)

    # from the check page: the file just checked, without choosing it again
    page.goto(site.url("/procedures/check"))
    page.set_input_files("#bpmn", str(candidate))
    submit(page, "button[value=check]")
    submit(page, "#whatif-from-check button")
    assert page.locator(".charts svg.chart").count() == 4
    assert page.locator("#whatif-period").inner_text().startswith("Hồ sơ tiếp nhận từ ")
    assert page.js_errors == []


def test_only_supervisors_run_a_what_if_and_refusals_are_recorded(client: FlaskClient, demo_lf: Landflow) -> None:
    token = sign_in_page(client, "desk.haichau")
    assert client.get("/procedures/land_transfer/whatif").status_code == 403
    refused = client.post("/procedures/land_transfer/whatif", data={
        "csrf_token": token, "months": "6", "seed": "1",
        "bpmn": (io.BytesIO(LAND_TRANSFER.read_bytes()), "land_transfer.bpmn")}, content_type="multipart/form-data")
    assert refused.status_code == 403
    with demo_lf.db.read() as s:
        last = s.scalars(select(AuditEntryRow).where(AuditEntryRow.type == "action_refused")
                         .order_by(AuditEntryRow.seq.desc()).limit(1)).one()
    assert last.actor == "desk.haichau" and json.loads(last.payload)["code"] == "wrong_role"


def test_a_bad_request_is_said_in_vietnamese(client: FlaskClient, demo_lf: Landflow) -> None:
    token = sign_in_page(client, "supervisor")
    assert client.get("/procedures/nothing_here/whatif").status_code == 404
    no_file = client.post("/procedures/land_transfer/whatif", data={"csrf_token": token, "months": "99"},
                          content_type="multipart/form-data")
    assert no_file.status_code == 422 and "Hãy chọn tệp BPMN" in no_file.get_data(as_text=True)
    other = client.post("/procedures/land_transfer/whatif", data={
        "csrf_token": token, "months": "6", "seed": "1",
        "bpmn": (io.BytesIO((ROOT / "workflows" / "land" / "mortgage_registration.bpmn").read_bytes()), "m.bpmn")},
        content_type="multipart/form-data")
    assert other.status_code == 422 and "Tệp là một thủ tục khác" in other.get_data(as_text=True)
