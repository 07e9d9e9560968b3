"""Language, dates and working-time phrases of the pages.

Vietnamese is the default; English is a switch (a cookie, `landflow_lang`). Texts are written in
English in the code and templates and translated by the catalogs under api/translations/ (Flask-
Babel; `make translations` extracts and compiles; the compiled .mo files are committed so that a
fresh clone works without a build step, and a test checks they match the .po files).

Dates are shown as officers write them, dd/mm/yyyy (and HH:mm), in LANDFLOW_TIMEZONE
(Asia/Ho_Chi_Minh), in both languages. Time left to a deadline is counted in working time on the
engine's calendar ("còn 2 ngày làm việc"), never in calendar days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import Flask, request
from flask_babel import Babel, format_datetime, format_decimal, format_percent, ngettext
from flask_babel import gettext as _

from config.settings import Settings
from engine.calendar import WorkingCalendar

LANGUAGES = ("vi", "en")
COOKIE = "landflow_lang"


def locale() -> str:
    chosen = request.cookies.get(COOKIE) if request else None
    return chosen if chosen in LANGUAGES else "vi"


def init_app(app: Flask, settings: Settings) -> None:
    app.config.update(BABEL_DEFAULT_LOCALE="vi", BABEL_DEFAULT_TIMEZONE=settings.timezone)
    Babel(app, locale_selector=locale)
    env = app.jinja_env
    env.filters.update(day=day, when=when, number=number, pct=pct, duration=duration)


def day(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "dd/MM/yyyy")
    return value.strftime("%d/%m/%Y")


def when(value: datetime | None) -> str:
    return format_datetime(value, "dd/MM/yyyy HH:mm") if value is not None else ""


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return format_decimal(value, format="#,##0" + ("." + "0" * digits if digits else ""))


def duration(text: str | None) -> str:
    """An ISO working-time duration (`P8D`, `PT4H`) in words: "8 ngày làm việc"."""
    from .common import lf
    from .messages import duration_phrase

    return duration_phrase(text, lf().calendar.day_minutes) if text else ""


def pct(value: float | None) -> str:
    return "—" if value is None else format_percent(value, format="#,##0.0%")


@dataclass(frozen=True)
class TimeLeft:
    status: str   # overdue | due_soon | on_time | none
    phrase: str   # "còn 2 ngày làm việc", "quá hạn 3 giờ làm việc"


def working_phrase(minutes: int, day_minutes: int) -> str:
    days, rest = divmod(minutes, day_minutes)
    if days:
        return ngettext("%(num)s working day", "%(num)s working days", days)
    hours = rest // 60
    if hours:
        return ngettext("%(num)s working hour", "%(num)s working hours", hours)
    return ngettext("%(num)s working minute", "%(num)s working minutes", rest)


def time_left(calendar: WorkingCalendar, due: datetime | None, now: datetime, due_soon_minutes: int,
              finished_at: datetime | None = None) -> TimeLeft:
    """Where a deadline stands: for finished work, whether it was met; else how much working time is left."""
    if due is None:
        return TimeLeft("none", "")
    if finished_at is not None:
        if finished_at <= due:
            return TimeLeft("on_time", _("finished on time"))
        return TimeLeft("overdue", _("finished %(late)s late",
                                     late=working_phrase(calendar.between(due, finished_at), calendar.day_minutes)))
    if due <= now:
        late = calendar.between(due, now)
        if late == 0:
            return TimeLeft("overdue", _("deadline reached"))
        return TimeLeft("overdue", _("%(late)s overdue", late=working_phrase(late, calendar.day_minutes)))
    left = calendar.between(now, due)
    status = "due_soon" if left <= due_soon_minutes else "on_time"  # as the sweep's `due_soon` notice counts
    if left == 0:
        return TimeLeft(status, _("due at the start of the next working period"))
    return TimeLeft(status, _("%(left)s left", left=working_phrase(left, calendar.day_minutes)))
