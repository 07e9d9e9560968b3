"""Working minutes counted from an origin, both ways, without walking the calendar from the origin
on every call (`WorkingCalendar.add` and `between` walk day by day: over a 6-month window, thousands
of calls cost seconds). The minutes before each local midnight are cached as the axis grows."""

from __future__ import annotations

from bisect import bisect_left
from datetime import date, datetime, time, timedelta

from ..calendar import WorkingCalendar


class WorkingAxis:
    def __init__(self, calendar: WorkingCalendar, origin: datetime):
        self.cal, self.origin = calendar, origin
        self.first = origin.astimezone(calendar.tz).date()
        self.before: list[int] = [0]  # working minutes from the origin to the start of day first + k

    def _midnight(self, k: int) -> datetime:
        return max(self.origin, datetime.combine(self.first + timedelta(days=k), time(0), self.cal.tz))

    def _grow(self, k: int) -> None:
        while len(self.before) <= k:
            n = len(self.before)
            self.before.append(self.before[-1] + self.cal.between(self._midnight(n - 1), self._midnight(n)))

    def _index(self, day: date) -> int:
        return (day - self.first).days

    def minute_of(self, instant: datetime) -> int:
        """Working minutes from the origin to `instant` (0 before it): `calendar.between`."""
        if instant <= self.origin:
            return 0
        k = self._index(instant.astimezone(self.cal.tz).date())
        self._grow(k)
        return self.before[k] + self.cal.between(self._midnight(k), instant)

    def instant_of(self, minute: int) -> datetime:
        """The instant `minute` working minutes after the origin: `calendar.add(origin, minute)`."""
        while self.before[-1] < minute:
            self._grow(len(self.before) + 30)
        self._grow(len(self.before))  # one day past, so the day the minute falls in has a successor
        k = max(0, bisect_left(self.before, minute) - 1)
        return self.cal.add(self._midnight(k), minute - self.before[k])
