"""The small test procedure from receipt to result, with deadlines computed by hand.

Calendar facts used below (office hours 07:30-11:30 and 13:00-17:00, 8 working hours a day):
Tết 2026 is Monday 16 - Friday 20 February (from the `holidays` package); Saturday 7 February is a
make-up working day (test calendar). Limits: dossier P5D; receive P1D; verify P2D; post P15D with
the clock paused; sign P1D; hand over PT4H.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.runtime import CommandRefused
from engine.store import CaseEventRow, DossierRow, SignalRow, WorkItemRow
from tests.conftest import local, officer

W1 = "W1"


def open_item(lf: Landflow, dossier_id: int) -> WorkItemRow:
    with lf.db.read() as s:
        rows = list(s.scalars(select(WorkItemRow).where(
            WorkItemRow.dossier_id == dossier_id, WorkItemRow.state.in_(("ready", "claimed")))))
    assert len(rows) == 1, [r.step for r in rows]
    return rows[0]


def dossier(lf: Landflow, dossier_id: int) -> DossierRow:
    with lf.db.read() as s:
        row = s.get(DossierRow, dossier_id)
        assert row is not None
        return row


def test_eligible_dossier_runs_to_the_end_with_hand_computed_deadlines(small: Landflow, clock: FixedClock) -> None:
    rt = small.runtime
    # Thursday 5 Feb 09:00: received. 5 working days: Fri 6, Sat 7 (make-up), Mon 9, Tue 10, Wed 11.
    st = rt.open(officer(small, "desk.w1"), "small_test", W1, {"name": "Nguyễn Văn A", "id_number": "0490"},
                 {"sheet": 12, "parcel": 34})
    d = dossier(small, st.id)
    assert d.due_at == local(2026, 2, 11, 9, 0)
    assert d.status == "in_progress"
    assert d.code.startswith("000.01.90.H17-260205-")
    item = open_item(small, st.id)
    assert (item.step, item.unit, item.due_at) == ("receive", W1, local(2026, 2, 6, 9, 0))

    clock.set(local(2026, 2, 5, 10, 0))
    rt.complete(officer(small, "desk.w1"), item.id, {"complete": True})
    item = open_item(small, st.id)
    # verify P2D from Thu 10:00: Fri 10:00, then Sat 7 Feb 10:00 (make-up day).
    assert (item.step, item.role, item.unit, item.due_at) == (
        "verify", "commune_land_officer", W1, local(2026, 2, 7, 10, 0))

    clock.set(local(2026, 2, 6, 15, 0))
    rt.claim(officer(small, "land.w1"), item.id)
    rt.complete(officer(small, "land.w1"), item.id, {"eligible": True, "area": 200})
    item = open_item(small, st.id)
    # post P15D from Fri 6 Feb 15:00: Sat 7, Mon 9 … Fri 13 (7 days), Tết and two weekends skipped,
    # Mon 23 … Fri 27 (5), Mon 2, Tue 3, Wed 4, Thu 5 March -> 15 days.
    assert (item.step, item.clock, item.due_at) == ("post", "paused", local(2026, 3, 5, 15, 0))
    d = dossier(small, st.id)
    assert d.paused_at == local(2026, 2, 6, 15, 0)
    assert d.due_at == local(2026, 2, 11, 9, 0)  # unchanged while paused

    clock.set(local(2026, 3, 2, 10, 0))
    rt.complete(officer(small, "land.w1"), item.id, {})
    d = dossier(small, st.id)
    # 12.5 h were used before the pause (Thu 6.5 h, Fri 6 h); 27.5 h remain from Mon 2 Mar 10:00:
    # Mon 5.5, Tue 8, Wed 8, Thu 4 + 2 -> Thursday 5 March 15:00.
    assert d.paused_at is None
    assert d.due_at == local(2026, 3, 5, 15, 0)
    assert d.statutory_due_at == local(2026, 3, 5, 15, 0)
    item = open_item(small, st.id)
    assert (item.step, item.role, item.due_at) == ("sign", "commune_chairman", local(2026, 3, 3, 10, 0))

    clock.set(local(2026, 3, 2, 16, 0))
    rt.complete(officer(small, "chair.w1"), item.id, {})
    item = open_item(small, st.id)
    # PT4H from Mon 16:00: 1 h on Monday, 3 h on Tuesday from 07:30 -> 10:30.
    assert (item.step, item.due_at) == ("handover", local(2026, 3, 3, 10, 30))

    clock.set(local(2026, 3, 3, 9, 0))
    final = rt.complete(officer(small, "desk.w1"), item.id, {})
    d = dossier(small, st.id)
    assert (d.status, d.outcome, d.finished_at) == ("done", "end_ok", local(2026, 3, 3, 9, 0))
    assert final.open_items() == []
    with small.db.read() as s:
        steps = list(s.scalars(select(WorkItemRow.step).where(WorkItemRow.dossier_id == st.id)
                               .order_by(WorkItemRow.ordinal)))
        types = list(s.scalars(select(CaseEventRow.type).where(CaseEventRow.dossier_id == st.id)
                               .order_by(CaseEventRow.seq)))
    assert steps == ["receive", "verify", "post", "sign", "handover"]
    assert types == ["opened", "completed", "claimed", "completed", "completed", "completed", "completed"]


def test_not_eligible_path_ends_at_its_own_end_event(small: Landflow, clock: FixedClock) -> None:
    rt = small.runtime
    st = rt.open(officer(small, "desk.w1"), "small_test", W1, {"name": "B"}, {})
    rt.complete(officer(small, "desk.w1"), open_item(small, st.id).id, {"complete": True})
    verify = open_item(small, st.id)
    for blank in ({}, {"note": ""}, {"note": "  \n "}):  # `verify` refuses on eligible=false: a reason first
        with pytest.raises(CommandRefused) as err:
            rt.complete(officer(small, "land.w1"), verify.id, {"eligible": False, "area": 50, **blank})
        assert (err.value.kind, err.value.code) == ("invalid", "missing_reason")
    assert open_item(small, st.id).step == "verify"
    rt.complete(officer(small, "land.w1"), verify.id, {"eligible": False, "area": 50, "note": " đất tranh chấp "})
    item = open_item(small, st.id)
    assert item.step == "notify"
    rt.complete(officer(small, "desk.w1"), item.id, {})
    d = dossier(small, st.id)
    assert (d.status, d.outcome) == ("done", "end_no")
    with small.db.read() as s:
        completed = [json.loads(p) for p in s.scalars(select(CaseEventRow.payload).where(
            CaseEventRow.dossier_id == st.id, CaseEventRow.type == "completed", CaseEventRow.step == "verify"))]
        found = [(x.kind, x.officer, x.reason) for x in s.scalars(select(SignalRow).where(
            SignalRow.dossier_id == st.id, SignalRow.kind == "returned"))]
    assert [(c.get("refused"), c.get("reason")) for c in completed] == [(True, "đất tranh chấp")]
    assert found == [("returned", "land.w1", "đất tranh chấp")]


def test_an_eligible_completion_is_no_refusal(small: Landflow) -> None:
    """Only the marked choice refuses: eligible=true needs no reason and leaves no signal."""
    rt = small.runtime
    st = rt.open(officer(small, "desk.w1"), "small_test", W1, {"name": "B"}, {})
    rt.complete(officer(small, "desk.w1"), open_item(small, st.id).id, {"complete": True})
    rt.complete(officer(small, "land.w1"), open_item(small, st.id).id, {"eligible": True, "area": 50})
    assert open_item(small, st.id).step == "post"
    with small.db.read() as s:
        assert s.scalar(select(func.count()).select_from(SignalRow).where(SignalRow.dossier_id == st.id)) == 0


def test_remote_commune_gets_ten_more_working_days(small: Landflow) -> None:
    # C2 is remote: P5D + P10D = 15 working days from Thu 5 Feb 09:00: Fri 6, Sat 7 (make-up), Mon 9 …
    # Fri 13 (7 days), Tết, Mon 23 … Fri 27 (12), Mon 2, Tue 3, Wed 4 March (15) -> Wed 4 March 09:00.
    st = small.runtime.open(officer(small, "desk.c2"), "small_test", "C2", {"name": "C"}, {})
    d = dossier(small, st.id)
    assert d.remote is True
    assert d.due_at == local(2026, 3, 4, 9, 0)


def test_supplement_pauses_the_dossier_and_its_open_step(small: Landflow, clock: FixedClock) -> None:
    rt = small.runtime
    st = rt.open(officer(small, "desk.w1"), "small_test", W1, {"name": "D"}, {})
    item = open_item(small, st.id)
    clock.set(local(2026, 2, 5, 10, 0))
    rt.request_supplement(officer(small, "desk.w1"), item.id, "thiếu bản sao CCCD")
    assert dossier(small, st.id).status == "awaiting_supplement"
    clock.set(local(2026, 2, 9, 10, 0))
    rt.receive_supplement(officer(small, "desk.w1"), st.id, "đã nộp bản sao")
    d = dossier(small, st.id)
    # Paused Thu 10:00 -> Mon 9 Feb 10:00 = 5.5 + 8 (Fri) + 8 (Sat 7, make-up) + 2.5 = 24 h = 3 days.
    assert d.status == "in_progress"
    assert d.due_at == local(2026, 2, 23, 9, 0)  # Wed 11 Feb 09:00 + 3 days: Thu 12, Fri 13, Mon 23 (after Tết)
    assert open_item(small, st.id).due_at == local(2026, 2, 10, 9, 0)  # Fri 6 09:00 + 3 days


def test_dossier_codes_count_per_desk_and_day(small: Landflow) -> None:
    rt = small.runtime
    a = rt.open(officer(small, "desk.w1"), "small_test", W1, {"name": "E"}, {})
    b = rt.open(officer(small, "desk2.w1"), "small_test", "C2", {"name": "F"}, {})
    c = rt.open(officer(small, "desk.c2"), "small_test", "C2", {"name": "G"}, {})
    assert a.code == "000.01.90.H17-260205-0001"
    assert b.code == "000.01.90.H17-260205-0002"  # boundary-free: desk W1 receives a C2 dossier
    assert c.code == "000.02.90.H17-260205-0001"
    with small.db.read() as s:
        assert s.scalar(select(func.count()).select_from(DossierRow)) == 3
