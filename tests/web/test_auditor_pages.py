"""An auditor in a real browser: the history of a dossier replayed event by event (with and without
JavaScript), its hashes and verify badge; the signals table; the KPI dashboard and its CSV."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.runtime import DossierState
from engine.store import CaseEventRow, SignalRow, WorkItemRow
from tests.web.conftest import Pages, Site, screenshot, submit
from tests.web.test_officer_pages import classes, open_dossier, open_items

pytestmark = pytest.mark.xdist_group("browser")


def history(site: Site) -> DossierState:
    """opened (1) → claimed (2) → receive completed (3: check_rights opens) → check_rights completed
    (4: send_form19 opens)."""
    officers = site.lf.directory.get().officers
    rt = site.lf.runtime
    st = open_dossier(site)
    [receive] = open_items(site, st.id)
    rt.claim(officers["desk.haichau"], receive.id)
    rt.complete(officers["desk.haichau"], receive.id, {"decision": "accept", "kind": "donation"})
    [check] = open_items(site, st.id)
    return rt.complete(officers["branch.haichau"], check.id, {"eligible": True})


def hashes(site: Site, dossier_id: int) -> list[str]:
    with site.lf.db.read() as s:
        return list(s.scalars(select(CaseEventRow.hash).where(CaseEventRow.dossier_id == dossier_id)
                              .order_by(CaseEventRow.seq)))


def download(page: Any, selector: str) -> list[list[str]]:
    with page.expect_download() as info:
        page.click(selector)
    text = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def headers(page: Any, table: str) -> list[str]:
    return [t.strip() for t in page.locator(f"table[data-table={table}] thead th").all_inner_texts()]


def test_auditor_replays_a_dossier_event_by_event(site: Site, pages: Pages, tmp_path: Path) -> None:
    st = history(site)
    chain = hashes(site, st.id)
    assert len(chain) == 4
    page = pages.signed_in("auditor")
    assert page.url.endswith("/audit/dossiers")
    page.fill("#s-code", st.code)
    submit(page, "form.filters button[type=submit]")
    submit(page, f"table[data-table=dossiers] a:text('{st.code}')")
    assert page.locator("#verify").get_attribute("data-ok") == "true"
    assert page.locator("#replay-event").get_attribute("data-seq") == "4"
    assert "current" in classes(page, "send_form19")

    # with JavaScript: one step left on the slider swaps in the replay as of event 3
    page.focus("#at")
    page.keyboard.press("ArrowLeft")
    page.wait_for_selector('#replay-event[data-seq="3"]')
    assert page.locator("#at-out").inner_text() == "3 / 4"
    assert "current" in classes(page, "check_rights") and "done" in classes(page, "receive")
    assert not {"current", "done"} & classes(page, "send_form19")
    assert "taken" in classes(page, "Flow_gw_receive_to_check_rights")
    assert page.locator("#replay code").first.inner_text() == chain[2]
    assert "at=3" in page.url
    assert page.locator("table[data-table=events] tbody tr.current td").first.inner_text() == "3"
    screenshot(page, "audit-timeline", tmp_path)

    # the events as CSV: every hash, in order
    rows = download(page, "a.csv[href*='csv=events']")
    assert rows[0] == headers(page, "events")
    hash_col = rows[0].index("Mã băm (SHA-256)")
    assert [r[hash_col] for r in rows[1:]] == chain

    # without JavaScript: the slider is a form field, the button submits it
    plain = pages.signed_in("auditor", java_script_enabled=False)
    plain.goto(site.url(f"/audit/dossiers/{st.id}"))
    plain.focus("#at")
    plain.keyboard.press("ArrowLeft")
    plain.keyboard.press("ArrowLeft")
    submit(plain, "#replay-form button[type=submit]")
    assert plain.locator("#replay-event").get_attribute("data-seq") == "2"
    assert "current" in classes(plain, "receive") and "current" not in classes(plain, "check_rights")
    assert page.js_errors == []


def test_auditor_reads_signals_and_the_kpi_dashboard(site: Site, pages: Pages, tmp_path: Path) -> None:
    page = pages.signed_in("auditor")
    page.goto(site.url("/audit/signals"))
    page.select_option("#g-kind", "returned")
    submit(page, "form.filters button[type=submit]")
    shown = page.locator("table[data-table=signals] tbody tr")
    with site.lf.db.read() as s:
        returned = s.scalar(select(func.count()).select_from(SignalRow).where(SignalRow.kind == "returned"))
    assert returned and shown.count() == min(returned, 50)
    assert set(page.locator("table[data-table=signals] tbody td:nth-child(2)").all_inner_texts()) == {"Trả lại"}
    rows = download(page, "a.csv[href*='csv=signals']")
    assert len(rows) - 1 == shown.count() and {r[1] for r in rows[1:]} == {"Trả lại"}
    page.goto(site.url("/audit/signals"))
    screenshot(page, "signals", tmp_path, full_page=False)

    page.goto(site.url("/audit/kpi"))
    first = datetime.fromisoformat(page.locator("#k-from").input_value()).date()
    last = datetime.fromisoformat(page.locator("#k-to").input_value()).date()
    tz = site.lf.calendar.tz
    assert last == site.clock.now().astimezone(tz).date() and (last - first).days == 29
    start, end = datetime.combine(first, time(0), tz), datetime.combine(last + timedelta(days=1), time(0), tz)
    with site.lf.db.read() as s:  # handled = items completed or returned in the period, per unit
        items = s.execute(select(WorkItemRow.unit, WorkItemRow.done_at, WorkItemRow.due_at).where(
            WorkItemRow.state == "done", WorkItemRow.outcome.in_(("completed", "returned")),
            WorkItemRow.done_at >= start, WorkItemRow.done_at < end, WorkItemRow.unit.is_not(None))).all()
    handled = Counter(u for u, _, _ in items)
    on_time = Counter(u for u, done, due in items if due is None or done <= due)
    assert handled

    screenshot(page, "kpi", tmp_path)
    rows = download(page, "a.csv[href*='csv=kpi-units']")
    visible = headers(page, "kpi-units")
    assert [h for h in rows[0] if h in visible] == visible and len(rows[0]) > len(visible)  # the CSV has every column
    got = {r[0]: (int(r[2]), int(r[3])) for r in rows[1:]}
    # a unit listed for its other figures (an overdue open item) handled nothing: the oracle says 0 for it too
    assert got == {u: (handled[u], on_time[u]) for u in set(handled) | set(got)}
    bars = page.locator("svg.hbars").first.locator("g.bar")
    assert bars.count() == len(handled)
    for i in range(bars.count()):
        value = float(bars.nth(i).get_attribute("data-value") or "nan")
        unit = next(u for u in handled if site.lf.directory.get().units[u].name == bars.nth(i).get_attribute(
            "data-label"))
        assert value == pytest.approx(on_time[unit] / handled[unit], abs=1e-4)
    assert page.locator("svg.stacked rect.seg").count() > 0
    assert page.locator("table[data-table=kpi-officers] tbody tr").count() > 0
    assert page.js_errors == []
