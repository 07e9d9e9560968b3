"""Readiness: can this process serve, and is the system around it in order?

Three checks, each answered separately so an operator sees which one failed: the database answers;
its schema is at the code's Alembic head (an upgrade half done, or a code upgrade without `landflow
init`, fails it); some scheduler has beaten recently (deadlines, timers and checkpoints are running
somewhere: any host's scheduler counts, they share the database).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import queries
from .scheduler.heartbeat import last_beat
from .store import Database
from .store.migrate import code_heads, database_heads


@dataclass
class Readiness:
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(c["ok"] for c in self.checks.values())


def readiness(db: Database, stale_seconds: float, now: datetime | None = None) -> Readiness:
    now = now or datetime.now(UTC)
    out = Readiness()
    if not queries.ping(db):
        out.checks["database"] = {"ok": False, "detail": "the database does not answer"}
        out.checks["migrations"] = {"ok": False, "detail": "not checked: no database"}
        out.checks["scheduler"] = {"ok": False, "detail": "not checked: no database"}
        return out
    out.checks["database"] = {"ok": True, "dialect": db.dialect}
    code, have = sorted(code_heads()), sorted(database_heads(db.engine))
    out.checks["migrations"] = {"ok": code == have, "code": code, "database": have}
    if code != have:
        out.checks["migrations"]["detail"] = ("the database was never migrated (landflow init)" if not have else
                                              "the database's schema is not the code's: run `landflow init`")
    beat = last_beat(db)
    scheduler: dict[str, Any] = {"ok": False, "stale_after_seconds": stale_seconds,
                                 "last_beat": beat.beat_at.isoformat() if beat.beat_at else None}
    if beat.beat_at is None:
        scheduler["detail"] = "no scheduler has ever run against this database"
    else:
        age = max(0.0, (now - beat.beat_at).total_seconds())
        scheduler["age_seconds"] = round(age, 1)
        scheduler["ok"] = age <= stale_seconds
        if not scheduler["ok"]:
            scheduler["detail"] = f"no scheduler heartbeat for {int(age)} s"
    out.checks["scheduler"] = scheduler
    return out
