"""Issue 12, defect 4: apologies only for a dossier due soon or late; deadlines that do not jump when no
working time passes; stopped and cancelled dossiers neither on time nor late."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from api.problems import status_of
from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.history import verify
from engine.kpi import dossier_kpis
from engine.runtime import CommandRefused
from engine.store import CaseEventRow, DossierRow, SignalRow, WorkItemRow
from tests.conftest import local, officer


def open_item(lf: Landflow, dossier_id: int) -> WorkItemRow:
    with lf.db.read() as s:
        (item,) = s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == dossier_id,
                                                      WorkItemRow.state.in_(("ready", "claimed"))))
        return item


def dossier(lf: Landflow, dossier_id: int) -> DossierRow:
    with lf.db.read() as s:
        row = s.get(DossierRow, dossier_id)
        assert row is not None
        return row


def test_a_supplement_asked_and_received_on_a_sunday_moves_no_deadline(small: Landflow, clock: FixedClock) -> None:
    """Received on Saturday 14/03: the desk's step is due Monday 16/03 17:00, the dossier Friday 20/03 17:00 —
    both at the end of an office period. A supplement asked and received on Sunday 15/03 pauses no working
    time: neither may move to the next morning 07:30."""
    lf, rt, desk = small, small.runtime, officer(small, "desk.w1")
    clock.set(local(2026, 3, 14, 10, 0))
    st = rt.open(desk, "small_test", "W1", {"name": "A"}, {})
    item = open_item(lf, st.id)
    assert item.due_at == local(2026, 3, 16, 17, 0)
    assert dossier(lf, st.id).due_at == local(2026, 3, 20, 17, 0)
    clock.set(local(2026, 3, 15, 9, 0))
    rt.request_supplement(desk, item.id, "thiếu bản sao giấy chứng nhận")
    clock.set(local(2026, 3, 15, 15, 0))
    rt.receive_supplement(desk, st.id, "đã bổ sung")
    assert open_item(lf, st.id).due_at == local(2026, 3, 16, 17, 0)
    d = dossier(lf, st.id)
    assert (d.due_at, d.statutory_due_at) == (local(2026, 3, 20, 17, 0), local(2026, 3, 20, 17, 0))
    with lf.db.read() as s:
        assert verify(s, lf.procedures, st.id).ok


def test_a_paused_step_done_on_a_sunday_moves_no_deadline(small: Landflow, clock: FixedClock) -> None:
    """The public-posting step pauses the dossier clock; opened and closed on a Sunday, it paused nothing."""
    lf, rt = small, small.runtime
    clock.set(local(2026, 3, 14, 10, 0))
    st = rt.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "A"}, {})
    rt.complete(officer(lf, "desk.w1"), open_item(lf, st.id).id, {"complete": True})
    clock.set(local(2026, 3, 15, 9, 0))
    rt.complete(officer(lf, "land.w1"), open_item(lf, st.id).id, {"eligible": True, "area": 120})
    assert open_item(lf, st.id).step == "post" and dossier(lf, st.id).paused_at is not None
    clock.set(local(2026, 3, 15, 11, 0))
    rt.complete(officer(lf, "land.w1"), open_item(lf, st.id).id, {})
    d = dossier(lf, st.id)
    assert d.paused_at is None and (d.due_at, d.statutory_due_at) == (local(2026, 3, 20, 17, 0),) * 2
    with lf.db.read() as s:
        assert verify(s, lf.procedures, st.id).ok



def test_an_apology_only_within_one_working_day_of_the_deadline_or_after_it(small: Landflow,
                                                                             clock: FixedClock) -> None:
    """Received Thu 05/02 09:00, due Wed 11/02 09:00. The branch could apologise with 4 working days left."""
    lf, rt, desk = small, small.runtime, officer(small, "desk.w1")
    st = rt.open(desk, "small_test", "W1", {"name": "A"}, {})
    assert dossier(lf, st.id).due_at == local(2026, 2, 11, 9, 0)
    for at in (local(2026, 2, 5, 9, 0), local(2026, 2, 10, 8, 59)):  # 4 days; one day and a minute
        clock.set(at)
        with pytest.raises(CommandRefused) as info:
            rt.apologise(desk, st.id, "quá tải", local(2026, 2, 24, 17, 0))
        assert (info.value.code, status_of(info.value)) == ("not_late", 422)
    clock.set(local(2026, 2, 10, 9, 0))  # exactly one working day before
    rt.apologise(desk, st.id, "quá tải", local(2026, 2, 24, 17, 0))
    late = rt.open(desk, "small_test", "W1", {"name": "B"}, {})
    clock.set(local(2026, 2, 23, 10, 0))  # well past its deadline (Tết in between)
    rt.apologise(desk, late.id, "quá tải", local(2026, 2, 27, 17, 0))
    with lf.db.read() as s:
        refused = [json.loads(p) for p in s.scalars(select(CaseEventRow.payload).where(
            CaseEventRow.dossier_id == st.id, CaseEventRow.type == "action_refused"))]
        signals = list(s.scalars(select(SignalRow.kind).where(SignalRow.dossier_id.in_((st.id, late.id)))))
    assert [(p["code"], p["category"]) for p in refused] == [("not_late", "invalid_input")] * 2
    assert signals == ["apologised", "apologised"]  # refused too early is not misconduct


@pytest.mark.parametrize("end", ["stop", "cancel"])
def test_stopped_and_cancelled_dossiers_are_neither_on_time_nor_late_in_the_kpi(small: Landflow, clock: FixedClock,
                                                                                end: str) -> None:
    lf, rt, desk = small, small.runtime, officer(small, "desk.w1")
    start = clock.now()
    early = rt.open(desk, "small_test", "W1", {"name": "A"}, {})
    late = rt.open(desk, "small_test", "W1", {"name": "B"}, {})
    getattr(rt, end)(desk, early.id, "người dân xin dừng")  # before its deadline
    clock.set(local(2026, 3, 2, 9, 0))
    getattr(rt, end)(desk, late.id, "người dân xin dừng")  # after it
    with lf.db.read() as s:
        (kpi,) = dossier_kpis(s, start, clock.now() + timedelta(hours=1), clock.now(), None)
    assert (kpi.to_process, kpi.done, kpi.done_on_time, kpi.late_done, kpi.late_in_progress) == (0, 0, 0, 0, 0)
