"""Absences and substitution: the absent officer's items go to the deputy, recorded `substituted`."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine.absences import Absences
from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.history import verify
from engine.reviews import verify_accountability
from engine.runtime import CommandRefused
from engine.scheduler import Sweeper
from engine.store import CaseEventRow, SignalRow, WorkItemRow
from tests.conftest import officer


def at_verify(lf: Landflow) -> tuple[int, int]:
    """A dossier whose `verify` step (land officers of W1) is open: (dossier id, item id)."""
    rt = lf.runtime
    st = rt.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "Trần Thị B"})
    st = rt.complete(officer(lf, "desk.w1"), next(iter(st.open_items())).id, {"complete": True})
    return st.id, next(iter(st.open_items())).id


def events_of(lf: Landflow, dossier_id: int) -> list[CaseEventRow]:
    with lf.db.read() as s:
        return list(s.scalars(select(CaseEventRow).where(CaseEventRow.dossier_id == dossier_id)
                              .order_by(CaseEventRow.seq)))


def test_claimed_item_goes_to_the_deputy_and_escalation_names_both(small: Landflow, clock: FixedClock) -> None:
    lf = small
    did, item_id = at_verify(lf)
    lf.runtime.claim(officer(lf, "land.w1"), item_id)
    today = clock.now().astimezone(lf.calendar.tz).date()
    absence = Absences(lf).record(officer(lf, "head.w1"), "land.w1", "land2.w1", today, today + timedelta(days=6),
                                  "nghỉ phép năm")
    with lf.db.read() as s:
        item = s.get(WorkItemRow, item_id)
        assert item is not None and (item.assignee, item.state, item.unit) == ("land2.w1", "ready", "W1")
        assert json.loads(item.trail) == [] or all(h.get("officer") != "land2.w1" for h in json.loads(item.trail))
        kinds = set(s.scalars(select(SignalRow.kind).where(SignalRow.dossier_id == did)))
    assert not kinds & {"rerouted", "ping_pong", "unauthorised_attempt"}
    last = events_of(lf, did)[-1]
    assert last.type == "substituted" and last.actor == "system"
    payload = json.loads(last.payload)
    assert (payload["from"], payload["to"], payload["absence"], payload["was"]) == \
        ("land.w1", "land2.w1", absence.id, "claimed")

    # the deputy works it like their own; the absent officer no longer can
    with pytest.raises(CommandRefused) as err:
        lf.runtime.claim(officer(lf, "land.w1"), item_id)
    assert err.value.code == "reserved_for_other"
    lf.runtime.claim(officer(lf, "land2.w1"), item_id)

    # overdue by more than a working day during the absence: the escalation names both
    clock.advance(days=5)
    Sweeper(lf).sweep()
    with lf.db.read() as s:
        escalated = s.scalar(select(CaseEventRow).where(CaseEventRow.dossier_id == did,
                                                        CaseEventRow.type == "escalated"))
        assert escalated is not None
        p = json.loads(escalated.payload)
        assert (p["officer"], p["absent_officer"]) == ("land2.w1", "land.w1")
        assert "land.w1" in p["reason"] and "land2.w1" in p["reason"]
        assert verify(s, lf.procedures, did).ok
        assert verify_accountability(s) == []


def test_an_absence_starting_later_is_applied_by_the_sweep(small: Landflow, clock: FixedClock) -> None:
    lf = small
    did, item_id = at_verify(lf)
    # reserved to land.w1 by a transfer (not claimed): such items go too
    lf.runtime.transfer(officer(lf, "land2.w1"), item_id, "anh Minh phụ trách thửa này", to_officer="land.w1")
    tomorrow = clock.now().astimezone(lf.calendar.tz).date() + timedelta(days=1)
    Absences(lf).record(officer(lf, "admin"), "land.w1", "land2.w1", tomorrow, tomorrow, "đi tập huấn")
    with lf.db.read() as s:
        assert s.scalar(select(WorkItemRow.assignee).where(WorkItemRow.id == item_id)) == "land.w1"
    sweeper = Sweeper(lf)
    assert sweeper.sweep().substituted == 0
    clock.set(clock.now() + timedelta(days=1))
    assert sweeper.sweep().substituted == 1
    assert sweeper.sweep().substituted == 0  # once
    with lf.db.read() as s:
        item = s.get(WorkItemRow, item_id)
        assert item is not None and item.assignee == "land2.w1"
        kinds = list(s.scalars(select(SignalRow.kind).where(SignalRow.dossier_id == did)))
        # the transfer before is a re-routing; the substitution adds none and no ping-pong
        assert kinds.count("rerouted") == 1 and "ping_pong" not in kinds
        assert verify(s, lf.procedures, did).ok


def test_who_records_an_absence_and_whom_it_may_name(small: Landflow, clock: FixedClock) -> None:
    lf = small
    absences = Absences(lf)
    today: date = clock.now().astimezone(lf.calendar.tz).date()
    cases = [
        ("land2.w1", "land.w1", "land2.w1", today, today, "wrong_role"),
        ("head.w1", "land.c2", "land.w1", today, today, "wrong_unit"),
        ("head.w1", "land.w1", "desk.w1", today, today, "illegal_target"),  # not a land officer
        ("head.w1", "land.w1", "land.c2", today, today, "illegal_target"),  # another unit
        ("head.w1", "land.w1", "land.w1", today, today, "illegal_target"),
        ("head.w1", "land.w1", "land2.w1", today, today - timedelta(days=1), "invalid_data"),
        ("head.w1", "land.w1", "land2.w1", today - timedelta(days=9), today - timedelta(days=2), "invalid_data"),
    ]
    for actor, absent, deputy, first, last, code in cases:
        with pytest.raises(CommandRefused) as err:
            absences.record(officer(lf, actor), absent, deputy, first, last, "nghỉ")
        assert err.value.code == code, (actor, absent, deputy)
    with pytest.raises(CommandRefused) as err:
        absences.record(officer(lf, "head.w1"), "land.w1", "land2.w1", today, today, " ")
    assert err.value.code == "missing_reason"
    absences.record(officer(lf, "head.w1"), "land.w1", "land2.w1", today, today + timedelta(days=2), "ốm")
    with pytest.raises(CommandRefused) as err:
        absences.record(officer(lf, "head.w1"), "land.w1", "land2.w1", today + timedelta(days=1),
                        today + timedelta(days=3), "nghỉ tiếp")
    assert err.value.code == "overlapping_absence"
    with pytest.raises(CommandRefused) as err:
        absences.record(officer(lf, "head.w1"), "land2.w1", "land.w1", today, today, "nghỉ")
    assert err.value.code == "deputy_absent"
