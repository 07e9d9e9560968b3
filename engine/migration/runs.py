"""Planning a migration from the database, and carrying it out in batches.

`make` reads the two versions and the dossiers on the old one (the projections: the dossier rows,
their open items and waiting timers — never the workflows) and plans each dossier (plan.py).
`start` stores the movable dossiers with the optimistic-lock version each had when planned; every
`batch` then moves the next few through the command path (apply.py). A dossier changed since the plan
is refused as stale by the runtime (recorded in its chain), skipped and reported; so is one that can
no longer move. Supervisors only; refusals of the planning itself go to the audit log.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..definitions.fragments import fragment_step_ids
from ..errors import CommandRefused, Invalid, NotFound
from ..org import Officer
from ..runtime.instances import parallel_steps
from ..store import DossierRow, MigrationRunRow, ProcedureVersionRow, TimerRow, WorkItemRow
from .apply import check_migrate, migrate_dossier
from .plan import MOVES, DossierFacts, OpenItem, Plan, make_plan

if TYPE_CHECKING:
    from ..runtime.commands import Runtime

BATCH = 20
FINISHED = ("done", "stopped", "cancelled")


def guard(runtime: Runtime, officer: Officer, action: str) -> None:
    refusal = check_migrate(officer)
    if refusal is not None:
        refused = CommandRefused(refusal)
        runtime.record_refusal(action, officer, refused)
        raise refused


def _version(s: Session, key: str, version: int) -> ProcedureVersionRow:
    row = s.scalar(select(ProcedureVersionRow).where(ProcedureVersionRow.key == key,
                                                     ProcedureVersionRow.version == version))
    if row is None:
        raise NotFound("no_such_version", f"{key} has no version {version}")
    return row


def dossier_facts(s: Session, version_id: int) -> list[DossierFacts]:
    """The running dossiers of one version, as the plan needs them (three indexed reads)."""
    rows = s.execute(select(DossierRow.id, DossierRow.code, DossierRow.procedure, DossierRow.status,
                            DossierRow.version, DossierRow.incident)
                     .where(DossierRow.procedure_version_id == version_id, DossierRow.status.not_in(FINISHED))
                     .order_by(DossierRow.id)).all()
    ids = [r.id for r in rows]
    items: dict[int, list[OpenItem]] = defaultdict(list)
    timers: dict[int, int] = {}
    if ids:
        for i in s.execute(select(WorkItemRow.dossier_id, WorkItemRow.ordinal, WorkItemRow.step, WorkItemRow.role,
                                  WorkItemRow.state, WorkItemRow.assignee)
                           .where(WorkItemRow.dossier_id.in_(ids), WorkItemRow.state.in_(("ready", "claimed")))
                           .order_by(WorkItemRow.dossier_id, WorkItemRow.ordinal)):
            items[i.dossier_id].append(OpenItem(i.ordinal, i.step, i.role, i.state, i.assignee))
        timers = dict(s.execute(select(TimerRow.dossier_id, func.count()).where(
            TimerRow.dossier_id.in_(ids), TimerRow.state == "waiting").group_by(TimerRow.dossier_id)).all())
    return [DossierFacts(r.id, r.code, r.procedure, version_id, r.status, r.version, tuple(items[r.id]),
                         timers.get(r.id, 0), r.incident) for r in rows]


def make(runtime: Runtime, officer: Officer, key: str, from_version: int, to_version: int,
         mapping: Mapping[str, str] | None = None, deadlines: str = "keep") -> Plan:
    """The dry run: what the migration would do to each running dossier. Changes nothing."""
    guard(runtime, officer, "migration_plan")
    try:
        with runtime.db.read() as s:
            old, new = _version(s, key, from_version), _version(s, key, to_version)
            facts = dossier_facts(s, old.id)
            old_p, new_p = runtime.procedures.get(s, old.id), runtime.procedures.get(s, new.id)
    except CommandRefused as err:
        runtime.record_refusal("migration_plan", officer, err)
        raise
    return make_plan(key, from_version, to_version, old.id, old_p.meta.steps, new_p.meta.steps, facts,
                     mapping, deadlines, fragment_step_ids(old_p.meta) | fragment_step_ids(new_p.meta),
                     parallel_steps(old_p.meta, new_p.meta),
                     frozenset(old_p.meta.parents) | frozenset(new_p.meta.parents))


@dataclass(frozen=True)
class RunStatus:
    id: int
    procedure: str
    from_version: int
    to_version: int
    mapping: dict[str, str]
    deadlines: str
    total: int
    position: int
    moved: int
    skipped: int
    finished: bool
    report: list[dict[str, Any]]
    created_by: str

    @property
    def handled(self) -> int:
        """Dossiers of the run moved or skipped (`position`: also those a batch in progress holds)."""
        return self.moved + self.skipped

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else self.handled * 100 // self.total

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "procedure": self.procedure, "from_version": self.from_version,
                "to_version": self.to_version, "mapping": self.mapping, "deadlines": self.deadlines,
                "total": self.total, "position": self.position, "moved": self.moved, "skipped": self.skipped,
                "finished": self.finished, "percent": self.percent, "report": self.report,
                "created_by": self.created_by}


def _status(row: MigrationRunRow) -> RunStatus:
    return RunStatus(row.id, row.procedure, row.from_version, row.to_version, json.loads(row.mapping),
                     row.deadlines, row.total, row.position, row.moved, row.skipped, row.finished_at is not None,
                     json.loads(row.report), row.created_by)


def start(runtime: Runtime, officer: Officer, plan: Plan, seen: Mapping[int, int] | None = None) -> RunStatus:
    """Store the plan's movable dossiers as a run; the others are reported, not moved.

    `seen`: the dossiers of the dry run the supervisor read, with the versions they had then; only
    those are moved, and one changed since then is refused as stale.
    """
    guard(runtime, officer, "migration_start")
    if plan.problems:
        err = Invalid("bad_migration_plan", "; ".join(plan.problems))
        runtime.record_refusal("migration_start", officer, err)
        raise err
    movable = [{"dossier_id": d.dossier_id, "code": d.code,
                "state_version": d.state_version if seen is None else seen[d.dossier_id]}
               for d in plan.dossiers if d.status == MOVES and (seen is None or d.dossier_id in seen)]
    report = [{"dossier_id": d.dossier_id, "code": d.code, "outcome": d.status, "reason": d.reason,
               "detail": d.detail} for d in plan.dossiers if d.status != MOVES]
    with runtime.db.write() as s:
        row = MigrationRunRow(procedure=plan.procedure, from_version=plan.from_version, to_version=plan.to_version,
                              mapping=json.dumps(plan.mapping, sort_keys=True), deadlines=plan.deadlines,
                              plan=json.dumps(movable), total=len(movable), position=0, moved=0, skipped=0,
                              report=json.dumps(report, ensure_ascii=False), created_by=officer.username,
                              created_at=runtime.clock.now(),
                              finished_at=runtime.clock.now() if not movable else None)
        s.add(row)
        s.flush()
        return _status(row)


def status(runtime: Runtime, run_id: int) -> RunStatus:
    with runtime.db.read() as s:
        row = s.get(MigrationRunRow, run_id)
        if row is None:
            raise NotFound("not_found", f"migration run {run_id} does not exist")
        return _status(row)


def list_runs(runtime: Runtime, key: str | None = None, limit: int = 20) -> list[RunStatus]:
    with runtime.db.read() as s:
        q = select(MigrationRunRow).order_by(MigrationRunRow.id.desc()).limit(limit)
        if key is not None:
            q = q.where(MigrationRunRow.procedure == key)
        return [_status(r) for r in s.scalars(q)]


def batch(runtime: Runtime, officer: Officer, run_id: int, size: int = BATCH) -> RunStatus:
    """Move the next `size` dossiers of the run; each move is its own command (and transaction).

    The batch first reserves its dossiers (the run row locked, `position` advanced), so two batches
    sent at once (two tabs, a double click) never move — or count — the same dossier twice.
    """
    guard(runtime, officer, "migration_batch")
    try:
        with runtime.db.write() as s:
            row = s.get(MigrationRunRow, run_id, **runtime.db.lock_clause())
            if row is None:
                raise NotFound("not_found", f"migration run {run_id} does not exist")
            entries: list[dict[str, Any]] = json.loads(row.plan)[row.position:row.position + max(1, size)]
            row.position += len(entries)
            to_id = _version(s, row.procedure, row.to_version).id
            mapping, deadlines = json.loads(row.mapping), row.deadlines
    except CommandRefused as err:
        runtime.record_refusal("migration_batch", officer, err)
        raise
    moved, report = 0, []
    for entry in entries:
        try:
            migrate_dossier(runtime, officer, entry["dossier_id"], to_id, mapping, deadlines,
                            expected_version=entry["state_version"], run=run_id)
            moved += 1
        except CommandRefused as refused:  # recorded in the dossier's chain by the runtime
            outcome = "stale" if refused.code == "stale_version" else "refused"
            report.append({"dossier_id": entry["dossier_id"], "code": entry["code"], "outcome": outcome,
                           "reason": refused.refusal.params.get("reason") or refused.code,
                           "detail": refused.message})
    with runtime.db.write() as s:
        row = s.get(MigrationRunRow, run_id, **runtime.db.lock_clause())
        assert row is not None
        row.moved += moved
        row.skipped += len(entries) - moved
        row.report = json.dumps(json.loads(row.report) + report, ensure_ascii=False)
        if row.moved + row.skipped >= row.total and row.finished_at is None:
            row.finished_at = runtime.clock.now()
        s.flush()
        return _status(row)


def versions_of(runtime: Runtime, key: str) -> list[tuple[int, int, dict[str, str]]]:
    """The deployed versions of a procedure: (version, id, {step id: step name}), oldest first."""
    with runtime.db.read() as s:
        rows = s.execute(select(ProcedureVersionRow.version, ProcedureVersionRow.id)
                         .where(ProcedureVersionRow.key == key).order_by(ProcedureVersionRow.version)).all()
        return [(v, i, {st.id: st.name for st in runtime.procedures.get(s, i).meta.steps.values()}) for v, i in rows]
