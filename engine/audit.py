"""The organisation-wide audit log: acts that belong to no single dossier.

Deployments, refused attempts to open a dossier or to deploy, officer changes: hash-chained like
dossier events, one chain for the whole database.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .accountability import signals_for
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
