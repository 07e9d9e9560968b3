"""What the organisation actually did in a window: the dossiers, their data, step durations, capacity.

Everything is read from the recorded projections and the event log (never from a model): work items
give the durations (claimed -> done, or created -> done when the officer completed without claiming
first) and who did them; `opened` and `completed` events give each dossier's data and branch choices.
Times are kept as working minutes counted from the window's start on the working calendar, so the
simulation runs in the same clock the law counts deadlines in.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..calendar import WorkingCalendar
from ..store import CaseEventRow, DossierRow, WorkItemRow
from .axis import WorkingAxis


@dataclass
class Case:
    """One dossier received in the window, as recorded."""

    id: int
    code: str
    received_at: datetime
    arrival: int  # working minutes after the window's start
    commune: str | None
    desk_unit: str
    remote: bool
    applicant: dict[str, Any]
    parcel: dict[str, Any]
    opening: dict[str, Any] = field(default_factory=dict)  # the `opened` event's data
    steps: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # step -> data of each completion
    units: dict[str, str] = field(default_factory=dict)  # step -> unit that owned it last

    def merged(self) -> dict[str, Any]:
        """Every value the dossier's history recorded (a later completion wins)."""
        out = dict(self.opening)
        for entries in self.steps.values():
            for data in entries:
                out.update(data)
        return out


@dataclass
class Observed:
    key: str
    start: datetime
    end: datetime
    cases: list[Case] = field(default_factory=list)
    durations: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # (step, unit) -> minutes
    by_step: dict[str, list[int]] = field(default_factory=dict)
    # message catch event -> working minutes each recorded wait lasted (the start: the event whose effects
    # made the dossier wait on it; the end: its `message_received`)
    waits: dict[str, list[int]] = field(default_factory=dict)
    capacity: dict[str, int] = field(default_factory=dict)  # unit -> items it worked on at once
    officers: dict[str, int] = field(default_factory=dict)  # unit -> officers active in the window


def _chunks(values: list[int], size: int = 500) -> list[list[int]]:
    return [values[i:i + size] for i in range(0, len(values), size)]


def observe(session: Session, calendar: WorkingCalendar, key: str, start: datetime, end: datetime) -> Observed:
    """The window [start, end) of procedure `key`, whatever version the dossiers ran."""
    obs = Observed(key, start, end)
    D = DossierRow
    rows = session.execute(select(D.id, D.code, D.received_at, D.commune, D.desk_unit, D.remote, D.applicant,
                                  D.parcel)
                           .where(D.procedure == key, D.received_at >= start, D.received_at < end)
                           .order_by(D.received_at, D.id)).all()
    by_id: dict[int, Case] = {}
    axis = WorkingAxis(calendar, start)
    for r in rows:
        case = Case(r.id, r.code, r.received_at, axis.minute_of(r.received_at), r.commune, r.desk_unit,
                    bool(r.remote), json.loads(r.applicant or "{}"), json.loads(r.parcel or "{}"))
        obs.cases.append(case)
        by_id[r.id] = case
    E = CaseEventRow
    for ids in _chunks(list(by_id)):
        began: dict[tuple[int, str], datetime] = {}  # (dossier, message event) -> when it started waiting
        for ev in session.execute(select(E.dossier_id, E.type, E.step, E.unit, E.payload, E.at)
                                  .where(E.dossier_id.in_(ids)).order_by(E.dossier_id, E.seq)):
            payload = json.loads(ev.payload)
            case = by_id[ev.dossier_id]
            awaiting = ((payload.get("fx") or {}).get("dossier") or {}).get("awaiting") if isinstance(
                payload, dict) else None
            for node in (awaiting or "").split(","):
                if node:
                    began.setdefault((ev.dossier_id, node), ev.at)
            if ev.type == "opened":
                case.opening = dict(payload.get("data") or {})
            elif ev.type == "completed" and ev.step:
                case.steps.setdefault(ev.step, []).append(
                    {**(payload.get("data") or {}), **(payload.get("derived") or {})})
            elif ev.type == "message_received":
                node = str(payload.get("element", ""))
                case.steps.setdefault(node, []).append(dict(payload.get("data") or {}))
                start_at = began.pop((ev.dossier_id, node), None)
                if start_at is not None:
                    obs.waits.setdefault(node, []).append(max(0, calendar.between(start_at, ev.at)))
    _durations(session, calendar, obs, key, start, end, by_id)
    return obs


def _durations(session: Session, calendar: WorkingCalendar, obs: Observed, key: str, start: datetime,
               end: datetime, cases: dict[int, Case]) -> None:
    W = WorkItemRow
    q = (select(W.dossier_id, W.step, W.unit, W.created_at, W.claimed_at, W.done_at, W.done_by)
         .join(DossierRow, DossierRow.id == W.dossier_id)
         .where(DossierRow.procedure == key, W.outcome == "completed", W.done_at >= start, W.done_at < end)
         .order_by(W.done_at, W.id))
    busy: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)  # officer -> claimed periods
    unit_of: dict[str, str] = {}
    for r in session.execute(q):
        unit = r.unit or "-"
        began = r.claimed_at if r.claimed_at is not None and r.claimed_at < r.done_at else r.created_at
        minutes = max(0, calendar.between(began, r.done_at))
        obs.durations.setdefault((r.step, unit), []).append(minutes)
        obs.by_step.setdefault(r.step, []).append(minutes)
        if r.dossier_id in cases:
            cases[r.dossier_id].units[r.step] = unit
        if r.done_by:
            busy[r.done_by].append((began, r.done_at))
            unit_of[r.done_by] = unit
    per_unit: dict[str, list[int]] = defaultdict(list)
    for who, periods in busy.items():
        per_unit[unit_of[who]].append(_most_at_once(periods))
    for unit, counts in per_unit.items():
        obs.officers[unit] = len(counts)
        obs.capacity[unit] = sum(counts)


def _most_at_once(periods: list[tuple[datetime, datetime]]) -> int:
    """The most items one officer had in hand at the same instant (at least one)."""
    marks = sorted([(a, 1) for a, _b in periods] + [(b, -1) for _a, b in periods], key=lambda m: (m[0], m[1]))
    now = best = 0
    for _at, delta in marks:
        now += delta
        best = max(best, now)
    return max(1, best)
