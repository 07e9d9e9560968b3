"""Reads for the API and the pages: worklists, dossier lists, signals — from the indexed projections.

Nothing here deserialises a workflow or walks an event log (except `events`, which returns one
dossier's log). Lists use keyset ("cursor") pagination on indexed columns, so page 100 costs what
page 1 costs; each function fetches `limit + 1` rows and reports whether there is more.

Read scopes (who sees which dossiers) are decided here, in one place:
- `auditor`, `supervisor` and `inspector` see every dossier, event and signal;
- everyone else sees the dossiers their unit touched or received: received at its desk, about a
  parcel in its commune, holding (or having held) a work item there, or re-routed away by it; and
  the signals about their unit or about themselves.

Reports (`report_unit`): the KPI report is read by auditors and supervisors for the whole
organisation (or one unit they name), and by unit heads for their own unit only; the organisation-
wide audit (verify everything, process-mining export, checkpoints) by auditors only. A refusal here
is an attempt the API records like any refused command (audit log, `unauthorised_attempt`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, exists, func, or_, select, true, union_all
from sqlalchemy.orm import Session, aliased

from .org import Officer
from .search import patterns as search_patterns
from .store import (
    AuditEntryRow,
    CaseEventRow,
    Database,
    DossierRow,
    DossierSearchRow,
    ProcedureVersionRow,
    SignalRow,
    UnitRow,
    WorkItemRow,
)
from .store.models import ITEM_OPEN_SQL, partial_predicate

SEE_ALL = frozenset({"auditor", "supervisor", "inspector"})
UNIT_HEAD = "unit_head"
REPORTS = ("kpi", "audit")
OPEN_DOSSIER = ("new", "in_progress", "awaiting_supplement")
OPEN_ITEM = ("ready", "claimed")


@dataclass(frozen=True)
class Scope:
    """What one officer may read: everything (`unit` None) or one unit's dossiers and signals."""

    unit: str | None
    username: str

    @classmethod
    def of(cls, officer: Officer) -> Scope:
        return cls(None if officer.roles & SEE_ALL else officer.unit, officer.username)

    @property
    def everything(self) -> bool:
        return self.unit is None


@dataclass
class Page:
    rows: list[Any]
    more: bool


@dataclass(frozen=True)
class ItemView:
    id: int
    ordinal: int
    step: str
    name: str
    role: str
    unit: str | None
    assignee: str | None
    state: str
    due: datetime | None
    created_at: datetime
    claimed_at: datetime | None
    done_at: datetime | None
    done_by: str | None
    outcome: str | None
    clock: str


@dataclass
class DossierView:
    id: int
    code: str
    procedure: str
    procedure_version: int
    commune: str | None
    desk_unit: str
    status: str
    outcome: str | None
    received_at: datetime
    due: datetime | None
    statutory_due: datetime | None
    finished_at: datetime | None
    supplement_count: int
    apologised: bool
    remote: bool
    version: int
    last_seq: int
    applicant: dict[str, Any]
    parcel: dict[str, Any]
    work_items: list[ItemView] = field(default_factory=list)

    def late(self, now: datetime) -> bool:
        if self.due is None or self.status in ("stopped", "cancelled"):
            return False
        return (self.finished_at or now) > self.due


@dataclass(frozen=True)
class WorkView:
    item: ItemView
    dossier_id: int
    dossier_code: str
    procedure: str
    dossier_status: str
    dossier_due: datetime | None
    applicant_json: str | None = None

    @property
    def applicant_name(self) -> str:
        try:
            return str(json.loads(self.applicant_json or "{}").get("name", ""))
        except ValueError:
            return ""


def _touched_by(unit: str) -> ColumnElement[bool]:
    """Dossiers unit `unit` touched or received (see the module docstring)."""
    held_item = aliased(WorkItemRow)  # not the outer query's work_item (the dossier query joins its items)
    held = exists().where(held_item.dossier_id == DossierRow.id, held_item.unit == unit)
    rerouted = exists().where(SignalRow.dossier_id == DossierRow.id, SignalRow.unit == unit,
                              SignalRow.kind == "rerouted")
    return or_(DossierRow.desk_unit == unit, DossierRow.commune == unit, held, rerouted)


def _scope_clause(scope: Scope) -> ColumnElement[bool]:
    return true() if scope.unit is None else _touched_by(scope.unit)


def _item(r: WorkItemRow) -> ItemView:
    return ItemView(r.id, r.ordinal, r.step, r.name, r.role, r.unit, r.assignee, r.state, r.due_at, r.created_at,
                    r.claimed_at, r.done_at, r.done_by, r.outcome, r.clock)


def _dossier(row: DossierRow, version: int) -> DossierView:
    return DossierView(
        row.id, row.code, row.procedure, version, row.commune, row.desk_unit, row.status, row.outcome,
        row.received_at, row.due_at, row.statutory_due_at, row.finished_at, row.supplement_count, row.apologised,
        row.remote, row.version, row.last_seq, json.loads(row.applicant or "{}"), json.loads(row.parcel or "{}"),
    )


def ping(db: Database) -> bool:
    """Does the database answer?"""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with db.read() as s:
            s.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False


# -- dossiers ---------------------------------------------------------------------------------------

def visible(session: Session, scope: Scope, dossier_id: int) -> bool:
    q = select(DossierRow.id).where(DossierRow.id == dossier_id, _scope_clause(scope))
    return session.scalar(q) is not None


# The dossier with its work items in one statement (a LEFT JOIN, items in order): every action answers
# with it and every dossier page shows it, so it is one round trip and one consistent snapshot.
_D_COLS = (DossierRow.id, DossierRow.code, DossierRow.procedure, ProcedureVersionRow.version.label("pv"),
           DossierRow.commune, DossierRow.desk_unit, DossierRow.status, DossierRow.outcome, DossierRow.received_at,
           DossierRow.due_at, DossierRow.statutory_due_at, DossierRow.finished_at, DossierRow.supplement_count,
           DossierRow.apologised, DossierRow.remote, DossierRow.version, DossierRow.last_seq, DossierRow.applicant,
           DossierRow.parcel)
_I_COLS = (WorkItemRow.id, WorkItemRow.ordinal, WorkItemRow.step, WorkItemRow.name, WorkItemRow.role,
           WorkItemRow.unit, WorkItemRow.assignee, WorkItemRow.state, WorkItemRow.due_at, WorkItemRow.created_at,
           WorkItemRow.claimed_at, WorkItemRow.done_at, WorkItemRow.done_by, WorkItemRow.outcome, WorkItemRow.clock)
_WITH_ITEMS = (select(*_D_COLS, *(c.label(f"i_{c.key}") for c in _I_COLS))
               .join(ProcedureVersionRow, ProcedureVersionRow.id == DossierRow.procedure_version_id)
               .outerjoin(WorkItemRow, WorkItemRow.dossier_id == DossierRow.id)
               .where(DossierRow.id == bindparam("dossier_id"))
               .order_by(WorkItemRow.ordinal))
_ND, _NI = len(_D_COLS), len(_I_COLS)


def item_dossier(db: Database, scope: Scope, item_id: int) -> int | None:
    """The dossier of a work item, when both exist and the dossier is in scope."""
    with db.read() as s:
        dossier_id = s.scalar(select(WorkItemRow.dossier_id).where(WorkItemRow.id == item_id))
        return dossier_id if dossier_id is not None and visible(s, scope, dossier_id) else None


def dossier(db: Database, scope: Scope, dossier_id: int) -> DossierView | None:
    """One dossier with all its work items, or None when it does not exist or is out of scope."""
    q = _WITH_ITEMS if scope.everything else _WITH_ITEMS.where(_scope_clause(scope))
    with db.lookup() as conn:
        rows: Sequence[Sequence[Any]] = conn.execute(q, {"dossier_id": dossier_id}).all()  # positional columns
    if not rows:
        return None
    d = rows[0]
    values = [*d[:17], json.loads(d[17] or "{}"), json.loads(d[18] or "{}")]
    view = DossierView(*values)
    view.work_items = [ItemView(*r[_ND:_ND + _NI]) for r in rows if r[_ND] is not None]
    return view


def dossier_count(db: Database) -> int:

    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(DossierRow)) or 0)


def dossiers(db: Database, scope: Scope, now: datetime, *, status: str | None = None, unit: str | None = None,
             procedure: str | None = None, overdue: bool | None = None, code: str | None = None,
             before_id: int | None = None, limit: int = 50, received_from: datetime | None = None,
             received_before: datetime | None = None, code_contains: str | None = None,
             applicant: str | None = None, id_number: str | None = None, phone: str | None = None,
             parcel: str | None = None) -> Page:
    """Newest first. `unit` narrows to the dossiers that unit touched; `overdue` = open and past due;
    `received_from` / `received_before` to a period of receipt; `code_contains` to codes containing it;
    `applicant` (any part of the name, marks ignored), `id_number`, `phone`, `parcel` ("sheet/number")
    through the dossier's search line (engine/search.py)."""
    q = (select(DossierRow, ProcedureVersionRow.version)
         .join(ProcedureVersionRow, ProcedureVersionRow.id == DossierRow.procedure_version_id)
         .where(_scope_clause(scope)))
    if status is not None:
        q = q.where(DossierRow.status == status)
    if unit is not None:
        q = q.where(_touched_by(unit))
    if procedure is not None:
        q = q.where(DossierRow.procedure == procedure)
    if code is not None:
        q = q.where(DossierRow.code == code)
    if code_contains:
        q = q.where(DossierRow.code.contains(code_contains, autoescape=True))
    if overdue is not None:
        late = and_(DossierRow.status == "in_progress", DossierRow.due_at < now)
        q = q.where(late if overdue else ~late)
    if received_from is not None:
        q = q.where(DossierRow.received_at >= received_from)
    if received_before is not None:
        q = q.where(DossierRow.received_at < received_before)
    wanted = search_patterns(applicant, id_number, phone, parcel)
    if wanted is None:  # a criterion with nothing to look for: nothing matches
        return Page([], False)
    if wanted:
        q = q.join(DossierSearchRow, DossierSearchRow.dossier_id == DossierRow.id)
        for pattern in wanted:
            q = q.where(DossierSearchRow.line.like(pattern, escape="\\"))
    if before_id is not None:
        q = q.where(DossierRow.id < before_id)
    with db.read() as s:
        rows = s.execute(q.order_by(DossierRow.id.desc()).limit(limit + 1)).all()
    views = [_dossier(r[0], r[1]) for r in rows[:limit]]
    return Page(views, len(rows) > limit)


def events(db: Database, dossier_id: int, after_seq: int = 0, limit: int = 1000) -> Page:
    with db.read() as s:
        rows = list(s.scalars(select(CaseEventRow).where(CaseEventRow.dossier_id == dossier_id,
                                                         CaseEventRow.seq > after_seq)
                              .order_by(CaseEventRow.seq).limit(limit + 1)))
    return Page(rows[:limit], len(rows) > limit)


# -- worklist ---------------------------------------------------------------------------------------

def worklist(db: Database, officer: Officer, *, after: tuple[datetime | None, int] | None = None,
             limit: int = 100, procedure: str | None = None, state: str | None = None,
             code: str | None = None) -> Page:
    """Open items the officer may act on: reserved for or claimed by them, or ready in their unit for
    one of their roles. Soonest deadline first (items without one last), then oldest item.

    A branch office holds tens of thousands of open items in a province. "Mine OR my unit's pool,
    ordered by deadline" would collect all of them and sort; instead each part is read in index order
    ((assignee, state, due_at), and the partial pool index (unit, role, due_at, id)) and cut at the
    page size, and only those few rows are merged, sorted and joined to their dossiers: the cost is the
    page's, not the unit's backlog.

    Narrowed (the pages' filters) to a procedure, an item state, a dossier code containing `code`: the
    state narrows each part; a procedure or code joins each part to its dossier (still read in the
    part's index order, cut at the page).
    """
    if not officer.active:
        return Page([], False)
    W = WorkItemRow
    n = limit + 1
    states = [st for st in OPEN_ITEM if state is None or st == state]
    mine = [and_(W.assignee == officer.username, W.state == st, partial_predicate("work_item", ITEM_OPEN_SQL))
            for st in states]
    # a unit's pool: ready and reserved for nobody (a claimed item always has its holder), per role
    pool = [and_(W.unit == officer.unit, W.role == role, W.state == "ready", W.assignee.is_(None))
            for role in sorted(officer.roles)] if "ready" in states else []
    narrow: list[ColumnElement[bool]] = []
    if procedure is not None:
        narrow.append(DossierRow.procedure == procedure)
    if code:
        narrow.append(DossierRow.code.contains(code, autoescape=True))

    def part(where: ColumnElement[bool]) -> Any:
        q = select(W.id, W.due_at).where(where)
        return q.join(DossierRow, DossierRow.id == W.dossier_id).where(*narrow) if narrow else q

    if not mine and not pool:  # a state no open item has
        return Page([], False)
    due, last_id = after if after is not None else (None, 0)
    parts = []
    for where in (*mine, *pool):
        # with a deadline, in deadline order (none left when the cursor is already past them) ...
        if after is None or due is not None:
            dated = part(where).where(W.due_at.is_not(None))
            if due is not None:
                dated = dated.where(or_(W.due_at > due, and_(W.due_at == due, W.id > last_id)))
            parts.append(dated.order_by(W.due_at, W.id).limit(n).subquery())
        # ... then those without one (SQLite sorts NULL first: never ask it for "NULLS LAST" in one go)
        undated = part(where).where(W.due_at.is_(None))
        if after is not None and due is None:
            undated = undated.where(W.id > last_id)
        parts.append(undated.order_by(W.id).limit(n).subquery())
    picked = union_all(*(select(p.c.id, p.c.due_at) for p in parts)).subquery()
    ids = (select(picked.c.id).order_by(picked.c.due_at.is_(None), picked.c.due_at, picked.c.id).limit(n)
           .scalar_subquery())
    q = (select(*_I_COLS, WorkItemRow.dossier_id, DossierRow.code, DossierRow.procedure, DossierRow.status,
                DossierRow.due_at, DossierRow.applicant)
         .join(DossierRow, DossierRow.id == WorkItemRow.dossier_id)
         .where(WorkItemRow.id.in_(ids))
         .order_by(WorkItemRow.due_at.is_(None), WorkItemRow.due_at, WorkItemRow.id))
    with db.lookup() as conn:  # one statement: one snapshot
        rows: Sequence[Sequence[Any]] = conn.execute(q).all()  # positional columns
    views = [WorkView(ItemView(*r[:_NI]), *r[_NI:]) for r in rows[:limit]]
    return Page(views, len(rows) > limit)


# -- signals ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignalView:
    id: int
    kind: str
    dossier_id: int | None
    dossier_code: str | None
    seq: int
    officer: str | None
    unit: str | None
    at: datetime
    reason: str | None


def signals(db: Database, scope: Scope, *, kind: str | None = None, unit: str | None = None,
            officer: str | None = None, since: datetime | None = None, dossier_id: int | None = None,
            before_id: int | None = None, limit: int = 50) -> Page:
    """Newest first. Out of an auditor's or supervisor's scope: the signals of one's unit or oneself."""
    q = select(SignalRow, DossierRow.code).outerjoin(DossierRow, DossierRow.id == SignalRow.dossier_id)
    if not scope.everything:
        q = q.where(or_(SignalRow.unit == scope.unit, SignalRow.officer == scope.username))
    for column, value in ((SignalRow.kind, kind), (SignalRow.unit, unit), (SignalRow.officer, officer),
                          (SignalRow.dossier_id, dossier_id)):
        if value is not None:
            q = q.where(column == value)
    if since is not None:
        q = q.where(SignalRow.at >= since)
    if before_id is not None:
        q = q.where(SignalRow.id < before_id)
    with db.read() as s:
        rows = s.execute(q.order_by(SignalRow.id.desc()).limit(limit + 1)).all()
    views = [SignalView(r[0].id, r[0].kind, r[0].dossier_id, r[1], r[0].seq, r[0].officer, r[0].unit, r[0].at,
                        r[0].reason) for r in rows[:limit]]
    return Page(views, len(rows) > limit)


def signal_events(db: Database, views: list[SignalView]) -> dict[int, tuple[str, str | None, dict[str, Any]]]:
    """The event behind each signal (type, step, payload), by signal id: pages word a signal from its
    event's code and parameters, not from the English `reason` kept for the API. The step is
    `procedure/step` (steps are named per procedure)."""
    keyed = {(v.dossier_id, v.seq): v.id for v in views if v.dossier_id is not None}
    audit = {v.seq: v.id for v in views if v.dossier_id is None}
    out: dict[int, tuple[str, str | None, dict[str, Any]]] = {}
    with db.read() as s:
        for dossier_ids in _chunks(sorted({d for d, _seq in keyed})):
            q = select(CaseEventRow.dossier_id, CaseEventRow.seq, CaseEventRow.type, CaseEventRow.step,
                       CaseEventRow.payload, DossierRow.procedure).join(
                DossierRow, DossierRow.id == CaseEventRow.dossier_id).where(
                CaseEventRow.dossier_id.in_(dossier_ids), CaseEventRow.seq.in_(sorted({q for _d, q in keyed})))
            for dossier_id, seq, etype, step, payload, procedure in s.execute(q):
                if (dossier_id, seq) in keyed:
                    out[keyed[(dossier_id, seq)]] = (etype, f"{procedure}/{step}" if step else None,
                                                     json.loads(payload))
        if audit:
            q2 = select(AuditEntryRow.seq, AuditEntryRow.type, AuditEntryRow.payload).where(
                AuditEntryRow.seq.in_(sorted(audit)))
            for seq, etype, payload in s.execute(q2):
                out[audit[seq]] = (etype, None, json.loads(payload))
    return out


def _chunks(values: list[int], size: int = 500) -> list[list[int]]:
    return [values[i:i + size] for i in range(0, len(values), size)]


# -- reports ----------------------------------------------------------------------------------------

def report_unit(officer: Officer, report: str, unit: str | None = None) -> str | None:
    """The unit a report is limited to for this officer (None: the whole organisation), or a refusal.

    `unit` is the unit asked for (None: all that the officer may read).
    """
    from .policy import Refusal
    from .runtime.errors import CommandRefused

    if report not in REPORTS:
        raise ValueError(f"unknown report {report}")
    if not officer.active:
        raise CommandRefused(Refusal("forbidden", "inactive", "this account is deactivated"))
    if report == "audit":
        if "auditor" not in officer.roles:
            raise CommandRefused(Refusal("forbidden", "wrong_role", "the organisation-wide audit is for auditors"))
        return None
    if officer.roles & SEE_ALL:
        return unit
    if UNIT_HEAD in officer.roles:
        if unit is not None and unit != officer.unit:
            raise CommandRefused(Refusal("forbidden", "wrong_unit",
                                         f"a unit head reads the KPI of their own unit ({officer.unit}) only"))
        return officer.unit
    raise CommandRefused(Refusal("forbidden", "wrong_role",
                                 "KPI reports are for auditors, supervisors and (of their own unit) unit heads"))


# -- organisation and procedures ---------------------------------------------------------------------

def units(db: Database, type_: str | None = None) -> list[UnitRow]:
    q = select(UnitRow).order_by(UnitRow.type, UnitRow.code)
    if type_ is not None:
        q = q.where(UnitRow.type == type_)
    with db.read() as s:
        return list(s.scalars(q))


@dataclass(frozen=True)
class ProcedureView:
    key: str
    version: int
    name: str
    content_hash: str
    deployed_at: datetime
    deployed_by: str
    meta: dict[str, Any]


def _procedure(row: ProcedureVersionRow) -> ProcedureView:
    return ProcedureView(row.key, row.version, row.name, row.content_hash, row.deployed_at, row.deployed_by,
                         json.loads(row.meta))


def latest_procedures(db: Database) -> list[ProcedureView]:
    from .definitions.registry import latest_versions

    with db.read() as s:
        return [_procedure(r) for r in latest_versions(s)]


def procedure_versions(db: Database, key: str) -> list[ProcedureView]:
    from .definitions.registry import list_versions

    with db.read() as s:
        return [_procedure(r) for r in list_versions(s, key)]


def procedure_source(db: Database, key: str, version: int) -> tuple[ProcedureView, str, list[str]] | None:
    """A version with its BPMN text and DMN texts."""
    with db.read() as s:
        row = s.scalar(select(ProcedureVersionRow).where(ProcedureVersionRow.key == key,
                                                         ProcedureVersionRow.version == version))
        if row is None:
            return None
        return _procedure(row), row.bpmn, json.loads(row.dmns or "[]")
