"""The supervisor's migration pages, in Vietnamese: the dry run with its step mapping and CSV, the run
a batch per request with its progress bar; an officer is refused (and recorded). A Playwright run
of the same in the real browser."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.serving import make_server

from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.history import verify
from engine.store import AuditEntryRow, DossierRow, WorkItemRow
from tests.support import versions
from tests.web.conftest import Pages, Site, sign_in_page, submit

KEY = versions.KEY
OWNERS = {"receive": "desk.haichau", "check": "land.haichau", "survey": "land.haichau"}


def dossiers_at(lf: Landflow, steps: list[str]) -> list[int]:
    officers = lf.directory.get().officers
    out = []
    for step in steps:
        st = lf.runtime.open(officers["desk.haichau"], KEY, "20242", {"name": "Lê Thị C"}, {}, {})
        while True:
            with lf.db.read() as s:
                item = s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == st.id,
                                                           WorkItemRow.state == "ready")).one()
            if item.step == step:
                break
            lf.runtime.complete(officers[OWNERS[item.step]], item.id, {})
        out.append(st.id)
    return out


def two_versions(lf: Landflow, steps: list[str]) -> list[int]:
    sup = lf.directory.get().officers["supervisor"]
    lf.runtime.deploy(sup, versions.version1().to_xml())
    ids = dossiers_at(lf, steps)
    lf.runtime.deploy(sup, versions.version2().to_xml())
    return ids


def test_the_plan_page_maps_downloads_and_runs_in_batches(client: FlaskClient, demo_lf: Landflow) -> None:
    at_check, at_survey = two_versions(demo_lf, ["check", "survey"])
    token = sign_in_page(client, "desk.haichau")
    resp = client.get(f"/procedures/{KEY}/migrate?from=1&to=2")
    assert resp.status_code == 403
    client.post("/logout", data={"csrf_token": token})
    with demo_lf.db.read() as s:
        refused = [json.loads(a.payload) for a in s.scalars(select(AuditEntryRow).where(
            AuditEntryRow.type == "action_refused"))]
    assert ("migration_plan", "wrong_role") in {(r["action"], r["code"]) for r in refused}

    token = sign_in_page(client, "supervisor")
    assert "Chuyển hồ sơ đang xử lý sang phiên bản mới" in client.get(f"/procedures/{KEY}").get_data(as_text=True)
    page = client.get(f"/procedures/{KEY}/migrate").get_data(as_text=True)
    assert "Chuyển hồ sơ đang xử lý sang phiên bản mới" in page
    assert "Bước “Đo đạc thực địa” (survey) không còn trong phiên bản mới" in page
    assert "Chuyển được ngay: <strong>1</strong>" in page and "Cần chỉ định bước tương ứng: <strong>1</strong>" in page
    csv = client.get(f"/procedures/{KEY}/migrate?from=1&to=2&format=csv&map_survey=inspect")
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).splitlines()
    assert lines[0].startswith("dossier_id,code,status") and len(lines) == 3
    assert all(",moves," in line for line in lines[1:])

    page = client.get(f"/procedures/{KEY}/migrate?from=1&to=2&map_survey=inspect").get_data(as_text=True)
    seen = re.search(r'name="seen" value="([^"]*)"', page)
    assert seen is not None and "Chuyển 2 hồ sơ chuyển được" in page
    resp = client.post(f"/procedures/{KEY}/migrate", data={"csrf_token": token, "from": "1", "to": "2",
                                                           "deadlines": "keep", "map_survey": "inspect",
                                                           "seen": seen.group(1)})
    assert resp.status_code == 303
    run_url = resp.headers["Location"]
    page = client.get(run_url).get_data(as_text=True)
    assert '<progress id="progress" max="2" value="0">' in page and "Chạy lô tiếp theo" in page
    batch = run_url + "/batch"
    assert client.post(batch, data={"csrf_token": token, "size": "1"}).status_code == 303
    page = client.get(run_url).get_data(as_text=True)
    assert '<progress id="progress" max="2" value="1">' in page and "Đã xử lý 1/2 (50%)" in page
    client.post(batch, data={"csrf_token": token, "size": "1"})
    page = client.get(run_url).get_data(as_text=True)
    assert "Đã chuyển phiên bản xong" in page and "2 hồ sơ được chuyển, 0 hồ sơ bị bỏ qua" in page
    timeline = client.get(f"/audit/dossiers/{at_survey}").get_data(as_text=True)
    assert "Chuyển sang phiên bản mới của thủ tục" in timeline  # the event, worded in Vietnamese
    with demo_lf.db.read() as s:
        assert verify(s, demo_lf.procedures, at_check).ok and verify(s, demo_lf.procedures, at_survey).ok


@pytest.fixture
def own_site(app: Flask, demo_lf: Landflow, demo_clock: FixedClock) -> Iterator[Site]:
    """A server of this test's own database: the session's shared site keeps its procedures as they are."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(f"http://127.0.0.1:{server.server_port}", demo_lf, demo_clock)
    server.shutdown()
    server.server_close()


def test_a_supervisor_plans_and_migrates_in_the_browser(own_site: Site, browser: Any) -> None:
    site = own_site
    ids = two_versions(site.lf, ["receive", "check", "survey"])
    pages = Pages(site, browser)
    try:
        browse(pages, site, ids)
    finally:
        pages.close()
    assert site.outside == [], f"the page asked for something outside landflow: {site.outside[:5]}"


def browse(pages: Pages, site: Site, ids: list[int]) -> None:
    with site.lf.db.read() as s:
        row = s.get(DossierRow, ids[2])
        assert row is not None
        survey_code = row.code
    page = pages.signed_in("supervisor")
    page.goto(site.url(f"/procedures/{KEY}/migrate"))
    assert "Chuyển được ngay: 2" in page.inner_text("#plan-counts")
    assert "Cần chỉ định bước tương ứng: 1" in page.inner_text("#plan-counts")
    assert page.locator("tr.plan-needs_mapping").count() == 1
    # first without a mapping: the two that can move do, the one on the removed step is reported
    submit(page, "#start-migration")
    assert page.get_attribute("#progress", "value") == "0"
    page.fill("#size", "1")
    submit(page, "#run-batch")
    assert page.get_attribute("#progress", "value") == "1"
    submit(page, "#run-batch")
    assert "Đã chuyển phiên bản xong" in page.inner_text("#run-finished")
    report = page.inner_text("#run-report")
    assert survey_code in report and "Cần chỉ định bước tương ứng" in report
    # then the supervisor maps the removed step, and the last one moves
    page.goto(site.url(f"/procedures/{KEY}/migrate"))
    assert "Chuyển được ngay: 0" in page.inner_text("#plan-counts")
    page.select_option("#map-survey", "inspect")
    submit(page, "#plan-form button[type=submit]")
    assert "Chuyển được ngay: 1" in page.inner_text("#plan-counts")
    with page.expect_download() as download:
        page.click("a[download]")
    assert download.value.suggested_filename == f"migration-{KEY}-v1-v2.csv"
    submit(page, "#start-migration")
    submit(page, "#run-batch")
    assert "Đã chuyển phiên bản xong" in page.inner_text("#run-finished")
    assert page.js_errors == []
    with site.lf.db.read() as s:
        for did in ids:
            assert verify(s, site.lf.procedures, did).ok
