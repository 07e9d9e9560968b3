"""A supervisor redesigns land_transfer in the browser modeler (bpmn-js served by landflow, every request
kept on 127.0.0.1): drags a new step from the palette into the branch's lane, sets its owner, limit and a
form field in landflow's panel, sees the engine's time-budget problem marked on the diagram, fixes it,
saves a draft, checks it on the check page (problems, diff against the version in force) and deploys it
with an effective date; the pending version is listed, and the stored BPMN is what the engine reads.

Its own server and database (no history needed): deploying a version here must not change the version
numbers the other page tests expect of the shared site.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from api.cli.setup import initialise
from config.settings import Settings
from engine.bootstrap import build
from engine.clock import FixedClock
from engine.store import ProcedureVersionRow
from tests.web.conftest import NOW, Pages, Site, screenshot, serving, submit

pytestmark = pytest.mark.xdist_group("browser")
FLOWS = """() => window.landflowModeler.get('elementRegistry').filter(e => e.type === 'bpmn:SequenceFlow')
  .map(e => [e.businessObject.sourceRef.id, e.businessObject.targetRef.id, e.waypoints])"""


@pytest.fixture(scope="module")
def own_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("modeler-site")
    settings = Settings.from_env({}, database_url=f"sqlite:///{root / 'landflow.db'}", var_dir=root, demo=True,
                                 secret_key="test-secret-key-for-the-modeler-test")
    setup = build(settings)
    initialise(setup, say=lambda _msg: None)
    setup.close()
    clock = FixedClock(NOW)
    lf = build(settings, clock=clock)
    yield from serving(lf, clock)


@pytest.fixture
def own_pages(own_site: Site, browser: Any) -> Iterator[Pages]:
    p = Pages(own_site, browser)
    yield p
    p.close()
    assert own_site.outside == [], f"the modeler asked for something outside landflow: {own_site.outside[:5]}"


def drop_step_on_flow(page: Any, source: str, target: str) -> str:
    """Drag the palette's step (user task) onto the middle of the flow source -> target; the modeler
    inserts it there (its shape and both flows are the modeler's). Returns the new element's id."""
    flow = next(f for f in page.evaluate(FLOWS) if f[0] == source and f[1] == target)
    box = page.locator("#canvas").bounding_box()
    vb = page.evaluate("() => window.landflowModeler.get('canvas').viewbox()")
    x = (flow[2][0]["x"] + flow[2][-1]["x"]) / 2
    y = (flow[2][0]["y"] + flow[2][-1]["y"]) / 2
    sx, sy = box["x"] + (x - vb["x"]) * vb["scale"], box["y"] + (y - vb["y"]) * vb["scale"]
    entry = page.locator(".djs-palette .entry.bpmn-icon-user-task").bounding_box()
    page.mouse.move(entry["x"] + entry["width"] / 2, entry["y"] + entry["height"] / 2)
    page.mouse.down()
    page.mouse.move(sx - 40, sy, steps=5)
    page.mouse.move(sx, sy, steps=5)
    page.mouse.up()
    new_id: str = page.evaluate("""() => window.landflowModeler.get('selection').get()[0].id""")
    kind = page.evaluate("""() => window.landflowModeler.get('selection').get()[0].type""")
    assert kind == "bpmn:UserTask"
    return new_id


def set_field(page: Any, selector: str, value: str) -> None:
    page.fill(selector, value)
    page.locator(selector).dispatch_event("change")


def test_supervisor_redesigns_land_transfer_in_the_modeler(own_site: Site, own_pages: Pages, tmp_path: Path) -> None:
    page = own_pages.signed_in("supervisor")
    page.goto(own_site.url("/procedures/land_transfer"))
    submit(page, "#open-modeler")
    page.wait_for_selector("#modeler[data-ready=true]")
    page.wait_for_selector("#check-status[data-problems='0']")

    step = drop_step_on_flow(page, "check_rights", "gw_rights")
    lane = page.evaluate(f"""() => window.landflowModeler.get('elementRegistry').filter(e => e.type === 'bpmn:Lane')
        .filter(l => (l.businessObject.flowNodeRef || []).some(n => n.id === '{step}'))
        .map(l => l.businessObject.name)""")
    assert lane == ["registration_branch"]
    # a new step without a limit: the engine's problem is shown on it
    page.wait_for_selector(f"#problems li[data-element='{step}'][data-rule='step.sla']")
    assert page.locator(f".lf-problem-badge[data-element='{step}']").count() == 1

    set_field(page, "#p-name", "Thẩm tra hiện trạng sử dụng đất")
    page.select_option("#p-owner", "registration_branch")
    set_field(page, "#p-sla", "2")  # 7 working days on the longest path + 2 > the statutory 8
    set_field(page, "#p-legal_basis", "Nghị định 151/2025/NĐ-CP, Điều 37")
    set_field(page, "#p-result", "Biên bản thẩm tra")
    page.click("#add-field")
    set_field(page, "#p-form .form-field:last-of-type .f-name", "da_tham_tra")
    set_field(page, "#p-form .form-field:last-of-type .f-label", "Đã thẩm tra hiện trạng")
    page.select_option("#p-form .form-field:last-of-type .f-type", "bool")
    page.check("#p-form .form-field:last-of-type .f-required")

    budget = page.wait_for_selector("#problems li[data-rule='budget.path']")
    where = budget.get_attribute("data-element").split("/")[0]
    assert page.locator(f".djs-element.lf-problem[data-element-id='{where}']").count() == 1
    assert page.locator(f".lf-problem-badge[data-element='{where}']").count() == 1
    assert "budget.path" in page.inner_text("#problems")
    screenshot(page, "modeler", tmp_path)

    # fixed: half a day (4 working hours) fits the day left
    page.fill("#p-sla", "4")
    page.select_option("#p-sla + select", "H")
    page.wait_for_selector("#check-status[data-problems='0']")
    assert page.locator(".lf-problem-badge").count() == 0

    page.click("#save-draft")
    page.wait_for_selector("#to-drafts")
    submit(page, "#to-drafts")
    assert page.locator("button[id^=check-draft-]").count() == 1  # one revision saved
    submit(page, "button[id^=check-draft-]")
    assert "success" in (page.get_attribute("#lint-verdict", "class") or "")
    assert step in page.content()  # the diff against the version in force names the new step
    page.fill("#effective_from", "2026-04-01")
    submit(page, "#deploy-file")
    assert "01/04/2026" in page.inner_text("main")

    page.goto(own_site.url("/procedures"))
    pending = page.inner_text("section[aria-labelledby=t-pending]")
    assert "land_transfer" in pending and "01/04/2026" in pending
    assert page.js_errors == []  # type: ignore[attr-defined]

    with own_site.lf.db.read() as s:
        row = s.scalars(select(ProcedureVersionRow).where(ProcedureVersionRow.key == "land_transfer")
                        .order_by(ProcedureVersionRow.version.desc())).first()
    assert row is not None and row.version == 2 and row.effective_from == date(2026, 4, 1)
    meta = json.loads(row.meta)
    new = next(s for s in meta["steps"] if s["id"] == step)
    assert (new["name"], new["role"], new["sla"], new["clock"]) == (
        "Thẩm tra hiện trạng sử dụng đất", "registration_branch", "PT4H", "run")
    assert (new["result"], new["legal_basis"]) == ("Biên bản thẩm tra", "Nghị định 151/2025/NĐ-CP, Điều 37")
    assert new["form"] == [{"name": "da_tham_tra", "type": "bool", "required": True, "choices": []}]
    assert f'bpmnElement="{step}"' in row.bpmn  # its diagram shape came from the modeler
    assert 'name="label.da_tham_tra" value="Đã thẩm tra hiện trạng"' in row.bpmn
