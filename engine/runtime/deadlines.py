"""Deadlines of work items and dossiers, in working time, with the clock paused when the law says.

The dossier clock pauses while a supplement is awaited from the applicant and while a step whose
`clock` is `paused` is open (public posting, tax determination, payment). When it runs again, the
dossier's deadlines move later by the working time that passed while it was paused. A supplement
pause also moves the open items' deadlines: nobody can work on a dossier the applicant holds.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from ..calendar import WorkingCalendar, parse_duration
from ..definitions.model import ProcedureMeta
from ..jsoncanon import iso, parse_iso
from ..store import CaseEventRow
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
    return cal.add(received, total_minutes(cal, limit, remote_extension, remote, days_spent))


def apology_open(cal: WorkingCalendar, due: datetime | None, at: datetime) -> bool:
    """May the holding unit apologise now? Only for a dossier due within one working day, or already
    late (Decree 118/2025: the late unit apologises at least one day before the deadline). Earlier, an
    apology would only move the appointment of a dossier nobody has shown to be late."""
    return due is not None and cal.between(at, due) <= cal.day_minutes


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
    awaited = dossier_fx.get("awaiting_paused", state.awaiting_paused)  # a `clock=paused` message (messages.py)
    should_pause = not finished and (supplement is not None or "paused" in open_clocks or awaited)
    if should_pause and paused_at is None:
        dossier_fx["paused_at"] = iso(at)
    elif not should_pause and paused_at is not None and state.paused_at is not None:
        lost = cal.between(state.paused_at, at)
        # A deadline this command already moved (a limit change) is the one the pause moves on from.
        due = parse_iso(dossier_fx["due_at"]) if dossier_fx.get("due_at") else state.due_at
        statutory = (parse_iso(dossier_fx["statutory_due_at"]) if dossier_fx.get("statutory_due_at")
                     else state.statutory_due_at)
        if due is not None:
            dossier_fx["due_at"] = iso(cal.add(due, lost))
        if statutory is not None:
            dossier_fx["statutory_due_at"] = iso(cal.add(statutory, lost))
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


# -- limits that depend on the dossier's data (`sla_<field>`) ----------------------------------------

def conditional_limits(meta: ProcedureMeta) -> dict[str, str]:
    """Process properties `sla_<field>`: the statutory limit when the bool form field `<field>` is true.

    `sla_setting` is not one of them (it names a setting). Certificate exchange: `sla_remeasured=P10D`.
    """
    return {name.removeprefix("sla_"): value for name, value in meta.properties.items()
            if name.startswith("sla_") and name != "sla_setting" and value}


def limit_for(meta: ProcedureMeta, base: str, data: dict[str, Any]) -> str:
    """The limit that applies to a dossier with this data: the longest `sla_<field>` whose field is true."""
    limit, best = base, None
    for name, value in conditional_limits(meta).items():
        length = parse_duration(value)
        key = (length.days, length.minutes)  # WorkDuration has no order: two true flags used to fail here
        if data.get(name) is True and (best is None or key > best):
            limit, best = value, key
    return limit


def total_minutes(cal: WorkingCalendar, limit: str, extension: str | None, remote: bool, days_spent: int) -> int:
    minutes = cal.minutes(limit)
    if remote and extension:
        minutes += cal.minutes(extension)
    return max(0, minutes - days_spent * cal.day_minutes)


def limit_change(cal: WorkingCalendar, meta: ProcedureMeta, base: str, extension: str | None,
                 state: DossierState, deducted_days: int, old: str, after: dict[str, Any],
                 fx_dossier: dict[str, Any]) -> dict[str, str] | None:
    """When a completion changes which limit applies, move the dossier's deadlines by the difference.

    `old` is the limit in force (recorded by the last event that set it: a step may be redone after a
    return, so the workflow's data is not the record of it).

    Moving by the difference (rather than recounting from the receipt) keeps the working time the
    dossier has already been paused. The apology date (`due_at` once apologised) is a promise to the
    applicant: it only moves later, never earlier than it was. Returns {"from", "to"} or None.
    """
    new = limit_for(meta, base, after)
    if old == new or state.statutory_due_at is None:
        return None
    delta = (total_minutes(cal, new, extension, state.remote, deducted_days)
             - total_minutes(cal, old, extension, state.remote, deducted_days))
    statutory = _shift(cal, state.statutory_due_at, delta)
    fx_dossier["statutory_due_at"] = iso(statutory)
    if state.due_at is not None:
        moved = _shift(cal, state.due_at, delta)
        fx_dossier["due_at"] = iso(max(moved, state.due_at) if state.apologised else moved)
    return {"from": old, "to": new}


def _shift(cal: WorkingCalendar, instant: datetime, minutes: int) -> datetime:
    if minutes >= 0:
        return cal.add(instant, minutes)
    return cal.subtract(instant, -minutes)


def limit_in_force(session: Session | Connection, dossier_id: int) -> str | None:
    """The limit the dossier's events last set: a `completed` event's `limit.to`, else the `opened` limit.

    Read only when a step's form holds an `sla_<field>` flag; scans back from the newest event.
    """
    rows = session.execute(select(CaseEventRow.type, CaseEventRow.payload).where(
        CaseEventRow.dossier_id == dossier_id, CaseEventRow.type.in_(("opened", "completed")))
        .order_by(CaseEventRow.seq.desc()))
    for etype, text in rows:
        payload = json.loads(text)
        if etype == "completed" and isinstance(payload.get("limit"), dict):
            return str(payload["limit"]["to"])
        if etype == "opened":
            return str(payload.get("limit")) if payload.get("limit") else None
    return None
