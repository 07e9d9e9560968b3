"""The browser modeler's drafts: stored per supervisor, versioned, never executed.

Each save is a new revision of (key, owner); nothing here is a procedure version, so no dossier can
be opened on a draft (opening reads procedure_version only). A supervisor reads only their own
drafts: another's draft is "not found", as if it did not exist (drafts are work in progress).
Deploying starts from a draft's bytes and goes through the ordinary check and deploy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import audit
from ..events import DraftDeleted
from ..store import Database, ProcedureDraftRow

MAX_REVISIONS_LISTED = 200
REASONS = {
    "not_utf8": "a draft is saved as UTF-8 (the modeler writes UTF-8)",
    "empty": "the draft is empty",
    "other_key": "the file's process id is not the procedure's key",
}


class DraftRefused(ValueError):
    """A draft that cannot be saved (nothing stored); `reason` is one of REASONS."""

    def __init__(self, reason: str):
        super().__init__(REASONS[reason])
        self.reason = reason


@dataclass(frozen=True)
class Draft:
    key: str
    owner: str
    revision: int
    name: str
    based_on: int | None
    problems: int
    saved_at: datetime

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "revision": self.revision, "name": self.name, "based_on": self.based_on,
                "problems": self.problems, "saved_at": self.saved_at}


def _view(row: ProcedureDraftRow) -> Draft:
    return Draft(row.key, row.owner, row.revision, row.name, row.based_on, row.problems, row.saved_at)


def save(db: Database, owner: str, key: str, name: str, bpmn: str, based_on: int | None, problems: int,
         at: datetime) -> Draft:
    """A new revision (the next number of this owner's draft of `key`); retried on a concurrent save."""
    for attempt in range(5):
        try:
            with db.write() as s:
                last = s.scalar(select(func.max(ProcedureDraftRow.revision)).where(
                    ProcedureDraftRow.key == key, ProcedureDraftRow.owner == owner)) or 0
                row = ProcedureDraftRow(key=key, owner=owner, revision=last + 1, name=name[:300], bpmn=bpmn,
                                        based_on=based_on, problems=problems, saved_at=at)
                s.add(row)
                s.flush()
                return _view(row)
        except IntegrityError:
            if attempt == 4:
                raise
    raise RuntimeError("unreachable")


def latest_of_owner(session: Session, owner: str) -> list[tuple[Draft, int]]:
    """The owner's drafts: the last revision of each key, with the number of revisions."""
    last = (select(ProcedureDraftRow.key, func.max(ProcedureDraftRow.revision).label("r"),
                   func.count().label("n"))
            .where(ProcedureDraftRow.owner == owner).group_by(ProcedureDraftRow.key).subquery())
    q = (select(ProcedureDraftRow, last.c.n)
         .join(last, (ProcedureDraftRow.key == last.c.key) & (ProcedureDraftRow.revision == last.c.r))
         .where(ProcedureDraftRow.owner == owner).order_by(ProcedureDraftRow.key))
    return [(_view(r[0]), int(r[1])) for r in session.execute(q)]


def revisions(session: Session, owner: str, key: str) -> list[Draft]:
    q = (select(ProcedureDraftRow).where(ProcedureDraftRow.owner == owner, ProcedureDraftRow.key == key)
         .order_by(ProcedureDraftRow.revision.desc()).limit(MAX_REVISIONS_LISTED))
    return [_view(r) for r in session.scalars(q)]


def source(session: Session, owner: str, key: str, revision: int) -> tuple[Draft, str] | None:
    """A revision and its BPMN, only for its owner (anyone else: None, i.e. not found)."""
    row = session.scalar(select(ProcedureDraftRow).where(
        ProcedureDraftRow.owner == owner, ProcedureDraftRow.key == key, ProcedureDraftRow.revision == revision))
    return None if row is None else (_view(row), row.bpmn)


def delete(db: Database, owner: str, unit: str | None, key: str, at: datetime) -> DraftDeleted | None:
    """Delete the owner's draft of `key`, every revision, and record it in the audit log in the same
    transaction (which work was thrown away: the count and the last revision's hash). None when the
    owner has no draft of `key` (nothing recorded: there was nothing to delete)."""
    with db.write() as s:
        rows = list(s.scalars(select(ProcedureDraftRow).where(
            ProcedureDraftRow.owner == owner, ProcedureDraftRow.key == key).order_by(ProcedureDraftRow.revision)))
        if not rows:
            return None
        last = rows[-1]
        event = DraftDeleted(key=key, revisions=len(rows), last_revision=last.revision,
                             last_hash=hashlib.sha256(last.bpmn.encode("utf-8")).hexdigest())
        s.execute(sql_delete(ProcedureDraftRow).where(ProcedureDraftRow.owner == owner, ProcedureDraftRow.key == key))
        audit.append_in(s, event.kind, owner, unit or None, at, event.to_payload())
        return event
