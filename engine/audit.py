"""The organisation-wide audit log: acts that belong to no single dossier.

Deployments, refused attempts to open a dossier or to deploy, officer changes: hash-chained like
dossier events, one chain for the whole database.

Actions on a dossier or work item the actor cannot read (out of their read scope, or no such id:
the caller is told the same 404 for both) are recorded here too, never in that dossier's chain, and
at most `AttemptGate.cap` per actor per minute (`record_unseen_attempt`): beyond the cap an attempt
is counted in memory, not written, and the next entry written for that actor says how many were
left out (`suppressed`). So a flood of such attempts neither lengthens a dossier's history nor takes
its lock, and writes a bounded number of entries.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .accountability import signals_for
from .events import ActionRefused
from .jsoncanon import canonical, iso
from .store import AuditEntryRow, Database, SignalRow

GENESIS = "0" * 64
LOCK = 0x1A4DF72  # pg advisory lock key: one writer at the head of the audit chain at a time


def entry_hash(prev: str, seq: int, etype: str, actor: str, unit: str | None, at: datetime, payload: str) -> str:
    head = canonical({"s": seq, "t": etype, "a": actor, "u": unit, "at": iso(at)})
    return hashlib.sha256(f"{prev}\n{head}\n{payload}".encode()).hexdigest()


def append_in(session: Session, etype: str, actor: str, unit: str | None, at: datetime,
              payload: dict[str, Any]) -> AuditEntryRow:
    """Chain an entry onto the head. The head is locked first: on PostgreSQL with a transaction-scoped
    advisory lock (under READ COMMITTED, concurrent writers would all read the same head and all but
    one fail on the seq; dozens of refused opens at once exhausted any retry budget); SQLite's write
    transactions are already serial (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})
    last = session.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq.desc()).limit(1)).first()
    seq = (last.seq if last else 0) + 1
    prev = last.hash if last else GENESIS
    body = canonical(payload)
    row = AuditEntryRow(seq=seq, type=etype, actor=actor, unit=unit, at=at, payload=body, prev_hash=prev,
                        hash=entry_hash(prev, seq, etype, actor, unit, at, body))
    session.add(row)
    for sig in signals_for(etype, actor, unit, payload):
        session.add(SignalRow(kind=sig.kind, dossier_id=None, seq=seq, officer=sig.officer, unit=sig.unit,
                              at=at, reason=sig.reason))
    session.flush()
    return row


def append(db: Database, etype: str, actor: str, unit: str | None, at: datetime, payload: dict[str, Any]) -> int:
    """Append in its own transaction, retrying when a concurrent writer took the same seq."""
    for attempt in range(8):
        try:
            with db.write() as s:
                return append_in(s, etype, actor, unit, at, payload).seq
        except IntegrityError:
            if attempt == 7:
                raise
    raise RuntimeError("unreachable")


def verify_log(session: Session) -> tuple[bool, int | None]:
    prev = GENESIS
    expected = 1
    for row in session.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq)):
        if row.seq != expected or row.prev_hash != prev:
            return False, expected
        if entry_hash(prev, row.seq, row.type, row.actor, row.unit, row.at, row.payload) != row.hash:
            return False, row.seq
        prev, expected = row.hash, expected + 1
    return True, None


# -- attempts on what the actor cannot see ---------------------------------------------------------

@dataclass
class _Window:
    start: datetime
    written: int = 0
    suppressed: int = 0


@dataclass
class AttemptGate:
    """How many unseen-target attempts each actor may have written per window (one per process, like
    the sign-in limiter: with N workers at most N × cap a minute). Thread-safe."""

    cap: int = 20
    window: timedelta = timedelta(minutes=1)
    _windows: dict[str, _Window] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, actor: str, at: datetime) -> int | None:
        """None when this attempt is over the cap (it is counted); else how many attempts of this
        actor were left out since the last one written (the new entry reports them)."""
        with self._lock:
            w = self._windows.get(actor)
            if w is None or at - w.start >= self.window or at < w.start:
                w = self._windows[actor] = _Window(at, suppressed=w.suppressed if w is not None else 0)
            if w.written >= self.cap:
                w.suppressed += 1
                return None
            w.written += 1
            left_out, w.suppressed = w.suppressed, 0
            return left_out


def record_unseen_attempt(db: Database, gate: AttemptGate, actor: str, unit: str | None, at: datetime,
                          action: str, message: str, target: dict[str, int], reach: str) -> bool:
    """Record an action on a target the actor cannot read: an `action_refused` audit entry (kind and
    code `not_found`, the very `message` the actor was answered, `unseen` = `out_of_scope` or
    `missing`) and its `unauthorised_attempt` signal, attached to no dossier. Whether the target exists
    is in the entry (auditors read it) but not in the signal, whose reason is the answer the actor got:
    the actor, who reads their own signals, learns nothing from it. False when the gate left it out."""
    left_out = gate.admit(actor, at)
    if left_out is None:
        return False
    if set(target) - {"dossier", "work_item"}:
        raise ValueError(f"an unseen target is a dossier or a work item, not {sorted(target)}")
    refused = ActionRefused(action=action, kind_="not_found", code="not_found", message=message,
                            category="out_of_scope",  # acting on what one cannot read: misconduct (0050)
                            dossier=target.get("dossier"), work_item=target.get("work_item"), unseen=reach,
                            suppressed=left_out or None)
    append(db, refused.kind, actor, unit, at, refused.to_payload())
    return True
