"""Signals per kind over time (engine/kpi_trends.py): counted from signals the engine itself recorded."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.kpi_trends import bucket_days, signal_trend
from engine.runtime import CommandRefused
from tests.conftest import local, officer


def test_bucket_length_follows_the_period() -> None:
    d = date(2026, 1, 1)
    assert bucket_days(d, d) == 1
    assert bucket_days(d, d + timedelta(days=30)) == 1
    assert bucket_days(d, d + timedelta(days=31)) == 7
    assert bucket_days(d, d + timedelta(days=200)) == 28


def test_signals_fall_in_the_local_day_they_were_recorded(small: Landflow, clock: FixedClock) -> None:
    rt = small.runtime
    st = rt.open(officer(small, "desk.w1"), "small_test", "W1", {"name": "A"})
    item = next(iter(st.open_items()))
    assert item.id is not None
    # Thursday 5 Feb 2026, 09:00 local: two refused claims by an officer of another commune
    for _ in range(2):
        with pytest.raises(CommandRefused):
            rt.claim(officer(small, "desk.c2"), item.id)
    # Friday 6 Feb, 06:30 local (23:30 UTC the day before): one transfer, one ping-pong back
    clock.set(local(2026, 2, 6, 6, 30))
    rt.transfer(officer(small, "desk.w1"), item.id, "không thuộc thẩm quyền", to_unit="C2")
    rt.transfer(officer(small, "desk.c2"), item.id, "trả lại", to_unit="W1")
    # Monday 9 Feb: another refused claim
    clock.set(local(2026, 2, 9, 14, 0))
    with pytest.raises(CommandRefused):
        rt.claim(officer(small, "land.w1"), item.id)

    with small.db.read() as s:
        daily = signal_trend(s, small.calendar.tz, date(2026, 2, 4), date(2026, 2, 10),
                             kinds=("unauthorised_attempt", "rerouted", "ping_pong"))
        weekly = signal_trend(s, small.calendar.tz, date(2026, 2, 2), date(2026, 2, 15),
                              kinds=("unauthorised_attempt", "rerouted"), days=7)
        narrow = signal_trend(s, small.calendar.tz, date(2026, 2, 6), date(2026, 2, 6))
    assert daily.days == 1 and daily.starts[0] == date(2026, 2, 4) and len(daily.starts) == 7
    assert daily.counts["unauthorised_attempt"] == [0, 2, 0, 0, 0, 1, 0]
    assert daily.counts["rerouted"] == [0, 0, 2, 0, 0, 0, 0]
    assert daily.counts["ping_pong"] == [0, 0, 1, 0, 0, 0, 0]
    assert weekly.counts == {"unauthorised_attempt": [2, 1], "rerouted": [2, 0]}
    assert narrow.total("rerouted") == 2 and narrow.total("unauthorised_attempt") == 0
