"""Working-time arithmetic against dates worked out by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine.calendar import CalendarData, DurationError, WorkingCalendar, parse_duration
from tests.conftest import local


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar(data=CalendarData(makeup_working_days=frozenset({date(2026, 2, 7)}),
                                             extra_days_off=frozenset({date(2026, 3, 9)})))


def test_durations() -> None:
    assert parse_duration("P3D").days == 3
    assert parse_duration("PT4H").minutes == 240
    assert (parse_duration("P1DT2H30M").days, parse_duration("P1DT2H30M").minutes) == (1, 150)
    assert parse_duration("P2W").days == 10
    for bad in ("P1Y", "P1M", "PT1S", "3D", "P", "PT", "", "P-1D", "P99999D"):
        with pytest.raises(DurationError):
            parse_duration(bad)


def test_working_days(cal: WorkingCalendar) -> None:
    assert not cal.is_working_day(date(2026, 2, 17))  # Tết (holidays package)
    assert not cal.is_working_day(date(2026, 2, 14))  # Saturday
    assert cal.is_working_day(date(2026, 2, 7))  # make-up Saturday (config)
    assert not cal.is_working_day(date(2026, 3, 9))  # extra day off (config)
    assert cal.is_working_day(date(2026, 8, 22))  # make-up Saturday known to the package
    assert not cal.is_working_day(date(2026, 4, 30)) and not cal.is_working_day(date(2026, 9, 2))
    assert cal.working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2  # Fri 13 and Mon 23


def test_add_across_tet_and_extra_day_off(cal: WorkingCalendar) -> None:
    assert cal.add(local(2026, 2, 13, 10, 0), "P1D") == local(2026, 2, 23, 10, 0)
    assert cal.add(local(2026, 3, 6, 16, 0), "PT2H") == local(2026, 3, 10, 8, 30)  # Mon 9 is off
    assert cal.add(local(2026, 2, 14, 12, 0), "PT1H") == local(2026, 2, 23, 8, 30)  # weekend + Tết
    # exactly a day's end: stays on the earlier day at 17:00
    assert cal.add(local(2026, 2, 12, 7, 30), "P1D") == local(2026, 2, 12, 17, 0)
    # lunch break is not working time
    assert cal.add(local(2026, 2, 12, 11, 0), "PT1H") == local(2026, 2, 12, 13, 30)


def test_between_is_the_inverse_of_add(cal: WorkingCalendar) -> None:
    start = local(2026, 2, 5, 15, 0)
    for minutes in (0, 30, 240, 480, 1000, 5550, 9000):
        end = cal.add(start, minutes)
        assert cal.between(start, end) == minutes
    assert cal.between(local(2026, 2, 6, 15, 0), local(2026, 3, 2, 10, 0)) == 5550


def test_calendar_file(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text('makeup_working_days = [2027-01-09, {date = 2027-01-16, source = "x"}]\nextra_days_off = []\n')
    data = CalendarData.load(p)
    assert data.makeup_working_days == frozenset({date(2027, 1, 9), date(2027, 1, 16)})


def test_subtract_goes_back_in_working_time(cal: WorkingCalendar) -> None:
    # Mon 23 Feb 09:00 back 5 working days: Fri 13 (1), Thu 12 (2), Wed 11 (3), Tue 10 (4), Mon 9 (5) → Mon 9 09:00
    # (Tết 16-20 Feb skipped).
    assert cal.subtract(local(2026, 2, 23, 9, 0), "P5D") == local(2026, 2, 9, 9, 0)
    # Mon 9 Feb 08:00 back 1 h: 0.5 h on Monday morning, then Saturday 7 (make-up) from 17:00 → 16:30.
    assert cal.subtract(local(2026, 2, 9, 8, 0), "PT1H") == local(2026, 2, 7, 16, 30)
    # Back over the lunch break: 14:00 - 2 h = 1 h after lunch + 1 h before → 10:30.
    assert cal.subtract(local(2026, 2, 5, 14, 0), "PT2H") == local(2026, 2, 5, 10, 30)
    assert cal.add(cal.subtract(local(2026, 3, 5, 15, 0), 2437), 2437) == local(2026, 3, 5, 15, 0)


def test_no_working_time_leaves_the_end_of_a_period_where_it_is(cal: WorkingCalendar) -> None:
    """Issue 12, defect 4: an appointment at 16/12 17:00 moved to 17/12 07:30 though no working time passed."""
    for end_of_period in (local(2026, 12, 16, 17, 0), local(2026, 12, 16, 11, 30), local(2026, 2, 7, 17, 0)):
        assert cal.add(end_of_period, 0) == end_of_period
        assert cal.add(end_of_period, "PT0M") == end_of_period
    # a pause on a Sunday: no working time between its start and its end, nothing moves
    lost = cal.between(local(2026, 12, 13, 9, 0), local(2026, 12, 13, 15, 0))
    assert lost == 0 and cal.add(local(2026, 12, 16, 17, 0), lost) == local(2026, 12, 16, 17, 0)
    # working time does move it, from the next period on
    assert cal.add(local(2026, 12, 16, 17, 0), 1) == local(2026, 12, 17, 7, 31)
    assert cal.add(local(2026, 12, 16, 11, 30), 30) == local(2026, 12, 16, 13, 30)
    # the start of a period, going back by nothing, stays too; zero from outside office hours is unchanged
    assert cal.subtract(local(2026, 12, 17, 7, 30), 0) == local(2026, 12, 17, 7, 30)
    assert cal.subtract(local(2026, 12, 17, 13, 0), 0) == local(2026, 12, 17, 13, 0)
    assert cal.add(local(2026, 12, 13, 10, 0), 0) == local(2026, 12, 14, 7, 30)  # Sunday → Monday's start
    assert cal.add(local(2026, 12, 16, 12, 0), 0) == local(2026, 12, 16, 13, 0)  # lunch → the afternoon
