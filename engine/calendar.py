"""Working-time arithmetic: the clock the law counts deadlines in.

Deadlines are in working days of the Vietnamese civil service: Monday to Friday, minus public
holidays (from the `holidays` package), plus make-up working Saturdays and minus extra days off
from config. A working day is the office periods of LANDFLOW_OFFICE_HOURS (default 8 hours); a
duration `P3D` is three working days of working time, so a dossier received on Monday at 10:00 with
three days is due on Thursday at 10:00, and one received on Saturday is due as if received at the
start of Monday. All arithmetic is in local time (Asia/Ho_Chi_Minh); instants in and out are UTC.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?)?$"
)
MAX_DURATION_DAYS = 3650  # a step of more than ten working years is a typo, not a limit


class DurationError(ValueError):
    """A duration that is not working time (years, months, seconds) or not ISO-8601."""


@dataclass(frozen=True)
class WorkDuration:
    """Working time: whole working days plus minutes."""

    days: int = 0
    minutes: int = 0

    def total_minutes(self, day_minutes: int) -> int:
        return self.days * day_minutes + self.minutes

    def __str__(self) -> str:
        hours, minutes = divmod(self.minutes, 60)
        t = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
        return "P" + (f"{self.days}D" if self.days or not t else "") + (f"T{t}" if t else "")


def parse_duration(text: str) -> WorkDuration:
    """`P3D`, `PT4H`, `P1DT4H`, `PT30M`, `P1W` (five working days). Years and months are refused."""
    if not isinstance(text, str):
        raise DurationError("a duration must be text like P3D or PT4H")
    m = _DURATION.match(text.strip())
    if not m or text.strip() in ("P", "PT"):
        raise DurationError(
            f"{text!r} is not a working-time duration (use P<n>D, PT<n>H, PT<n>M, P<n>W; "
            "years, months and seconds are not working time)"
        )
    parts = {k: int(v) if v else 0 for k, v in m.groupdict().items()}
    days = parts["weeks"] * 5 + parts["days"]
    minutes = parts["hours"] * 60 + parts["minutes"]
    if days + minutes // (24 * 60) > MAX_DURATION_DAYS:
        raise DurationError(f"{text!r} is longer than {MAX_DURATION_DAYS} working days")
    return WorkDuration(days, minutes)


def parse_office_hours(text: str) -> tuple[tuple[time, time], ...]:
    periods: list[tuple[time, time]] = []
    for part in text.split(","):
        start_s, _, end_s = part.strip().partition("-")
        start, end = time.fromisoformat(start_s.strip()), time.fromisoformat(end_s.strip())
        if end <= start:
            raise ValueError(f"office period {part!r} ends before it starts")
        if periods and start < periods[-1][1]:
            raise ValueError("office periods must be in order and not overlap")
        periods.append((start, end))
    if not periods:
        raise ValueError("no office periods")
    return tuple(periods)


@dataclass(frozen=True)
class CalendarData:
    makeup_working_days: frozenset[date] = frozenset()
    extra_days_off: frozenset[date] = frozenset()
    cancelled_days_off: frozenset[date] = frozenset()

    @classmethod
    def load(cls, path: Path) -> CalendarData:
        if not path.exists():
            return cls()
        data = tomllib.loads(path.read_text(encoding="utf-8"))

        def dates(key: str) -> frozenset[date]:
            out = set()
            for item in data.get(key, []):
                value = item["date"] if isinstance(item, dict) else item
                out.add(value if isinstance(value, date) else date.fromisoformat(str(value)))
            return frozenset(out)

        return cls(dates("makeup_working_days"), dates("extra_days_off"), dates("cancelled_days_off"))


@dataclass
class WorkingCalendar:
    """Working days and working time. Pure: no wall clock, no database."""

    office_hours: tuple[tuple[time, time], ...] = ((time(7, 30), time(11, 30)), (time(13, 0), time(17, 0)))
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    data: CalendarData = field(default_factory=CalendarData)

    def __post_init__(self) -> None:
        self._holiday_cache: dict[int, holidays.HolidayBase] = {}
        self._is_working = lru_cache(maxsize=8192)(self._compute_working)
        # a day's office periods as aware datetimes: every new work item's deadline walks a few days of
        # them, and building them (combine + zone) was most of the cost of `add`
        self._day_periods = lru_cache(maxsize=8192)(self._compute_periods)

    @classmethod
    def from_settings(cls, office_hours: str, timezone_name: str, calendar_file: Path) -> WorkingCalendar:
        return cls(parse_office_hours(office_hours), ZoneInfo(timezone_name), CalendarData.load(calendar_file))

    @property
    def day_minutes(self) -> int:
        return sum(_minutes(e) - _minutes(s) for s, e in self.office_hours)

    def minutes(self, duration: WorkDuration | str) -> int:
        d = parse_duration(duration) if isinstance(duration, str) else duration
        return d.total_minutes(self.day_minutes)

    # -- days -----------------------------------------------------------------------------------
    def _holidays(self, year: int) -> holidays.HolidayBase:
        h = self._holiday_cache.get(year)
        if h is None:
            h = holidays.country_holidays("VN", years=year)
            self._holiday_cache[year] = h
        return h

    def _compute_working(self, day: date) -> bool:
        if day in self.data.extra_days_off:
            return False
        h = self._holidays(day.year)
        if day in self.data.makeup_working_days or day in getattr(h, "weekend_workdays", ()):
            return True
        if day in h and day not in self.data.cancelled_days_off:
            return False
        return day.weekday() < 5

    def is_working_day(self, day: date) -> bool:
        return self._is_working(day)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in [start, end)."""
        n, d = 0, start
        while d < end:
            n += self.is_working_day(d)
            d += timedelta(days=1)
        return n

    # -- instants -------------------------------------------------------------------------------
    def _local(self, instant: datetime) -> datetime:
        if instant.tzinfo is None:
            raise ValueError("instants must be timezone-aware")
        return instant.astimezone(self.tz)

    def _compute_periods(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        if not self.is_working_day(day):
            return ()
        return tuple(
            (datetime.combine(day, s, self.tz), datetime.combine(day, e, self.tz)) for s, e in self.office_hours
        )

    def _periods(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        return self._day_periods(day)

    def add(self, start: datetime, duration: WorkDuration | str | int) -> datetime:
        """The instant when `duration` of working time has elapsed after `start`.

        Zero time from the end of an office period is that instant (a deadline at 17:00 shifted by a
        pause in which no working time passed stays at 17:00); zero time from outside office hours is
        the start of the next period (a dossier received on Sunday counts from Monday 07:30).
        """
        remaining = duration if isinstance(duration, int) else self.minutes(duration)
        if remaining < 0:
            raise ValueError("negative duration")
        local = self._local(start)
        day = local.date()
        for _ in range(MAX_DURATION_DAYS * 3):
            for p_start, p_end in self._periods(day):
                if local >= p_end:
                    if remaining == 0 and local == p_end:
                        return start.astimezone(UTC)  # no working time passes: the end of a period stays put
                    continue
                begin = max(local, p_start)
                available = int((p_end - begin).total_seconds() // 60)
                if remaining <= available:
                    if remaining == 0 and begin == p_start and local < p_start:
                        # Zero time from outside office hours: the next period's start.
                        return begin.astimezone(UTC)
                    return (begin + timedelta(minutes=remaining)).astimezone(UTC)
                remaining -= available
            day += timedelta(days=1)
            local = datetime.combine(day, time(0), self.tz)
        raise ValueError("duration runs beyond the calendar's horizon")

    def subtract(self, end: datetime, duration: WorkDuration | str | int) -> datetime:
        """The instant `duration` of working time before `end` (the inverse of `add`)."""
        remaining = duration if isinstance(duration, int) else self.minutes(duration)
        if remaining < 0:
            raise ValueError("negative duration")
        local = self._local(end)
        day = local.date()
        for _ in range(MAX_DURATION_DAYS * 3):
            for p_start, p_end in reversed(self._periods(day)):
                if local <= p_start:
                    if remaining == 0 and local == p_start:
                        return end.astimezone(UTC)  # as in `add`: the start of a period stays put
                    continue
                stop = min(local, p_end)
                available = int((stop - p_start).total_seconds() // 60)
                if remaining <= available:
                    return (stop - timedelta(minutes=remaining)).astimezone(UTC)
                remaining -= available
            day -= timedelta(days=1)
            local = datetime.combine(day, time(23, 59, 59), self.tz)
        raise ValueError("duration runs beyond the calendar's horizon")

    def add_days_end(self, start: datetime, days: int) -> datetime:
        """End of the `days`-th working day after start's day (appointment-date style)."""
        day = self._local(start).date()
        n = 0
        while n < days:
            day += timedelta(days=1)
            n += self.is_working_day(day)
        return datetime.combine(day, self.office_hours[-1][1], self.tz).astimezone(UTC)

    def between(self, start: datetime, end: datetime) -> int:
        """Working minutes elapsed from start to end (0 when end <= start)."""
        if end <= start:
            return 0
        a, b = self._local(start), self._local(end)
        total = 0
        day = a.date()
        while day <= b.date():
            for p_start, p_end in self._periods(day):
                lo, hi = max(a, p_start), min(b, p_end)
                if hi > lo:
                    total += int((hi - lo).total_seconds() // 60)
            day += timedelta(days=1)
        return total

    def working_days(self, minutes: int) -> float:
        return minutes / self.day_minutes


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute
