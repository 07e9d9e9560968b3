"""Accountability signals over time: how many of each kind fell in each period of a report.

The KPI dashboard draws them as stacked columns (one per week, or per day for short periods). One
grouped query: the bucket is a CASE over the bucket boundaries (portable to SQLite and PostgreSQL,
no date functions), restricted to the report's period and to the kinds asked for, so the
(kind, at) index of `signal` serves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from .accountability import KINDS
from .store import SignalRow


@dataclass
class SignalTrend:
    starts: list[date]                 # first local day of each bucket
    days: int                          # bucket length in calendar days
    counts: dict[str, list[int]] = field(default_factory=dict)  # kind -> count per bucket

    def total(self, kind: str) -> int:
        return sum(self.counts.get(kind, ()))


def bucket_days(first: date, last: date) -> int:
    """Days per bucket: one day up to a month, a week up to half a year, four weeks beyond."""
    span = (last - first).days + 1
    return 1 if span <= 31 else 7 if span <= 184 else 28


def signal_trend(session: Session, tz: ZoneInfo, first: date, last: date, kinds: tuple[str, ...] = KINDS,
                 days: int | None = None, unit: str | None = None) -> SignalTrend:
    """Signals per kind per bucket, for the local days first..last (inclusive); of one unit if named."""
    if last < first:
        raise ValueError("the period must end on or after its first day")
    step = days or bucket_days(first, last)
    starts: list[date] = []
    d = first
    while d <= last:
        starts.append(d)
        d += timedelta(days=step)
    edges = [datetime.combine(s, time(0), tz) for s in starts] + [datetime.combine(last + timedelta(days=1),
                                                                                   time(0), tz)]
    bucket: ColumnElement[int] = case(*((SignalRow.at < edges[i + 1], i) for i in range(len(starts))),
                                      else_=len(starts))
    q = (select(SignalRow.kind, bucket, func.count())
         .where(SignalRow.kind.in_(kinds), SignalRow.at >= edges[0], SignalRow.at < edges[-1])
         .group_by(SignalRow.kind, bucket))
    if unit is not None:
        q = q.where(SignalRow.unit == unit)
    trend = SignalTrend(starts, step, {k: [0] * len(starts) for k in kinds})
    for kind, index, n in session.execute(q):
        if 0 <= index < len(starts):
            trend.counts[kind][index] += int(n)
    return trend
