"""Small helpers shared by the pages: names of units, roles and officers; drawing a procedure; messages."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from engine.bootstrap import Landflow
from engine.org import Directory
from engine.runtime import CommandRefused

from ..auth import engine
from . import diagram
from .i18n import when
from .labels import REFUSAL, label
from .messages import Names, english, refusal_text


def lf() -> Landflow:
    return engine()


def directory() -> Directory:
    return engine().directory.get()


def unit_name(code: str | None) -> str:
    if not code:
        return ""
    unit = directory().units.get(code)
    return unit.name if unit is not None else code


def role_name(code: str | None) -> str:
    if not code:
        return ""
    role = directory().roles.get(code)
    if role is None:
        return code
    return role.name_en if str(get_locale()) == "en" and role.name_en else role.name_vi


def officer_name(username: str | None) -> str:
    if not username:
        return ""
    o = directory().officers.get(username)
    return f"{o.name} ({username})" if o is not None else username


def lane_labels(layout: diagram.Layout) -> dict[str, str]:
    return {lane: role_name(lane) for lane in diagram.lanes_in(layout)}


def draw(bpmn: str | bytes, *, highlight: diagram.Highlight | None = None, title: str = "", description: str = "",
         uid: str = "d", states: dict[str, str] | None = None, captions: dict[str, str] | None = None,
         ) -> Markup | None:
    """The procedure's diagram as SVG, or None when the file has no diagram to draw; `captions`: the
    fragment version each call activity runs (api/web/fragment_marks.py)."""
    layout = diagram.layout_of(bpmn, engine().settings.max_bpmn_bytes)
    if layout is None:
        return None
    return diagram.render(layout, highlight=highlight, lane_labels=lane_labels(layout), title=title,
                          description=description, uid=uid, states=states, captions=captions)


def names(step: Callable[[str | None], str] | None = None) -> Names:
    """How the engine's parameters are named on this page (messages.Names)."""
    return Names(unit_name, officer_name, step or (lambda s: s or ""), when, engine().calendar.day_minutes)


def refusal_message(err: CommandRefused) -> str:
    """What to tell the officer the engine refused: the meaning of its code (with its parameters when
    recorded); in English, then the engine's own words. A Vietnamese page never shows the English."""
    meaning = refusal_text(err.code, err.refusal.params, names())
    if english() and err.code != "stale_version":
        return f"{meaning} ({err.message})" if err.code in REFUSAL else err.message
    return meaning


def say(message: str, category: str = "info") -> None:
    flash(message, category)


def problems_of(err: CommandRefused) -> list[str]:
    return list(err.problems)


def deadline_label(status: str) -> str:
    from .labels import DEADLINE

    return label(DEADLINE, status)


def not_found_message() -> str:
    return _("This dossier does not exist or is not yours to read.")
