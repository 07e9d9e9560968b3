"""The deadline sweep: find what is due from indexed projection columns, record it through the engine.

Every query here reads `work_item` (state, due_at / last_activity_at), `dossier` (status, due_at) or
`bpmn_timer` (state, due_at) through an index, and excludes what `deadline_notice` already holds;
nothing deserialises a workflow to find a deadline. "Overdue by a working day" becomes a plain
comparison with `calendar.subtract(now, delay)`; "due within a working day" one with
`calendar.add(now, window)`.

Candidates come in a total order (deadline, then dossier and item), so a simulated history that
sweeps (`landflow demo`) records its notices in the same order, hash for hash, on either database.

On PostgreSQL a sweep runs only while it holds a session advisory lock, so of several schedulers
(one per server, say) one sweeps and the others skip that round. The notices' unique key keeps the
result exact even without the lock (SQLite, or a lock lost with its connection).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnExpressionArgument, Select, exists, literal, select, text
from sqlalchemy.sql.elements import ColumnElement

from ..absences import Absences
from ..bootstrap import Landflow
from ..kpi_facts import refresh_item_facts
from ..org import Directory
from ..reviews import Reviews
from ..store import DeadlineNoticeRow, DossierRow, TimerRow, WorkItemRow
from ..store.models import (
    DOSSIER_UNNOTICED_SQL,
    ITEM_CLAIMED_SQL,
    ITEM_UNESCALATED_SQL,
    ITEM_UNNOTICED_SQL,
    partial_predicate,
)
from .notices import Candidate, Limits, record

log = logging.getLogger("landflow.scheduler")
SWEEP_LOCK = 0x1A4DF70  # pg advisory lock class of the deadline sweep (two-key form: class, schema)
N = DeadlineNoticeRow
W = WorkItemRow
D = DossierRow


@dataclass
class SweepResult:
    at: datetime
    skipped: bool = False  # another scheduler holds the lock
    recorded: dict[str, int] = field(default_factory=dict)
    timers_fired: int = 0
    facts: int = 0
    substituted: int = 0  # items handed to an absent officer's deputy (engine/absences.py)
    reviews_escalated: int = 0  # reviews whose explanation limit passed (engine/reviews.py)

    @property
    def total(self) -> int:
        return sum(self.recorded.values()) + self.timers_fired


def _unnoticed(kind: str, dossier: ColumnExpressionArgument[int], item: ColumnExpressionArgument[int] | int,
               deadline: ColumnExpressionArgument[datetime | None]) -> ColumnElement[bool]:
    return ~exists().where(N.dossier_id == dossier, N.item == item, N.kind == kind, N.deadline == deadline)


class Sweeper:
    """One scheduler's sweep. Holds no state between sweeps except a lock against overlapping itself."""

    def __init__(self, lf: Landflow, batch: int = 500):
        self.lf = lf
        self.batch = batch
        s = lf.settings
        self.limits = Limits(s.due_soon, s.escalation_delay, s.idle_claim)
        self._running = threading.Lock()

    # -- the queries --------------------------------------------------------------------------------
    def candidates(self, kind: str, now: datetime) -> list[Candidate]:
        cal = self.lf.calendar
        q: Select[int, int, datetime | None]
        if kind in ("step_overdue", "escalated"):
            cutoff = now if kind == "step_overdue" else cal.subtract(now, self.limits.escalation_delay)
            pending = ITEM_UNNOTICED_SQL if kind == "step_overdue" else ITEM_UNESCALATED_SQL
            q = (select(W.dossier_id, W.ordinal, W.due_at).join(D, D.id == W.dossier_id)
                 .where(partial_predicate("work_item", pending), W.due_at < now, W.due_at <= cutoff,
                        D.supplement_since.is_(None), _unnoticed(kind, W.dossier_id, W.ordinal, W.due_at))
                 .order_by(W.due_at, W.dossier_id, W.ordinal))
        elif kind == "idle_claim":
            cutoff = cal.subtract(now, self.limits.idle_claim)
            q = (select(W.dossier_id, W.ordinal, W.last_activity_at).join(D, D.id == W.dossier_id)
                 .where(partial_predicate("work_item", ITEM_CLAIMED_SQL), W.last_activity_at <= cutoff,
                        D.supplement_since.is_(None),
                        _unnoticed(kind, W.dossier_id, W.ordinal, W.last_activity_at))
                 .order_by(W.last_activity_at, W.dossier_id, W.ordinal))
        elif kind == "dossier_overdue":
            q = (select(D.id, literal(0), D.due_at)
                 .where(partial_predicate("dossier", DOSSIER_UNNOTICED_SQL), D.due_at < now, D.paused_at.is_(None),
                        _unnoticed(kind, D.id, 0, D.due_at))
                 .order_by(D.due_at, D.id))
        elif kind == "due_soon":
            q = (select(D.id, literal(0), D.due_at)
                 .where(D.status == "in_progress", D.due_at > now, D.due_at <= cal.add(now, self.limits.due_soon),
                        D.paused_at.is_(None), _unnoticed(kind, D.id, 0, D.due_at))
                 .order_by(D.due_at, D.id))
        else:
            raise ValueError(f"unknown notice kind {kind}")
        with self.lf.db.read() as s:
            rows = s.execute(q.limit(self.batch)).all()
        return [Candidate(kind, int(r[0]), int(r[1]), r[2]) for r in rows if r[2] is not None]  # each query: non-null

    def due_timers(self, now: datetime) -> list[tuple[int, int]]:
        q = (select(TimerRow.dossier_id, TimerRow.ordinal).join(D, D.id == TimerRow.dossier_id)
             .where(TimerRow.state == "waiting", TimerRow.due_at <= now,
                    D.status.in_(("in_progress", "awaiting_supplement")), D.incident.is_(None))
             .order_by(TimerRow.due_at, TimerRow.dossier_id, TimerRow.ordinal).limit(self.batch))
        with self.lf.db.read() as s:
            return [(int(a), int(b)) for a, b in s.execute(q)]

    def stuck(self) -> list[int]:
        """Dossiers in progress with no step open, no timer to wait for and no incident yet: left so by a
        defect the engine did not catch when the command ran (older data). Each becomes an incident."""
        open_item = exists().where(W.dossier_id == D.id, W.state.in_(("ready", "claimed")))
        waiting = exists().where(TimerRow.dossier_id == D.id, TimerRow.state == "waiting")
        q = (select(D.id).where(D.status == "in_progress", D.incident.is_(None), D.awaiting.is_(None), ~open_item,
                                ~waiting)
             .order_by(D.id).limit(self.batch))
        with self.lf.db.read() as s:
            return [int(i) for i in s.scalars(q)]

    def raise_stuck(self, dossier_id: int) -> int:
        try:
            return int(self.lf.runtime.raise_stuck(dossier_id))
        except Exception:  # one broken dossier must not stop the sweep
            log.exception("dossier %s is stuck and its incident could not be recorded", dossier_id)
            return 0

    # -- one sweep ----------------------------------------------------------------------------------
    def sweep(self) -> SweepResult:
        now = self.lf.clock.now()
        result = SweepResult(now)
        if not self._running.acquire(blocking=False):
            result.skipped = True
            return result
        try:
            with self.exclusive() as held:
                if not held:
                    result.skipped = True
                    return result
                self._sweep(now, result)
        finally:
            self._running.release()
        if result.total:
            log.info("sweep at %s: %s, %d timer(s) fired", now.isoformat(), result.recorded, result.timers_fired)
        return result

    def _sweep(self, now: datetime, result: SweepResult) -> None:
        # Timers first: firing one may open a step that is itself already late.
        for _ in range(1000):
            due = self.due_timers(now)
            fired = sum(self.fire(d, o) for d, o in due)
            result.timers_fired += fired
            if len(due) < self.batch or not fired:
                break
        # absences under way first: an escalation below then names the deputy and the absent officer
        result.substituted = Absences(self.lf).sweep(now)
        directory = self.lf.directory.get()
        for kind in ("step_overdue", "escalated", "dossier_overdue", "due_soon", "idle_claim"):
            tried: set[Candidate] = set()
            count = 0
            for _ in range(1000):
                batch = [c for c in self.candidates(kind, now) if c not in tried]
                if not batch:
                    break
                for c in batch:
                    tried.add(c)
                    count += self.record(c, now, directory)
            if count:
                result.recorded[kind] = count
        result.reviews_escalated = Reviews.of(self.lf).escalate_overdue(now)
        stuck = sum(self.raise_stuck(d) for d in self.stuck())
        if stuck:
            result.recorded["procedure_incident"] = stuck
        result.facts = refresh_item_facts(self.lf.db, self.lf.calendar, now)

    def record(self, c: Candidate, now: datetime, directory: Directory) -> int:
        """One notice in its own transaction (a crash after it keeps it; one before it loses nothing)."""
        return int(record(self.lf.db, self.lf.calendar, directory, self.limits, c, now))

    def fire(self, dossier_id: int, ordinal: int) -> int:
        try:
            return int(self.lf.runtime.fire_timer(dossier_id, ordinal))
        except Exception:  # one broken dossier must not stop the sweep; the refusal is recorded
            log.exception("timer %s of dossier %s could not fire", ordinal, dossier_id)
            return 0

    @contextmanager
    def exclusive(self) -> Iterator[bool]:
        """PostgreSQL: hold the sweep's advisory lock for the whole sweep, or skip it."""
        if self.lf.db.dialect != "postgresql":
            yield True
            return
        with self.lf.db.engine.connect() as conn:
            # Keyed by the schema too: one sweeper per landflow database, wherever several share a server.
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k, hashtext(current_schema()))"),
                                    {"k": SWEEP_LOCK}).scalar())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k, hashtext(current_schema()))"),
                                 {"k": SWEEP_LOCK})
                    conn.commit()
