"""The delay of late items attributed to the applicant, another agency, the holder, or an incident."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from engine.bootstrap import Landflow
from engine.calendar import WorkingCalendar
from engine.clock import FixedClock
from engine.delay_causes import LateItem, attribute, delay_causes
from engine.kpi_facts import refresh_item_facts
from tests.conftest import local, officer

DAY = 480  # working minutes of a day (07:30-11:30, 13:00-17:00)


def step(lf: Landflow, clock: FixedClock, duration: str) -> None:
    clock.set(lf.calendar.add(clock.now(), duration))


def to_verify(lf: Landflow) -> tuple[int, int]:
    rt = lf.runtime
    st = rt.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "Lê Văn C"})
    st = rt.complete(officer(lf, "desk.w1"), next(iter(st.open_items())).id, {"complete": True})
    return st.id, next(iter(st.open_items())).id


def report(lf: Landflow, group_by: str) -> dict[str, dict[str, object]]:
    now = lf.clock.now()
    refresh_item_facts(lf.db, lf.calendar, now)
    with lf.db.read() as s:
        rows, _items = delay_causes(s, lf.calendar, group_by, now - timedelta(days=120), now + timedelta(days=1), now)
    return {r.key: r.as_dict() for r in rows}


def test_supplement_time_is_the_applicants_and_the_excess_the_officers(small: Landflow, clock: FixedClock) -> None:
    lf = small
    rt = lf.runtime
    _did, item = to_verify(lf)
    step(lf, clock, "P1D")
    rt.request_supplement(officer(lf, "land.w1"), item, "thiếu bản sao căn cước")
    step(lf, clock, "P3D")
    rt.receive_supplement(officer(lf, "desk.w1"), _did, "đã nhận")
    step(lf, clock, "P2D")
    rt.complete(officer(lf, "land.w1"), item, {"eligible": False, "area": 50, "note": "không đủ điều kiện"})
    row = report(lf, "officer")["land.w1"]
    # 6 working days used of a 2-day limit: 4 days late; 3 were the applicant's, 1 the officer's excess
    assert (row["late_items"], row["delay_minutes"]) == (1, 4 * DAY)
    assert (row["applicant_minutes"], row["officer_unit_minutes"], row["other_agency_minutes"],
            row["procedure_incident_minutes"]) == (3 * DAY, DAY, 0, 0)
    assert (row["applicant_share"], row["officer_unit_share"]) == (0.75, 0.25)
    assert report(lf, "unit")["W1"]["delay_minutes"] == 4 * DAY


def test_a_late_paused_step_is_another_agencys(small: Landflow, clock: FixedClock) -> None:
    lf = small
    rt = lf.runtime
    did, item = to_verify(lf)
    st = rt.complete(officer(lf, "land.w1"), item, {"eligible": True, "area": 50})
    post = next(iter(st.open_items()))
    assert post.step == "post"
    step(lf, clock, "P16D")
    rt.complete(officer(lf, "land.w1"), post.id, {})
    row = report(lf, "officer")["land.w1"]
    assert row["delay_minutes"] == DAY and row["other_agency_minutes"] == DAY and row["officer_unit_minutes"] == 0


def test_on_time_items_are_not_counted(small: Landflow, clock: FixedClock) -> None:
    lf = small
    _did, item = to_verify(lf)
    step(lf, clock, "P1D")
    lf.runtime.complete(officer(lf, "land.w1"), item, {"eligible": False, "area": 50, "note": "không đủ điều kiện"})
    assert "land.w1" not in report(lf, "officer")


def test_the_split_of_an_incident_and_a_parallel_paused_step() -> None:
    """The pure attribution: incident time and a paused step open beside the item are excused."""
    cal = WorkingCalendar.from_settings("07:30-11:30,13:00-17:00", "Asia/Ho_Chi_Minh", Path("/nonexistent"))
    start = local(2026, 3, 2, 7, 30)  # a Monday
    end = cal.add(start, "P5D")
    item = LateItem(1, 1, "verify", "W1", "land.w1", start, end, 2 * DAY, 5 * DAY, False)
    incident = (cal.add(start, "P1D"), cal.add(start, "P2D"))
    paused = (cal.add(start, "P2D"), cal.add(start, "P3D"))
    attribute(cal, item, [], [incident], [paused])
    assert item.minutes == {"applicant": 0, "other_agency": DAY, "officer_unit": 3 * DAY, "procedure_incident": DAY}
    # delay 3 days: the holder's excess (3 - 2 = 1 day), the rest shared by incident and agency
    assert item.delay == {"applicant": 0, "other_agency": DAY, "officer_unit": DAY, "procedure_incident": DAY}
    assert sum(item.delay.values()) == item.delay_minutes


def test_an_absent_officers_idle_days_stay_theirs(small: Landflow, clock: FixedClock) -> None:
    """Claimed by land.w1, idle 3 working days (1 beyond the 2-day limit), then land.w1 is absent and
    the item goes to land2.w1, who finishes in 1 day: each is charged their own day beyond the limit."""
    from engine.absences import Absences

    lf = small
    _did, item = to_verify(lf)
    lf.runtime.claim(officer(lf, "land.w1"), item)
    step(lf, clock, "P3D")
    today = clock.now().astimezone(lf.calendar.tz).date()
    Absences(lf).record(officer(lf, "head.w1"), "land.w1", "land2.w1", today, today + timedelta(days=3), "ốm")
    step(lf, clock, "P1D")
    lf.runtime.complete(officer(lf, "land2.w1"), item, {"eligible": False, "area": 50, "note": "không đủ điều kiện"})
    rows = report(lf, "officer")
    assert (rows["land.w1"]["officer_unit_minutes"], rows["land.w1"]["late_items"]) == (DAY, 1)
    assert (rows["land2.w1"]["officer_unit_minutes"], rows["land2.w1"]["late_items"]) == (DAY, 1)
    assert report(lf, "unit")["W1"]["officer_unit_minutes"] == 2 * DAY
