"""Actions on a dossier or work item the caller cannot read, checked before any command runs.

An officer who may not read a dossier (engine/queries.py decides read scopes) learns nothing by acting
on it: the answer is the one a missing id gets, word for word (404 `not_found`, "work item N does not
exist or is not yours to read"), on the API and on the pages' forms. The check is a read: no write
lock is taken and the dossier's chain is not touched. The attempt goes to the audit log with its
`unauthorised_attempt` signal, capped per officer and minute (engine/audit.py
`record_unseen_attempt`); a missing id is recorded the same way, so that nothing the officer can
read (their own signals) tells the two apart.
"""

from __future__ import annotations

from engine import audit, queries
from engine.org import Officer

from .auth import engine
from .metrics import refused_unseen
from .problems import ApiProblem

WHAT = {"item": "work item", "dossier": "dossier"}


def not_found_detail(kind: str, target_id: int) -> str:
    return f"{WHAT[kind]} {target_id} does not exist or is not yours to read"


def unseen(officer: Officer, kind: str, target_id: int, action: str) -> str | None:
    """None when the caller may read the dossier (of the item); else the attempt is recorded and the
    not-found detail to answer is returned. `kind` is `item` or `dossier`; `action` the engine's name."""
    lf = engine()
    scope = queries.Scope.of(officer)
    if kind == "item":
        if queries.item_dossier(lf.db, scope, target_id) is not None:
            return None
        dossier = queries.item_dossier(lf.db, queries.Scope(None, ""), target_id)
        target = {"work_item": target_id} if dossier is None else {"work_item": target_id, "dossier": dossier}
        exists = dossier is not None
    else:
        with lf.db.read() as s:
            if queries.visible(s, scope, target_id):
                return None
            exists = queries.visible(s, queries.Scope(None, ""), target_id)
        target = {"dossier": target_id}
    detail = not_found_detail(kind, target_id)
    category = "out_of_scope" if exists else "missing"
    audit.record_unseen_attempt(lf.db, lf.attempts, officer.username, officer.unit or None, lf.clock.now(), action,
                                detail, target, category)
    refused_unseen(action, category)
    return detail


def require_seen(officer: Officer, kind: str, target_id: int, action: str) -> None:
    """The API's form of `unseen`: 404 problem+json, as for a missing id."""
    detail = unseen(officer, kind, target_id, action)
    if detail is not None:
        raise ApiProblem(404, "not_found", detail)
