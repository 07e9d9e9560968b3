"""A supervisor in a real browser: a broken BPMN is checked (every problem listed, nothing stored),
then a fixed one is checked and deployed (a new version, its diff against the version in force),
and the BPMN of a version is downloaded as deployed."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from config.settings import ROOT
from engine.store import ProcedureVersionRow
from tests.web.conftest import Pages, Site, screenshot, submit

pytestmark = pytest.mark.xdist_group("browser")
ORIGINAL = (ROOT / "workflows" / "land" / "land_transfer.bpmn").read_text(encoding="utf-8")
DESK_REF = "<bpmn:flowNodeRef>return_dossier</bpmn:flowNodeRef>"
BRANCH_REF = "<bpmn:flowNodeRef>check_rights</bpmn:flowNodeRef>"


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def broken() -> str:
    """check_rights loses its time limit; the 'not eligible' condition calls a function."""
    text = replace_once(ORIGINAL, '<spiffworkflow:property name="sla" value="P2D" />', "")
    return replace_once(text, ">not eligible<", ">__import__('os').system('id')<")


def fixed() -> str:
    """tax_assess P5D → P4D; return_dossier moves from the desk's lane to the branch's; a condition rewritten."""
    text = replace_once(ORIGINAL, '<spiffworkflow:property name="sla" value="P5D" />',
                        '<spiffworkflow:property name="sla" value="P4D" />')
    text = replace_once(text, DESK_REF, "")
    text = replace_once(text, BRANCH_REF, BRANCH_REF + DESK_REF)
    return replace_once(text, ">not eligible<", ">eligible == False<")


def table_rows(page: Any, name: str) -> list[list[str]]:
    rows = page.locator(f"table[data-table={name}] tbody tr")
    return [[c.strip() for c in rows.nth(i).locator("td").all_inner_texts()] for i in range(rows.count())]


def versions(site: Site) -> list[tuple[int, str]]:
    with site.lf.db.read() as s:
        return [(v, b) for v, b in s.execute(select(ProcedureVersionRow.version, ProcedureVersionRow.bpmn)
                                             .where(ProcedureVersionRow.key == "land_transfer")
                                             .order_by(ProcedureVersionRow.version))]


def test_supervisor_checks_a_broken_file_then_deploys_a_fixed_one(site: Site, pages: Pages, tmp_path: Path) -> None:
    before = versions(site)
    assert [v for v, _ in before] == [1]
    page = pages.signed_in("supervisor")
    assert page.url.endswith("/procedures")
    assert page.locator("table[data-table=procedures] tr", has_text="land_transfer").count() == 1
    submit(page, "text=Kiểm tra hoặc triển khai tệp BPMN")

    bad = tmp_path / "land_transfer_broken.bpmn"
    bad.write_text(broken(), encoding="utf-8")
    page.set_input_files("#bpmn", str(bad))
    submit(page, "button[value=check]")
    problems = table_rows(page, "problems")
    assert f"Có {len(problems)} lỗi" in page.locator("#lint-verdict").inner_text()
    assert {(r[0], r[1]) for r in problems} == {("check_rights", "step.sla"),
                                                ("Flow_gw_rights_to_return_dossier", "condition.unsafe")}
    assert any("__import__" in r[2] for r in problems)
    six = {r[0]: r for r in table_rows(page, "six-clear")}
    assert "thiếu" in six["check_rights"][6] and "✓" in six["receive"][6]  # progress: the missing sla
    assert page.locator("form[action$='/procedures/deploy']").count() == 0
    assert page.locator('svg.bpmn [data-element-id="check_rights"]').count() == 1
    screenshot(page, "procedure-check", tmp_path)
    assert versions(site) == before

    good = tmp_path / "land_transfer.bpmn"
    good.write_text(fixed(), encoding="utf-8")
    page.set_input_files("#bpmn", str(good))
    submit(page, "button[value=check]")
    assert "Không có lỗi" in page.locator("#lint-verdict").inner_text()
    assert table_rows(page, "sla")[0][:2] == ["tax_assess", "Xác định nghĩa vụ tài chính"]
    submit(page, "form[action$='/procedures/deploy'] button[type=submit]")

    assert "Đã triển khai phiên bản 2 của land_transfer" in page.locator("p.flash").inner_text()
    assert "/procedures/land_transfer/diff" in page.url
    assert page.locator("h1").inner_text() == "Phiên bản 1 → phiên bản 2"
    assert [r[0] for r in table_rows(page, "sla")] == ["tax_assess"]
    assert table_rows(page, "sla")[0][3:] == ["5 ngày làm việc", "4 ngày làm việc"]  # not P5D → P4D (issue 12)
    [role] = table_rows(page, "role")
    assert role[0] == "return_dossier"
    assert role[2].endswith("(one_stop_desk)") and role[3].endswith("(registration_branch)")
    [condition] = table_rows(page, "conditions")
    assert condition[0] == "Flow_gw_rights_to_return_dossier" and condition[4:] == ["not eligible", "eligible == False"]
    for group in ("added", "removed"):
        assert page.locator(f"table[data-table={group}]").count() == 0
    changed = page.locator('svg.bpmn [data-element-id="tax_assess"]').get_attribute("class") or ""
    assert "current" in changed.split()
    screenshot(page, "procedure-diff", tmp_path)

    after = versions(site)
    assert [v for v, _ in after] == [1, 2] and after[1][1] == fixed()  # the exact bytes that were checked
    # download v2 as deployed, to edit in any modeler
    page.goto(site.url("/procedures/land_transfer?v=2"))
    with page.expect_download() as download:
        page.click("a[download][href$='/v2.bpmn']")
    data = Path(download.value.path()).read_bytes()
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(fixed().encode("utf-8")).hexdigest()
    assert download.value.suggested_filename == "land_transfer.v2.bpmn"
    assert page.js_errors == []
