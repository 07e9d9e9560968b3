"""The versioned registry of procedures: content-addressed, append-only.

The same bytes deploy to the same version (a supervisor re-uploading a file changes nothing); new
content for a key becomes the next version; a dossier stays on the version it was opened with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..events import ProcedureDeployed
from ..store import Database, ProcedureVersionRow
from .spec import spec_to_json
from .validate import CheckedProcedure


@dataclass(frozen=True)
class Deployed:
    id: int
    key: str
    version: int
    created: bool


def find_by_hash(session: Session, content_hash: str) -> ProcedureVersionRow | None:
    return session.scalar(select(ProcedureVersionRow).where(ProcedureVersionRow.content_hash == content_hash))


def store_version(session: Session, checked: CheckedProcedure, actor: str, at: datetime) -> Deployed:
    existing = find_by_hash(session, checked.content_hash)
    if existing is not None:
        return Deployed(existing.id, existing.key, existing.version, False)
    last = session.scalar(select(func.max(ProcedureVersionRow.version))
                          .where(ProcedureVersionRow.key == checked.meta.key)) or 0
    row = ProcedureVersionRow(
        key=checked.meta.key, version=last + 1, name=checked.meta.name, content_hash=checked.content_hash,
        bpmn=checked.bpmn.decode("utf-8"), dmns=json.dumps([d.decode("utf-8") for d in checked.dmns]),
        meta=json.dumps(checked.meta.as_dict(), ensure_ascii=False, sort_keys=True),
        spec=spec_to_json(checked.spec, checked.subprocess_specs), deployed_at=at, deployed_by=actor,
    )
    session.add(row)
    session.flush()
    return Deployed(row.id, row.key, row.version, True)


def deploy(db: Database, checked: CheckedProcedure, actor: str, at: datetime) -> Deployed:
    """Store in its own transaction; a concurrent deploy of the same key retries for the next number."""
    from .. import audit

    for attempt in range(5):
        try:
            with db.write() as s:
                result = store_version(s, checked, actor, at)
                if result.created:
                    deployed = ProcedureDeployed(key=result.key, version=result.version,
                                                 content_hash=checked.content_hash)
                    audit.append_in(s, deployed.kind, actor, None, at, deployed.to_payload())
                return result
        except IntegrityError:
            if attempt == 4:
                raise
    raise RuntimeError("unreachable")


def list_versions(session: Session, key: str | None = None) -> list[ProcedureVersionRow]:
    q = select(ProcedureVersionRow).order_by(ProcedureVersionRow.key, ProcedureVersionRow.version)
    if key is not None:
        q = q.where(ProcedureVersionRow.key == key)
    return list(session.scalars(q))


def latest_versions(session: Session) -> list[ProcedureVersionRow]:
    latest = (select(ProcedureVersionRow.key, func.max(ProcedureVersionRow.version).label("v"))
              .group_by(ProcedureVersionRow.key).subquery())
    q = (select(ProcedureVersionRow)
         .join(latest, (ProcedureVersionRow.key == latest.c.key) & (ProcedureVersionRow.version == latest.c.v))
         .order_by(ProcedureVersionRow.key))
    return list(session.scalars(q))
