"""A supervisor's whole redesign of land_transfer, in the browser, on pages only (issue 17's first
"done when"): the modeler, a draft, the what-if, the check page's diff, a deploy with an effective date,
the migration of the running dossiers, and `verify` of every dossier moved.

The redesign: the branch's check of the land's current use ("Thẩm tra hiện trạng…") is added after the
eligibility gateway, dragged from the palette onto the flow in the branch's lane, and takes over the
branch's "send form 19" step, which is deleted. With only the new step the running clocks add to 9 working
days against the statutory 8: the check marks that on the diagram, and deleting the step it replaces
(and joining the new step to the tax office's) brings it to 8. A dossier sitting on the deleted step is
reported by the migration, not moved; the others move and verify.

Its own server and database (a simulated history of 40 dossiers, so the what-if has data, and four
dossiers received at known steps): deploying here must not change the shared site's versions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from api.cli.setup import initialise
from api.simulation import Simulation, working_start
from config.settings import Settings
from engine.bootstrap import Landflow, build
from engine.clock import FixedClock
from engine.history import verify
from engine.store import AuditEntryRow, CaseEventRow, DossierRow, ProcedureVersionRow, WorkItemRow
from tests.web.conftest import NOW, Pages, Site, screenshot, serving, submit
from tests.web.test_modeler_browser import set_field

pytestmark = pytest.mark.xdist_group("browser")
KEY = "land_transfer"
OWNER = {"receive": "desk.haichau", "check_rights": "branch.haichau", "send_form19": "branch.haichau"}
DATA: dict[str, dict[str, Any]] = {"receive": {"decision": "accept", "kind": "transfer"},
                                   "check_rights": {"eligible": True}, "send_form19": {}}
NEW_NAME = "Thẩm tra hiện trạng, gửi phiếu chuyển thông tin đến cơ quan thuế"
EFFECTIVE = date(2026, 3, 10)  # a week after NOW (Tuesday 03/03/2026): the decree's day


@pytest.fixture(scope="module")
def walk_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("walk-site")
    settings = Settings.from_env({}, database_url=f"sqlite:///{root / 'landflow.db'}", var_dir=root, demo=True,
                                 secret_key="test-secret-key-for-the-redesign-walk")
    setup = build(settings)
    initialise(setup, say=lambda _msg: None)
    setup.close()
    start = working_start(setup, NOW.date(), 25)
    history_clock = FixedClock(datetime.combine(start, time(0), NOW.tzinfo))
    history = build(settings, clock=history_clock)
    Simulation(history, history_clock, 2025, NOW, 25).run(40)
    history.close()
    clock = FixedClock(NOW)
    lf = build(settings, clock=clock)
    yield from serving(lf, clock)


def received_at(lf: Landflow, step: str) -> int:
    """A land_transfer dossier received now and worked, through the engine, up to `step` (ready there)."""
    officers = lf.directory.get().officers
    st = lf.runtime.open(officers["desk.haichau"], KEY, "20242", {"name": "Trần Văn Minh"},
                         {"sheet": "12", "number": "45", "area": 120}, {})
    while True:
        with lf.db.read() as s:
            item = s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == st.id,
                                                       WorkItemRow.state == "ready")).one()
        if item.step == step:
            return st.id
        lf.runtime.complete(officers[OWNER[item.step]], item.id, DATA[item.step])


def on_screen(page: Any, x: float, y: float) -> tuple[float, float]:
    """A diagram point (bpmn-js's coordinates) as a point of the browser's viewport."""
    box = page.locator("#canvas").bounding_box()
    vb = page.evaluate("() => window.landflowModeler.get('canvas').viewbox()")
    return box["x"] + (x - vb["x"]) * vb["scale"], box["y"] + (y - vb["y"]) * vb["scale"]


def centre(page: Any, element: str, low: float = 0.5) -> tuple[float, float]:
    """A point of the element on screen: its centre, or lower (`low` of its height) where a flow's label
    drawn over its top would take the click."""
    shape = page.evaluate(f"""() => {{ const e = window.landflowModeler.get('elementRegistry').get('{element}');
        return [e.x + e.width / 2, e.y + e.height * {low}]; }}""")
    return on_screen(page, shape[0], shape[1])


def context_pad(page: Any, element: str, action: str) -> Any:
    """Click the element on the canvas; its context pad's entry `action` (delete, connect, …). First a click
    on the empty canvas below the pool: the pad of the element selected before may cover the one wanted."""
    box = page.locator("#canvas").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] - 40)
    x, y = centre(page, element, 0.8)
    page.mouse.click(x, y)
    entry = page.locator(f".djs-context-pad.open .entry[data-action='{action}']")
    entry.wait_for()
    return entry


def drop_on_flow(page: Any, source: str, target: str) -> str:
    """Drag the palette's step (user task) onto the flow source -> target, a little below its line (the
    flow's label sits just above it, and a label is no place to drop a step); the modeler inserts the step
    into the flow, draws its shape and reconnects. Returns the new element's id."""
    line = page.evaluate(f"""() => window.landflowModeler.get('elementRegistry')
        .filter(e => e.type === 'bpmn:SequenceFlow' && e.businessObject.sourceRef.id === '{source}'
                     && e.businessObject.targetRef.id === '{target}')[0].waypoints""")
    x, y = on_screen(page, (line[0]["x"] + line[-1]["x"]) / 2, (line[0]["y"] + line[-1]["y"]) / 2 + 4)
    entry = page.locator(".djs-palette .entry.bpmn-icon-user-task").bounding_box()
    page.mouse.move(entry["x"] + entry["width"] / 2, entry["y"] + entry["height"] / 2)
    page.mouse.down()
    page.mouse.move(x, y + 40, steps=5)
    page.mouse.move(x, y, steps=5)
    page.mouse.up()
    chosen = page.evaluate("() => window.landflowModeler.get('selection').get().map(e => [e.id, e.type])")
    assert len(chosen) == 1 and chosen[0][1] == "bpmn:UserTask", chosen
    return str(chosen[0][0])


def flows(page: Any) -> set[tuple[str, str]]:
    return {(a, b) for a, b, _w in page.evaluate("""() => window.landflowModeler.get('elementRegistry')
        .filter(e => e.type === 'bpmn:SequenceFlow')
        .map(e => [e.businessObject.sourceRef.id, e.businessObject.targetRef.id, null])""")}


def test_a_supervisor_redesigns_land_transfer_and_moves_the_running_dossiers(
        walk_site: Site, browser: Any, tmp_path: Path) -> None:
    site = walk_site
    lf = site.lf
    mine = {step: received_at(lf, step) for step in ("receive", "check_rights", "send_form19")}
    with lf.db.read() as s:
        v1 = s.scalar(select(ProcedureVersionRow.id).where(ProcedureVersionRow.key == KEY))
        running = set(s.scalars(select(DossierRow.id).where(DossierRow.procedure == KEY,
                                                            DossierRow.finished_at.is_(None))))
        stuck_code = s.get(DossierRow, mine["send_form19"]).code  # type: ignore[union-attr]
    assert set(mine.values()) <= running and len(running) > len(mine)  # the history left others running too
    pages = Pages(site, browser)
    try:
        walk(pages, site, stuck_code, len(running) - 1, tmp_path)
        # the redesign reaches a moved dossier: after "check rights", the branch's officer gets the new step
        officers = lf.directory.get().officers
        with lf.db.read() as s:
            item = s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == mine["check_rights"],
                                                       WorkItemRow.state == "ready")).one()
        lf.runtime.complete(officers["branch.haichau"], item.id, DATA["check_rights"])
        page = pages.signed_in("branch.haichau")
        page.goto(site.url(f"/dossiers/{mine['check_rights']}"))
        work = page.inner_text("main")
        assert NEW_NAME in work and "Số biên bản thẩm tra hiện trạng" in work  # the file's own label
    finally:
        pages.close()
    assert site.outside == [], f"the pages asked for something outside landflow: {site.outside[:5]}"

    with lf.db.read() as s:
        v2 = s.scalar(select(ProcedureVersionRow.id).where(ProcedureVersionRow.key == KEY,
                                                           ProcedureVersionRow.version == 2))
        deployed = s.get(ProcedureVersionRow, v2)
        assert deployed is not None and deployed.effective_from == EFFECTIVE
        new = next(x for x in json.loads(deployed.meta)["steps"] if x["id"] == "tham_tra_hien_trang")
        assert (new["name"], new["role"], new["sla"], new["clock"]) == (NEW_NAME, "registration_branch", "P2D", "run")
        assert new["form"] == [{"name": "so_bien_ban", "type": "text", "required": True, "choices": []}]
        assert 'bpmnElement="tham_tra_hien_trang"' in deployed.bpmn and 'id="send_form19"' not in deployed.bpmn
        assert s.scalars(select(AuditEntryRow.actor).where(AuditEntryRow.type == "draft_deleted")).all() == [
            "supervisor"]
        moved = set(s.scalars(select(CaseEventRow.dossier_id).where(CaseEventRow.type == "migrated")))
        assert {mine["receive"], mine["check_rights"]} <= moved and mine["send_form19"] not in moved
        for did in moved:
            row = s.get(DossierRow, did)
            assert row is not None and row.procedure_version_id == v2
            assert verify(s, lf.procedures, did).ok, f"dossier {did} does not verify after its migration"
        stuck = s.get(DossierRow, mine["send_form19"])
        assert stuck is not None and stuck.procedure_version_id == v1  # stayed on the old version
        assert s.scalars(select(WorkItemRow.step).where(WorkItemRow.dossier_id == stuck.id,
                                                        WorkItemRow.state == "ready")).one() == "send_form19"
        assert verify(s, lf.procedures, stuck.id).ok


def walk(pages: Pages, site: Site, stuck_code: str, movable: int, tmp_path: Path) -> None:
    """The supervisor's pages, step by step; `movable`: the running dossiers not on the deleted step."""
    page = pages.signed_in("supervisor")
    page.goto(site.url(f"/procedures/{KEY}"))
    submit(page, "#open-modeler")
    page.wait_for_selector("#modeler[data-ready=true]")
    page.wait_for_selector("#check-status[data-problems='0']")

    # 1. a new step dragged from the palette onto the flow "eligible" → "send form 19", in the branch's lane
    drawn = drop_on_flow(page, "gw_rights", "send_form19")
    assert page.input_value("#p-id") == drawn  # bpmn-js's own id (Activity_…) until the supervisor names it
    set_field(page, "#p-id", "gw_rights")  # taken: refused, said in Vietnamese, nothing changed
    assert "chưa dùng cho phần tử khác" in page.inner_text("#p-id-hint")
    assert page.input_value("#p-id") == drawn
    step = "tham_tra_hien_trang"
    set_field(page, "#p-id", step)
    assert page.evaluate(f"() => window.landflowModeler.get('elementRegistry').get('{step}').type") == "bpmn:UserTask"
    lane = page.evaluate(f"""() => window.landflowModeler.get('elementRegistry').filter(e => e.type === 'bpmn:Lane')
        .filter(l => (l.businessObject.flowNodeRef || []).some(n => n.id === '{step}'))
        .map(l => l.businessObject.name)""")
    assert lane == ["registration_branch"]
    owner = page.locator("#p-owner option:checked").inner_text()
    assert owner.startswith("theo làn") and "Chi nhánh" in owner, owner  # the panel: the lane owns the step
    assert {("gw_rights", step), (step, "send_form19")} <= flows(page)
    page.wait_for_selector(f"#problems li[data-element='{step}'][data-rule='step.sla']")

    # 2. its limit and form in landflow's panel
    set_field(page, "#p-name", NEW_NAME)
    set_field(page, "#p-sla", "2")
    set_field(page, "#p-legal_basis", "Nghị định 151/2025/NĐ-CP, Điều 37")
    set_field(page, "#p-result", "Biên bản thẩm tra hiện trạng; Phiếu chuyển thông tin (mẫu 19)")
    page.click("#add-field")
    set_field(page, "#p-form .form-field:last-of-type .f-name", "so_bien_ban")
    set_field(page, "#p-form .form-field:last-of-type .f-label", "Số biên bản thẩm tra hiện trạng")
    page.check("#p-form .form-field:last-of-type .f-required")

    # 3. the time budget: 0,5 + 2 + 2 (new) + 1 + 3 + 0,5 = 9 working days against 8, marked on the diagram
    budget = page.wait_for_selector("#problems li[data-rule='budget.path']")
    where = (budget.get_attribute("data-element") or "").split("/")[0]
    assert page.locator(f".djs-element.lf-problem[data-element-id='{where}']").count() == 1
    assert page.locator(f".lf-problem-badge[data-element='{where}']").count() == 1
    said = budget.inner_text()
    assert "vượt thời hạn" in said and step in said, said
    assert page.get_attribute("#check-status", "data-problems") == "1"  # the budget alone: the step is complete
    assert page.inner_text("#check-status").startswith("1 lỗi.")

    # 4. the fix: the new step takes over "send form 19", which is deleted (from its context pad); the modeler
    #    joins the flows around it, so the new step now goes on to the tax office
    context_pad(page, "send_form19", "delete").click()
    assert page.evaluate("() => window.landflowModeler.get('elementRegistry').get('send_form19')") is None
    assert (step, "tax_assess") in flows(page)  # the modeler joined the deleted step's flows
    assert not any("send_form19" in f for f in flows(page))
    page.wait_for_selector("#check-status[data-problems='0']")
    assert page.locator(".lf-problem-badge").count() == 0
    assert "Không có lỗi" in page.inner_text("#check-status")

    # 5. a draft, then what it would have done with the last three months' dossiers
    page.click("#save-draft")
    page.wait_for_selector("#to-whatif")
    assert "bản nháp" in page.inner_text("#save-status")
    submit(page, "#to-whatif")
    assert page.inner_text("#whatif-draft") == "Phương án dự báo: bản nháp của anh/chị, lần lưu 1."
    page.fill("#months", "3")
    submit(page, "#whatif-form button[type=submit]")
    summary = page.inner_text("#whatif-summary")
    assert "Tỷ lệ đúng hạn dự báo" in summary and "Phiên bản đang áp dụng (phiên bản 1)" in summary
    assert page.locator("[data-rate=candidate]").inner_text().endswith("%")
    assert page.locator(".charts svg.chart").count() == 4
    assert NEW_NAME in page.inner_text("table[data-table=whatif-steps]")  # the new step, in the prediction

    # 6. the check page: no problem, and the changes against the version in force
    submit(page, "#check-from-whatif button")
    assert "success" in (page.get_attribute("#lint-verdict", "class") or "")
    assert page.inner_text("#diff-title") == "Thay đổi so với phiên bản 1 đang áp dụng"
    added, removed = page.inner_text("table[data-table=added]"), page.inner_text("table[data-table=removed]")
    assert NEW_NAME in added and "tham_tra_hien_trang" in added
    assert "send_form19" in removed
    screenshot(page, "redesign-check", tmp_path)

    # 7. deployed to take effect on the decree's day: pending until then
    page.fill("#effective_from", EFFECTIVE.isoformat())
    submit(page, "#deploy-file")
    flash = page.inner_text("main")
    assert "10/03/2026" in flash and "phiên bản 2" in flash.lower()
    page.goto(site.url("/procedures"))
    assert "10/03/2026" in page.inner_text("section[aria-labelledby=t-pending]")
    # the draft is deployed: the supervisor deletes it, after the confirmation page
    submit(page, f"a[href='/procedures/{KEY}']")
    submit(page, "a.button:text-is('Bản nháp của tôi')")
    submit(page, "#delete-draft")
    assert "Toàn bộ 1 lần lưu của bản nháp sẽ bị xóa" in page.inner_text("#delete-warning")
    submit(page, "#confirm-delete")
    assert "Đã xóa bản nháp thủ tục land_transfer của anh/chị (1 lần lưu)" in page.inner_text("main")
    assert page.js_errors == []

    # 8. the decree's day (a week later: signed in again), the supervisor plans the migration
    site.clock.set(datetime.combine(EFFECTIVE, time(8, 30), NOW.tzinfo))
    page = pages.signed_in("supervisor")
    assert "land_transfer" not in page.inner_text("section[aria-labelledby=t-pending]")
    page.goto(site.url(f"/procedures/{KEY}"))
    submit(page, "a:has-text('Chuyển hồ sơ đang xử lý sang phiên bản mới')")
    assert "Kế hoạch: phiên bản 1 → phiên bản 2" in page.inner_text("#h-plan")
    assert page.inner_text("#plan-counts") == (
        f"Chuyển được ngay: {movable} · Cần chỉ định bước tương ứng: 1 · Không chuyển được: 0")
    assert page.locator("#plan-pending").count() == 0  # version 2 is in force today: no warning
    stuck_row = page.locator("tr.plan-needs_mapping")
    assert stuck_row.count() == 1 and stuck_code in stuck_row.inner_text()
    assert "không còn trong phiên bản mới" in stuck_row.inner_text()

    # 9. migrated in batches; the dossier on the deleted step is reported, not moved
    submit(page, "#start-migration")
    page.fill("#size", str(max(1, movable // 2 + 1)))
    submit(page, "#run-batch")
    assert 0 < int(page.get_attribute("#progress", "value") or "0") < movable  # a batch, not all
    while page.locator("#run-batch").count():
        submit(page, "#run-batch")
    assert "Đã chuyển phiên bản xong" in page.inner_text("#run-finished")
    assert page.inner_text("#progress-text") == (
        f"Đã xử lý {movable}/{movable} (100%): {movable} hồ sơ được chuyển, 0 hồ sơ bị bỏ qua")
    report = page.inner_text("#run-report")
    assert stuck_code in report and "Cần chỉ định bước tương ứng" in report
    assert page.js_errors == []
