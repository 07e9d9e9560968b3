"""The event log: each dossier's events, appended with a hash chain.

Each event's hash is SHA-256 over the previous hash and the canonical event (dossier, seq, type,
actor, unit, step, time, payload), so editing, deleting, inserting or reordering any event breaks
the chain at that place. Its own module (not engine/history.py, which replays and verifies) so that
the command path and the scheduler write events without importing the replay machinery, and the
replay can use the runtime without an import cycle.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Table, insert, select
from sqlalchemy.orm import Session

from .accountability import signals_for
from .events import Event, parse
from .jsoncanon import canonical, iso
from .store import CaseEventRow, SignalRow

if TYPE_CHECKING:
    from .runtime.state import DossierState

GENESIS = "0" * 64
INSERT_EVENT = insert(cast(Table, CaseEventRow.__table__))
INSERT_SIGNAL = insert(cast(Table, SignalRow.__table__))
SPIFF_EVENTS = ("opened", "completed", "returned", "timer_fired", "moved", "message_received")


def event_hash(prev: str, dossier_id: int, seq: int, etype: str, actor: str, unit: str | None,
               step: str | None, at: datetime, payload: str) -> str:
    head = canonical({"d": dossier_id, "s": seq, "t": etype, "a": actor, "u": unit, "st": step, "at": iso(at)})
    return hashlib.sha256(f"{prev}\n{head}\n{payload}".encode()).hexdigest()


@dataclass
class PendingEvent:
    """An event queued for `append`. Build it from a typed event (engine/events/) with `of`;
    the older form, a kind and its payload dict, is still accepted."""

    type: str
    actor: str
    unit: str | None
    step: str | None
    at: datetime
    payload: dict[str, Any]

    @classmethod
    def of(cls, event: Event, actor: str, unit: str | None, step: str | None, at: datetime) -> PendingEvent:
        return cls(event.kind, actor, unit, step, at, event.to_payload())

    @property
    def event(self) -> Event:
        """The typed event (parsed from the payload, so a malformed one is an EventError here)."""
        return parse(self.type, self.payload)


def append(db: Session | Connection, state: DossierState, events: list[PendingEvent]) -> None:
    """Chain events onto the dossier (whose row the caller has locked) and add their signals.

    SQLAlchemy Core: this runs in every command, where the ORM's unit of work cost more than the rest.
    """
    rows: list[dict[str, Any]] = []
    signal_rows: list[dict[str, Any]] = []
    for ev in events:
        seq = state.last_seq + 1
        text = canonical(ev.payload)
        prev = state.head_hash or GENESIS
        h = event_hash(prev, state.id, seq, ev.type, ev.actor, ev.unit, ev.step, ev.at, text)
        rows.append({"dossier_id": state.id, "seq": seq, "type": ev.type, "actor": ev.actor, "unit": ev.unit,
                     "step": ev.step, "at": ev.at, "payload": text, "prev_hash": prev, "hash": h})
        for sig in signals_for(ev.type, ev.actor, ev.unit, ev.payload):
            signal_rows.append({"kind": sig.kind, "dossier_id": state.id, "seq": seq, "officer": sig.officer,
                                "unit": sig.unit, "at": ev.at, "reason": sig.reason})
        state.last_seq, state.head_hash = seq, h
    conn = db.connection() if isinstance(db, Session) else db
    if rows:
        conn.execute(INSERT_EVENT, rows)
    if signal_rows:
        conn.execute(INSERT_SIGNAL, signal_rows)


def load_events(session: Session, dossier_id: int) -> list[CaseEventRow]:
    return list(session.scalars(
        select(CaseEventRow).where(CaseEventRow.dossier_id == dossier_id).order_by(CaseEventRow.seq, CaseEventRow.id)
    ))
