"""What `verify --all` proved last time, so that it replays only what changed since (Decision 0112).

The full check of a dossier (engine/history.verify) replays its events through SpiffWorkflow and
compares the result with the stored projections: ~10 ms a dossier, and the same answer every time
for the same inputs (replay reads no clock and no configuration). Its inputs are the dossier's events,
its stored rows (dossier, work items, timers, signals, snapshot), and a context shared by every
dossier (the procedure versions, the officers' keys, the version of the checks themselves).

So after a dossier passes, the memo keeps (last_seq, head_hash, digest of its stored rows). The next
run streams every event again and re-hashes every chain (an edited, removed or inserted event, an
edited payload or a broken link is caught there, as in engine/chains.py), reads the stored rows of a
chunk of dossiers in one query per table and hashes them, and checks every named file's bytes. A
dossier whose chain holds, whose head and row digest equal the memo's, and whose files are intact has
exactly the inputs of a check that passed: its replay is skipped. Anything else is checked in full.

The memo lives outside the database (a SQLite file in the var dir, beside the checkpoint key): someone
who can rewrite the database cannot also rewrite what was verified. A different context (a procedure
version or a key added or changed, new checks) empties it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, select, text

from .chains import fast_hash
from .eventlog import GENESIS
from .papers.blobs import BlobStore
from .store import (
    AuditEntryRow,
    Database,
    DossierRow,
    DossierStateRow,
    OfficerRow,
    ProcedureVersionRow,
    SignalRow,
    TimerRow,
    WorkItemRow,
)

CHECKS = "verify-1"  # bump when history.verify checks something new: every memo entry is then stale
BLOB_EVENTS = ("document_added", "slip_issued")
Entry = tuple[int, str, str]  # (last_seq, head_hash, digest of the stored rows)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


# The stored rows a full check compares with its replay, per dossier; all columns (a superset is safe:
# a change to a column the check ignores only costs a replay).
PROJECTIONS: tuple[tuple[Table, str], ...] = (
    (_table(DossierRow), "id"),
    (_table(WorkItemRow), "dossier_id"),
    (_table(TimerRow), "dossier_id"),
    (_table(SignalRow), "dossier_id"),
    (_table(DossierStateRow), "dossier_id"),
)


def row_digests(conn: Connection, lo: int, hi: int) -> dict[int, str]:
    """sha256 over the stored rows of each dossier with lo <= id < hi: one query per table, values as the
    driver returns them (no type conversion: the digest only has to change when a stored value does)."""
    hashers: dict[int, Any] = {}
    for table, key in PROJECTIONS:
        order = ", ".join([key, *(c.name for c in table.primary_key.columns if c.name != key)])
        tag = table.name.encode() + b"\x00"
        position = [c.name for c in table.columns].index(key)
        rows = conn.execute(text(f"SELECT {', '.join(c.name for c in table.columns)} FROM {table.name} "
                                 f"WHERE {key} >= :lo AND {key} < :hi ORDER BY {order}"), {"lo": lo, "hi": hi})
        for row in rows:
            did = row[position]
            h = hashers.get(did)
            if h is None:
                h = hashers[did] = hashlib.sha256()
            h.update(tag + repr(tuple(row)).encode() + b"\n")
    return {int(did): h.hexdigest() for did, h in hashers.items()}


def context_digest(conn: Connection) -> str:
    """What every replay reads besides its own dossier: procedure versions and officers' keys."""
    h = hashlib.sha256(CHECKS.encode() + b"\n")
    pv = _table(ProcedureVersionRow)
    for row in conn.execute(select(pv).order_by(pv.c.id)):
        h.update(repr(tuple(row)).encode() + b"\n")
    for row in conn.execute(select(OfficerRow.username, OfficerRow.public_key).order_by(OfficerRow.username)):
        h.update(repr(tuple(row)).encode() + b"\n")
    for row in conn.execute(select(AuditEntryRow.seq, AuditEntryRow.payload)
                            .where(AuditEntryRow.type == "officer_key").order_by(AuditEntryRow.seq)):
        h.update(repr(tuple(row)).encode() + b"\n")
    return h.hexdigest()


def snapshot(conn: Connection, dialect: str) -> Connection:
    """Start a transaction whose reads see one snapshot (PostgreSQL: repeatable read)."""
    if dialect == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    conn.begin()
    return conn


class Memo:
    """The file of verified heads: (dossier id) -> (last_seq, head_hash, row digest), under one context."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.con = sqlite3.connect(path)
        self.con.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
        self.con.execute("CREATE TABLE IF NOT EXISTS verified (dossier_id INTEGER PRIMARY KEY, last_seq INTEGER "
                         "NOT NULL, head_hash TEXT NOT NULL, digest TEXT NOT NULL)")

    def use_context(self, context: str) -> None:
        """Entries recorded under another context prove nothing now: drop them."""
        row = self.con.execute("SELECT v FROM meta WHERE k = 'context'").fetchone()
        if row is None or row[0] != context:
            with self.con:
                self.con.execute("DELETE FROM verified")
                self.con.execute("INSERT OR REPLACE INTO meta (k, v) VALUES ('context', ?)", (context,))

    def entries(self, lo: int, hi: int) -> dict[int, Entry]:
        return {int(d): (int(q), h, g) for d, q, h, g in self.con.execute(
            "SELECT dossier_id, last_seq, head_hash, digest FROM verified WHERE dossier_id >= ? AND dossier_id < ?",
            (lo, hi))}

    def update(self, passed: dict[int, Entry], failed: Iterable[int]) -> None:
        with self.con:
            self.con.executemany("INSERT OR REPLACE INTO verified VALUES (?, ?, ?, ?)",
                                 [(d, *e) for d, e in passed.items()])
            self.con.executemany("DELETE FROM verified WHERE dossier_id = ?", [(d,) for d in failed])

    def close(self) -> None:
        self.con.close()


@dataclass
class QuickPass:
    """The outcome of the quick pass over a range: dossiers proven unchanged, and those to check in full."""
    events: int = 0
    unchanged: int = 0
    recheck: list[int] = field(default_factory=list)


EVENTS = text("SELECT dossier_id, seq, type, actor, unit, step, at, payload, prev_hash, hash FROM case_event "
              "WHERE dossier_id >= :lo AND dossier_id < :hi ORDER BY dossier_id, seq")


def _chain_heads(rows: Iterable[Sequence[Any]]) -> tuple[dict[int, tuple[int, str]], set[int], int]:
    """Stream (dossier, seq, ...) rows in order: each intact chain's (last seq, head hash), the dossiers
    whose chain is broken, and the events read. The hash is written straight from the stored text."""
    heads: dict[int, tuple[int, str]] = {}
    broken: set[int] = set()
    events = 0
    current, expected, prev = -1, 1, GENESIS
    for did, seq, etype, actor, unit, step, at, payload, prev_hash, stored in rows:
        events += 1
        if did != current:
            current, expected, prev = did, 1, GENESIS
        if did in broken:
            continue
        if seq != expected or prev_hash != prev or fast_hash(prev, did, seq, etype, actor, unit, step, at,
                                                             payload) != stored:
            broken.add(did)
            heads.pop(did, None)
            continue
        prev, expected = stored, expected + 1
        heads[did] = (seq, stored)
    return heads, broken, events


def _read(conn: Connection, lo: int, hi: int) -> tuple[dict[int, str], list[Sequence[Any]]]:
    return row_digests(conn, lo, hi), list(conn.execute(EVENTS, {"lo": lo, "hi": hi}).all())


def quick_pass(db: Database, memo: Memo, lo: int, hi: int, blobs: BlobStore | None) -> QuickPass:
    """Dossiers lo <= id < hi: which have exactly the inputs of a check that passed, in one snapshot."""
    out = QuickPass()
    known = memo.entries(lo, hi)
    named: dict[int, list[tuple[str, int | None]]] = {}
    with db.read_engine.connect() as raw:
        conn = snapshot(raw, db.dialect)
        ids = [int(d) for d in conn.execute(select(DossierRow.id).where(DossierRow.id >= lo, DossierRow.id < hi)
                                            .order_by(DossierRow.id)).scalars()]
        unreadable: set[int] = set()
        try:
            digests, stream = _read(conn, lo, hi)
        except Exception:  # e.g. bytes that are not text: read dossier by dossier, the full check names it
            digests, stream = {}, []
            for did in ids:
                conn.rollback()
                conn.begin()
                try:
                    one, rows_of_one = _read(conn, did, did + 1)
                except Exception:
                    unreadable.add(did)
                    continue
                digests.update(one)
                stream += rows_of_one
        conn.rollback()

    def rows() -> Iterable[Sequence[Any]]:
        for row in stream:
            if row[2] in BLOB_EVENTS:  # the files the history names: checked below, every time
                try:
                    p = json.loads(row[7])
                    named.setdefault(row[0], []).append((str(p["sha256"]), p.get("size")))
                except (ValueError, KeyError, TypeError):
                    unreadable.add(row[0])
            yield row

    heads, broken, _events = _chain_heads(rows())
    broken |= unreadable
    for did in ids:
        entry = known.get(did)
        head = heads.get(did)
        same = (entry is not None and did not in broken and head is not None
                and entry == (head[0], head[1], digests.get(did)))
        if same and blobs is not None:
            same = all(blobs.check(sha, size) is None for sha, size in named.get(did, []))
        if same and head is not None:
            out.unchanged += 1
            out.events += head[0]
        else:
            out.recheck.append(did)
    return out


def entry_of(conn: Connection, dossier_id: int) -> Entry | None:
    """The memo entry for one dossier as stored now (call inside the snapshot its full check read)."""
    try:
        row = conn.execute(select(DossierRow.last_seq, DossierRow.head_hash)
                           .where(DossierRow.id == dossier_id)).first()
        digest = row_digests(conn, dossier_id, dossier_id + 1).get(dossier_id)
    except Exception:  # unreadable now: no entry, so the next run checks it in full
        return None
    if row is None or digest is None or row[1] is None:
        return None
    return int(row[0]), str(row[1]), digest
