"""Which version of a procedure is in force on a day: effective dates (the decree's date).

A version deployed with `effective_from` takes effect on that day (Asia/Ho_Chi_Minh): a dossier
received from that day on uses it, one received before uses the previous version in force. A version
deployed without a date takes effect at once. The highest version already in effect wins, so a later
version with no date still supersedes an earlier pending one (the supervisor deployed it after).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..store import ProcedureVersionRow

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
V = ProcedureVersionRow.__table__


def local_day(at: datetime) -> date:
    """The calendar day in Viet Nam of an aware instant (a dossier received at 23:30 UTC is the next day)."""
    return at.astimezone(LOCAL).date()


def version_in_force(conn: Session | Connection, key: str, at: datetime) -> int | None:
    """The id of the version of `key` that a dossier received at `at` uses; None if none is in force."""
    day = local_day(at)
    return conn.execute(
        select(V.c.id).where(V.c.key == key, or_(V.c.effective_from.is_(None), V.c.effective_from <= day))
        .order_by(V.c.version.desc()).limit(1)).scalar()


@dataclass(frozen=True)
class Pending:
    key: str
    version: int
    name: str
    effective_from: date
    deployed_at: datetime
    deployed_by: str

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "version": self.version, "name": self.name,
                "effective_from": self.effective_from, "deployed_at": self.deployed_at,
                "deployed_by": self.deployed_by}


def pending_versions(conn: Session | Connection, at: datetime, key: str | None = None) -> list[Pending]:
    """Versions deployed with a date still to come (listed on the procedures page and API)."""
    q = select(V.c.key, V.c.version, V.c.name, V.c.effective_from, V.c.deployed_at, V.c.deployed_by).where(
        V.c.effective_from > local_day(at)).order_by(V.c.effective_from, V.c.key, V.c.version)
    if key is not None:
        q = q.where(V.c.key == key)
    return [Pending(r.key, r.version, r.name, r.effective_from, r.deployed_at, r.deployed_by)
            for r in conn.execute(q)]
