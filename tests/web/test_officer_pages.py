"""An officer's day in a real browser: the worklist, the dossier page with its diagram, completing,
returning and transferring a step, and being told when someone else acted first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.runtime import DossierState
from engine.store import CaseEventRow, DossierRow, SignalRow, WorkItemRow
from tests.conftest import VN
from tests.web.conftest import Pages, Site, screenshot, submit

pytestmark = pytest.mark.xdist_group("browser")
APPLICANT = {"name": "Lê Thị Thu", "id_number": "048190000123"}
PARCEL = {"sheet": "12", "number": "345", "area": 120.5}


def open_dossier(site: Site, procedure: str = "land_transfer", desk: str = "desk.haichau",
                 commune: str = "20242") -> DossierState:
    officer = site.lf.directory.get().officers[desk]
    return site.lf.runtime.open(officer, procedure, commune, APPLICANT, PARCEL, {})


def open_items(site: Site, dossier_id: int) -> list[WorkItemRow]:
    with site.lf.db.read() as s:
        return list(s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == dossier_id,
                                                        WorkItemRow.state.in_(("ready", "claimed")))))


def classes(page: Any, element: str) -> set[str]:
    value = page.locator(f'svg.bpmn [data-element-id="{element}"]').first.get_attribute("class") or ""
    return set(value.split())


def flash(page: Any) -> str:
    return page.locator("p.flash").first.inner_text()


def test_officers_complete_return_and_transfer_a_dossier(site: Site, pages: Pages, tmp_path: Path) -> None:
    st = open_dossier(site)
    desk = pages.signed_in("desk.haichau")
    # the worklist: the new dossier is there, soonest deadline first, with its deadline colour
    assert desk.url.endswith("/worklist")
    row = desk.locator("table[data-table=worklist] tr", has_text=st.code)
    assert row.count() == 1
    assert "Tiếp nhận, kiểm tra hồ sơ" in row.inner_text()
    assert row.locator(".badge").inner_text() in ("Trong hạn", "Sắp đến hạn", "Quá hạn")
    screenshot(desk, "worklist", tmp_path)
    desk.fill("#f-code", st.code[-6:])
    submit(desk, "form.filters button[type=submit]")
    assert desk.locator("table[data-table=worklist] tbody tr").count() >= 1
    assert all(st.code[-6:] in code for code in desk.locator("table[data-table=worklist] tbody td:first-child")
               .all_inner_texts())

    submit(desk, f"text={st.code}")
    assert desk.locator("h1 .code").inner_text() == st.code
    assert "current" in classes(desk, "receive") and "done" not in classes(desk, "check_rights")
    assert APPLICANT["name"] in desk.locator("dl.facts").first.inner_text()
    item = open_items(site, st.id)[0]
    panel = desk.locator(f"#item-{item.id}")
    panel.locator(f"#item{item.id}-decision").select_option("accept")
    panel.locator(f"#item{item.id}-kind").select_option("transfer")
    submit(desk, panel.locator("button[value=complete]"))
    assert "Đã hoàn thành bước “Tiếp nhận, kiểm tra hồ sơ”" in flash(desk)
    assert "done" in classes(desk, "receive") and "current" in classes(desk, "check_rights")
    assert "taken" in classes(desk, "Flow_gw_receive_to_check_rights")
    assert "taken" not in classes(desk, "Flow_gw_receive_to_refused")
    [check_item] = open_items(site, st.id)
    assert (check_item.step, check_item.unit) == ("check_rights", "CN-KV01")

    # the branch sends it back to the desk, with a reason
    branch = pages.signed_in("branch.haichau")
    branch.goto(site.url(f"/dossiers/{st.id}"))
    panel = branch.locator(f"#item-{check_item.id}")
    panel.locator("summary", has_text="Trả về bước trước").click()
    panel.locator(f"#to-step-{check_item.id}").select_option("receive")
    panel.locator(f"#return-reason-{check_item.id}").fill("Thiếu hợp đồng chuyển nhượng có công chứng")
    submit(branch, panel.locator("form[action$='/return'] button[type=submit]"))
    assert flash(branch) == "Đã trả hồ sơ về bước trước."
    assert "current" in classes(branch, "receive") and "returned" in classes(branch, "check_rights")
    with site.lf.db.read() as s:
        signal = s.execute(select(SignalRow.kind, SignalRow.officer, SignalRow.reason)
                           .where(SignalRow.dossier_id == st.id)).all()
    assert ("returned", "branch.haichau", "Thiếu hợp đồng chuyển nhượng có công chứng") in signal

    # the desk receives it again, the branch transfers it to another branch
    desk.reload()
    [again] = open_items(site, st.id)
    desk.locator(f"#item{again.id}-decision").select_option("accept")
    desk.locator(f"#item{again.id}-kind").select_option("inheritance")
    submit(desk, f"#item-{again.id} button[value=complete]")
    assert "Đã hoàn thành bước" in flash(desk)
    branch.reload()
    [check_again] = open_items(site, st.id)
    assert "returned" not in classes(branch, "check_rights") and "current" in classes(branch, "check_rights")
    screenshot(branch, "dossier", tmp_path)
    panel = branch.locator(f"#item-{check_again.id}")
    panel.locator("summary", has_text="Chuyển đơn vị hoặc cán bộ khác").click()
    panel.locator(f"#target-{check_again.id}").select_option("unit:CN-KV03")
    panel.locator(f"#transfer-reason-{check_again.id}").fill("Thửa đất thuộc địa bàn chi nhánh khu vực III")
    submit(branch, panel.locator("form[action$='/transfer'] button[type=submit]"))
    assert flash(branch) == "Đã chuyển bước xử lý."
    assert "Chi nhánh Văn phòng Đăng ký đất đai khu vực III" in branch.locator("ul.others").inner_text()
    [moved] = open_items(site, st.id)
    assert (moved.unit, moved.state) == ("CN-KV03", "ready")
    with site.lf.db.read() as s:
        types = list(s.scalars(select(CaseEventRow.type).where(CaseEventRow.dossier_id == st.id)
                               .order_by(CaseEventRow.seq)))
        transfer = json.loads(s.scalars(select(CaseEventRow.payload).where(
            CaseEventRow.dossier_id == st.id, CaseEventRow.type == "transferred")).one())
    assert types == ["opened", "completed", "returned", "completed", "transferred"]
    assert (transfer["to_unit"], transfer["reason"]) == ("CN-KV03", "Thửa đất thuộc địa bàn chi nhánh khu vực III")
    # the branch's worklist no longer has it
    branch.goto(site.url("/worklist"))
    assert branch.locator("table[data-table=worklist] tr", has_text=st.code).count() == 0
    assert desk.js_errors == [] and branch.js_errors == []


def test_someone_else_acted_first(site: Site, pages: Pages) -> None:
    st = open_dossier(site)
    [item] = open_items(site, st.id)
    first = pages.signed_in("desk.haichau")
    second = first.context.new_page()
    first.goto(site.url(f"/dossiers/{st.id}"))
    second.goto(site.url(f"/dossiers/{st.id}"))
    submit(first, f"#item-{item.id} form[action$='/claim'] button")
    assert "Anh/chị đã nhận xử lý bước" in flash(first)
    # the second tab still shows the dossier as it was: its form carries the old version
    second.locator(f"#item{item.id}-decision").select_option("accept")
    second.locator(f"#item{item.id}-kind").select_option("donation")
    with second.expect_response(lambda r: r.request.method == "POST") as posted:
        second.locator(f"#item-{item.id} button[value=complete]").click()
    assert posted.value.status == 412
    assert second.locator("#refusal").inner_text().strip().startswith(
        "Hồ sơ đã được người khác xử lý trước, vui lòng tải lại")
    # what was typed is kept, and the page now shows the dossier as it stands
    assert second.locator(f"#item{item.id}-kind").input_value() == "donation"
    assert "anh/chị đang xử lý" in second.locator(f"#item-{item.id}").inner_text()
    [still] = open_items(site, st.id)
    assert (still.state, still.assignee) == ("claimed", "desk.haichau")
    with site.lf.db.read() as s:
        refused = [json.loads(p) for p in s.scalars(select(CaseEventRow.payload).where(
            CaseEventRow.dossier_id == st.id, CaseEventRow.type == "action_refused"))]
    assert [(r["action"], r["code"]) for r in refused] == [("complete", "stale_version")]


def test_worklist_deadline_colours_follow_working_time(site: Site, pages: Pages) -> None:
    """Each row's colour and date, against the item's due time read here from the database: overdue
    when past, due soon when less than one working day (LANDFLOW_DUE_SOON) is left, else on time.
    Three dossiers reach the branch's `check_rights` (P2D) three, one and a half, and zero working days ago."""
    desk = site.lf.directory.get().officers["desk.haichau"]
    now = site.clock.now()
    try:
        for back in ("P3D", "P1DT4H", "PT0M"):
            site.clock.set(site.lf.calendar.subtract(now, back))
            st = open_dossier(site)
            [item] = open_items(site, st.id)
            site.lf.runtime.complete(desk, item.id, {"decision": "accept", "kind": "transfer"})
    finally:
        site.clock.set(now)
    page = pages.signed_in("branch.haichau")
    rows = page.locator("table[data-table=worklist] tbody tr")
    assert rows.count() > 0
    with site.lf.db.read() as s:
        due = dict(s.execute(select(DossierRow.code, WorkItemRow.due_at)
                             .join(WorkItemRow, WorkItemRow.dossier_id == DossierRow.id)
                             .where(WorkItemRow.state.in_(("ready", "claimed")), WorkItemRow.unit == "CN-KV01")).all())
    soon = site.lf.calendar.add(now, "P1D")
    seen = set()
    for i in range(rows.count()):
        row = rows.nth(i)
        code = row.locator("td").first.inner_text()
        when = due[code]
        expected = "Quá hạn" if when <= now else "Sắp đến hạn" if when <= soon else "Trong hạn"
        assert row.locator(".badge").inner_text() == expected, code
        assert when.astimezone(VN).strftime("%d/%m/%Y %H:%M") in row.inner_text()
        seen.add(expected)
    assert seen == {"Quá hạn", "Sắp đến hạn", "Trong hạn"}
