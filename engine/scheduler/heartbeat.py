"""The scheduler's heartbeat: a row per scheduler process, written on the wall clock.

Written by a job of its own every few seconds (so a long sweep does not look like a dead scheduler)
and after every sweep with its duration. Wall clock, not `lf.clock`: the question is whether a process
is alive now, not what the engine's (possibly frozen) clock says. Rows of processes silent for a week
are deleted by the next beat, so restarts do not pile them up.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, type_coerce

from ..store import Database, SchedulerBeatRow
from ..store.models import UTCDateTime

FORGET_AFTER = timedelta(days=7)


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


@dataclass
class Heartbeat:
    """The beats of one scheduler process."""

    db: Database
    name: str
    started_at: datetime

    @classmethod
    def of_this_process(cls, db: Database) -> Heartbeat:
        return cls(db, process_name(), datetime.now(UTC))

    def beat(self) -> None:
        now = datetime.now(UTC)
        with self.db.write() as s:
            row = s.get(SchedulerBeatRow, self.name)
            if row is None:
                s.add(SchedulerBeatRow(name=self.name, started_at=self.started_at, beat_at=now))
            else:
                row.beat_at = now
            s.execute(delete(SchedulerBeatRow).where(SchedulerBeatRow.beat_at < now - FORGET_AFTER))

    def swept(self, seconds: float, skipped: bool) -> None:
        """After a sweep; a round skipped (another scheduler held the lock) is only a beat."""
        if skipped:
            self.beat()
            return
        now = datetime.now(UTC)
        with self.db.write() as s:
            row = s.get(SchedulerBeatRow, self.name)
            if row is None:
                row = SchedulerBeatRow(name=self.name, started_at=self.started_at, beat_at=now)
                s.add(row)
            row.beat_at, row.sweep_at, row.sweep_seconds = now, now, seconds


@dataclass(frozen=True)
class LastBeat:
    beat_at: datetime | None  # the latest beat of any scheduler
    sweep_at: datetime | None  # when the latest sweep (of any scheduler) ended, and how long it took
    sweep_seconds: float | None


def last_beat(db: Database) -> LastBeat:
    with db.read() as s:
        beat_at = s.scalar(select(type_coerce(func.max(SchedulerBeatRow.beat_at), UTCDateTime())))
        swept = s.execute(select(SchedulerBeatRow.sweep_at, SchedulerBeatRow.sweep_seconds)
                          .where(SchedulerBeatRow.sweep_at.is_not(None))
                          .order_by(SchedulerBeatRow.sweep_at.desc()).limit(1)).first()
    return LastBeat(beat_at, swept[0] if swept else None, swept[1] if swept else None)
