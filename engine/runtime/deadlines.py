"""Deadlines of work items and dossiers, in working time, with the clock paused when the law says.

The dossier clock pauses while a supplement is awaited from the applicant and while a step whose
`clock` is `paused` is open (public posting, tax determination, payment). When it runs again, the
dossier's deadlines move later by the working time that passed while it was paused. A supplement
pause also moves the open items' deadlines: nobody can work on a dossier the applicant holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..calendar import WorkingCalendar, parse_duration
from ..definitions.model import ProcedureMeta
from ..jsoncanon import iso
from .state import DossierState


def procedure_limit(meta: ProcedureMeta, overrides: dict[str, str]) -> str:
    """The statutory limit, unless configuration sets it (e.g. mortgage registration)."""
    for key in (meta.sla_setting, meta.key):
        if key and key in overrides:
            parse_duration(overrides[key])
            return overrides[key]
    if not meta.sla:
        raise ValueError(f"procedure {meta.key} has no sla")
    return meta.sla


def dossier_due(cal: WorkingCalendar, received: datetime, limit: str, remote_extension: str | None,
                remote: bool, days_spent: int = 0) -> datetime:
    minutes = cal.minutes(limit)
    if remote and remote_extension:
        minutes += cal.minutes(remote_extension)
    minutes = max(0, minutes - days_spent * cal.day_minutes)
    return cal.add(received, minutes)


def reconcile_clock(cal: WorkingCalendar, state: DossierState, at: datetime, fx: dict[str, Any]) -> None:
    """Pause or resume the dossier clock after a command; adds the changes to `fx`.

    Reads the state as it will be after the command (callers fold `fx` into a copy first, or pass
    the flags explicitly through `fx['dossier']`).
    """
    dossier_fx = fx.setdefault("dossier", {})
    supplement = dossier_fx.get("supplement_since", iso(state.supplement_since) if state.supplement_since else None)
    paused_at = dossier_fx.get("paused_at", iso(state.paused_at) if state.paused_at else None)
    open_clocks = _open_clocks(state, fx)
    finished = dossier_fx.get("status", state.status) in ("done", "stopped", "cancelled")
    should_pause = not finished and (supplement is not None or "paused" in open_clocks)
    if should_pause and paused_at is None:
        dossier_fx["paused_at"] = iso(at)
    elif not should_pause and paused_at is not None and state.paused_at is not None:
        lost = cal.between(state.paused_at, at)
        if state.due_at is not None:
            dossier_fx["due_at"] = iso(cal.add(state.due_at, lost))
        if state.statutory_due_at is not None:
            dossier_fx["statutory_due_at"] = iso(cal.add(state.statutory_due_at, lost))
        dossier_fx["paused_at"] = None


def _open_clocks(state: DossierState, fx: dict[str, Any]) -> list[str]:
    clocks = []
    changes = fx.get("items", {})
    for item in state.items.values():
        new_state = changes.get(str(item.ordinal), {}).get("state", item.state)
        if new_state in ("ready", "claimed"):
            clocks.append(item.clock)
    for new in fx.get("new", []):
        clocks.append(new["clock"])
    return clocks
