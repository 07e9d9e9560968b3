"""A dossier's projected state, and the one function that changes it: folding an event's effects.

Every event records its effects (`fx`): items created, item fields changed, dossier fields changed,
with every instant and unit already decided. Live commands and replay both fold the same effects
with `apply_effects`, so the projection tables are, by construction, a function of the event log —
and `verify` can recompute them and compare.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from ..events import Event, item_of
from ..jsoncanon import iso, parse_iso

OPEN_STATES = ("ready", "claimed")
ITEM_FIELDS = ("step", "name", "role", "unit", "assignee", "state", "clock", "sla", "created_at", "due_at",
               "claimed_at", "done_at", "done_by", "outcome", "trail", "last_activity_at")
ITEM_TIMES = {"created_at", "due_at", "claimed_at", "done_at", "last_activity_at"}
DOSSIER_FIELDS = ("code", "procedure", "procedure_version_id", "commune", "desk_unit", "applicant", "parcel",
                  "status", "outcome", "received_at", "due_at", "statutory_due_at", "paused_at",
                  "supplement_since", "supplement_count", "apologised", "remote", "days_spent_before",
                  "parent_id", "finished_at", "incident", "awaiting", "awaiting_paused")
DOSSIER_TIMES = {"received_at", "due_at", "statutory_due_at", "paused_at", "supplement_since", "finished_at"}


@dataclass
class ItemState:
    ordinal: int
    step: str
    name: str
    role: str
    unit: str | None
    sla: str
    clock: str
    created_at: datetime
    due_at: datetime | None
    state: str = "ready"
    assignee: str | None = None
    claimed_at: datetime | None = None
    done_at: datetime | None = None
    done_by: str | None = None
    outcome: str | None = None
    trail: list[dict[str, str | None]] = field(default_factory=list)
    last_activity_at: datetime | None = None
    task_id: str | None = None  # SpiffWorkflow task; differs between live and replay, never compared
    id: int | None = None  # database id, live only

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def comparable(self) -> dict[str, Any]:
        return {f: _plain(getattr(self, f)) for f in ITEM_FIELDS} | {"ordinal": self.ordinal}


TIMER_FIELDS = ("node", "duration", "item", "state", "created_at", "due_at", "done_at")
TIMER_TIMES = {"created_at", "due_at", "done_at"}


@dataclass
class TimerState:
    """A BPMN timer the dossier waits on (or waited on); due in working time from `created_at`."""

    ordinal: int
    node: str
    duration: str
    item: int | None
    state: str
    created_at: datetime
    due_at: datetime
    done_at: datetime | None = None

    def comparable(self) -> dict[str, Any]:
        return {f: _plain(getattr(self, f)) for f in TIMER_FIELDS} | {"ordinal": self.ordinal}


@dataclass
class DossierState:
    id: int
    code: str = ""
    procedure: str = ""
    procedure_version_id: int = 0
    commune: str | None = None
    desk_unit: str = ""
    applicant: dict[str, Any] = field(default_factory=dict)
    parcel: dict[str, Any] = field(default_factory=dict)
    status: str = "new"
    outcome: str | None = None
    received_at: datetime | None = None
    due_at: datetime | None = None
    statutory_due_at: datetime | None = None
    paused_at: datetime | None = None
    supplement_since: datetime | None = None
    supplement_count: int = 0
    apologised: bool = False
    remote: bool = False
    days_spent_before: int = 0
    parent_id: int | None = None
    finished_at: datetime | None = None
    incident: str | None = None  # the element of an open procedure incident (engine/runtime/incidents.py)
    awaiting: str | None = None  # message catch events waited on, comma-separated (engine/runtime/messages.py)
    awaiting_paused: bool = False  # one of them pauses the dossier clock (`clock=paused`)
    version: int = 0
    last_seq: int = 0
    head_hash: str = ""
    items: dict[int, ItemState] = field(default_factory=dict)
    next_ordinal: int = 1
    snapshot_seq: int = 0  # storage bookkeeping, not a projection of the log
    workflow_seq: int = 0  # bookkeeping too: the last event that moved the workflow (0 = unknown)
    dirty_items: set[int] = field(default_factory=set)
    # timers: live commands load only the waiting ones, and only when the workflow moves
    timers: dict[int, TimerState] = field(default_factory=dict)
    timers_loaded: bool = False
    next_timer: int = 1
    dirty_timers: set[int] = field(default_factory=set)

    @property
    def is_finished(self) -> bool:
        return self.status in ("done", "stopped", "cancelled")

    def open_items(self) -> list[ItemState]:
        return [i for i in self.items.values() if i.is_open]

    def comparable(self) -> dict[str, Any]:
        return {f: _plain(getattr(self, f)) for f in DOSSIER_FIELDS}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    return value


def _load_time(value: Any) -> datetime | None:
    return None if value is None else parse_iso(value)


NOW = "@"  # in effects: "the instant of this event" (most times an event sets are its own)
STEP_FIELDS = ("name", "sla", "role", "clock")  # a new item's fields that its step's metadata gives


def implied_effects(etype: str, actor: str, payload: Mapping[str, Any] | Event, state: DossierState,
                    ) -> dict[str, dict[str, Any]]:
    """What an event's type alone says about the work item it acts on, keyed like `fx["items"]`.

    A `completed` event closes its item: done, outcome `completed`, by the actor, at the event's
    instant, and claimed by the actor at that instant when nobody had claimed it. `compact` leaves
    these fields out of the stored effects and `apply_effects` puts them back. What the effects do
    state wins, so events stored with every field written out (before this rule) fold as they did.
    `state` is the dossier before the event (live and in replay alike).
    """
    acted = item_of(payload) if isinstance(payload, Event) else payload.get("item")
    if etype != "completed" or acted is None:
        return {}
    item = state.items.get(int(acted))
    if item is None:
        return {}
    done: dict[str, Any] = {"state": "done", "outcome": "completed", "done_at": NOW, "done_by": actor,
                            "last_activity_at": NOW}
    if item.state == "ready":
        done.update(assignee=actor, claimed_at=NOW)
    return {str(item.ordinal): done}


def compact(fx: dict[str, Any], at: str, steps: Mapping[str, Any] | None,
            implied: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Write effects short: the event's own instant as NOW; a new item's name, limit, role and clock
    left out when they are the step's (the procedure version, which the event names, holds them);
    an item change left out when the event's type implies it (`implied_effects`)."""
    def times(changes: dict[str, Any]) -> dict[str, Any]:
        return {k: (NOW if v == at else v) for k, v in changes.items()}

    out = dict(fx)
    if "items" in fx:
        implied = implied or {}
        items = {}
        for key, changes in fx["items"].items():
            said = implied.get(key, {})
            short = {k: v for k, v in times(changes).items() if k not in said or said[k] != v}
            if short or key not in implied:
                items[key] = short
        if items:
            out["items"] = items
        else:
            out.pop("items")
    if "dossier" in fx:
        out["dossier"] = times(fx["dossier"])
    if "new" in fx:
        news = []
        for new in fx["new"]:
            meta = steps.get(new["step"]) if steps else None
            new = times(new)
            if meta is not None:
                for name in STEP_FIELDS:
                    if name in new and new[name] == getattr(meta, name):
                        new.pop(name)
            news.append(new)
        out["new"] = news
    return out


def apply_effects(state: DossierState, fx: dict[str, Any], at: datetime,
                  task_ids: dict[int, str] | None = None, steps: Mapping[str, Any] | None = None,
                  implied: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Fold one event's effects into the state. Deterministic; reads no clock, config or database.

    `task_ids` maps new items to their SpiffWorkflow tasks; those ids are per-process noise and are
    kept out of the (hashed) effects. `steps` (the procedure version's step metadata) supplies the
    fields of new items that `compact` left out; `implied` (`implied_effects` of the event) the item
    changes it left out.
    """
    task_ids = task_ids or {}

    def when(value: Any) -> datetime | None:
        return at if value == NOW else _load_time(value)

    for new in fx.get("new", []):
        ordinal = new["item"]
        name, sla = new.get("name"), new.get("sla")
        role, clock = new.get("role"), new.get("clock")
        if name is None or sla is None or "role" not in new or "clock" not in new:
            meta = (steps or {})[new["step"]]  # compacted: what the step's metadata gives
            name = name if name is not None else meta.name
            sla = sla if sla is not None else meta.sla
            role = new.get("role", meta.role)
            clock = new.get("clock", meta.clock)
        created = when(new.get("created_at")) or at
        state.items[ordinal] = ItemState(
            ordinal=ordinal, step=new["step"], name=name, role=role, unit=new["unit"], sla=sla, clock=clock,
            created_at=created, due_at=when(new["due_at"]),
            state=new.get("state", "ready"), assignee=new.get("assignee"),
            trail=[{"unit": new["unit"], "officer": new.get("assignee")}], last_activity_at=created,
            task_id=task_ids.get(ordinal),
        )
        state.next_ordinal = max(state.next_ordinal, ordinal + 1)
        state.dirty_items.add(ordinal)
    stated = fx.get("items", {})
    for key in [*(implied or {}), *(k for k in stated if k not in (implied or {}))]:
        item = state.items[int(key)]
        for name, value in {**(implied or {}).get(key, {}), **stated.get(key, {})}.items():
            if name not in ITEM_FIELDS:
                raise KeyError(f"unknown work item field {name!r} in effects")
            setattr(item, name, when(value) if name in ITEM_TIMES else value)
        state.dirty_items.add(item.ordinal)
    for key, changes in fx.get("timers", {}).items():
        ordinal = int(key)
        timer = state.timers.get(ordinal)
        if timer is None:
            timer = TimerState(ordinal=ordinal, node=changes["node"], duration=changes["duration"],
                               item=changes.get("item"), state=changes["state"],
                               created_at=parse_iso(changes["created_at"]), due_at=parse_iso(changes["due_at"]))
            state.timers[ordinal] = timer
        for name, value in changes.items():
            if name not in TIMER_FIELDS:
                raise KeyError(f"unknown timer field {name!r} in effects")
            setattr(timer, name, _load_time(value) if name in TIMER_TIMES else value)
        state.next_timer = max(state.next_timer, ordinal + 1)
        state.dirty_timers.add(ordinal)
    for name, value in fx.get("dossier", {}).items():
        if name not in DOSSIER_FIELDS:
            raise KeyError(f"unknown dossier field {name!r} in effects")
        setattr(state, name, when(value) if name in DOSSIER_TIMES else value)


# -- rows <-> state ---------------------------------------------------------------------------------

def state_from_rows(row: Any, items: Iterable[Any]) -> DossierState:
    """From dossier and work item rows (ORM objects or Core rows: both read by attribute)."""
    state = DossierState(id=row.id)
    for name in DOSSIER_FIELDS:
        value = getattr(row, name)
        if name in ("applicant", "parcel"):
            value = json.loads(value)
        setattr(state, name, value)
    state.version, state.last_seq, state.head_hash = row.version, row.last_seq, row.head_hash
    state.next_ordinal, state.snapshot_seq, state.workflow_seq = row.next_item, row.snapshot_seq, row.workflow_seq
    for r in items:
        state.items[r.ordinal] = item_from_row(r)
    return state


def item_from_row(r: Any) -> ItemState:
    return ItemState(
        ordinal=r.ordinal, step=r.step, name=r.name, role=r.role, unit=r.unit, sla=r.sla, clock=r.clock,
        created_at=r.created_at, due_at=r.due_at, state=r.state, assignee=r.assignee,
        claimed_at=r.claimed_at, done_at=r.done_at, done_by=r.done_by, outcome=r.outcome,
        trail=json.loads(r.trail), last_activity_at=r.last_activity_at, task_id=r.task_id, id=r.id,
    )


def dossier_values(state: DossierState) -> dict[str, Any]:
    """The dossier row's columns, as the projection of this state."""
    values: dict[str, Any] = {}
    for name in DOSSIER_FIELDS:
        value = getattr(state, name)
        if name in ("applicant", "parcel"):
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        values[name] = value
    values.update(version=state.version, last_seq=state.last_seq, head_hash=state.head_hash,
                  next_item=state.next_ordinal, snapshot_seq=state.snapshot_seq, workflow_seq=state.workflow_seq)
    return values


def item_row_values(dossier_id: int, item: ItemState) -> dict[str, Any]:
    values = {f: getattr(item, f) for f in ITEM_FIELDS}
    values["trail"] = json.dumps(item.trail, ensure_ascii=False)
    values.update(dossier_id=dossier_id, ordinal=item.ordinal, task_id=item.task_id)
    return values


def new_state_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(DossierState))
