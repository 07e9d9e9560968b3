"""One dossier's move to a later version: the `migrated` event, through the runtime's command path.

The command locks and loads the dossier as every command does (the runtime's `_run`: a load phase,
here also the new version and the dossier's waiting timers, then a decision without I/O), plans the
dossier again from its state now (a plan made earlier may be stale: then the expected version no
longer matches and the runtime refuses and records it), rebuilds the workflow on the new version's
spec and folds the effects: the dossier's `procedure_version_id`, and for each open item its new step,
name, owner role (and unit, when the role changed), limit, clock and — under `recompute` — due time.
The item keeps its ordinal, its ready and claimed times: time already spent still counts in KPI.

The workflow is rebuilt, not converted: SpiffWorkflow 3.2's own migration helpers
(`SpiffWorkflow.bpmn.util.diff`: `diff_workflow` / `migrate_workflow`) keep the old task tree and swap
specs task by task, which cannot express a renamed or removed step the supervisor maps. Here the new
version's workflow starts with the dossier's current data and is put at the mapped step with the
same `move_to` a supervisor uses for incidents (engine/runtime/incidents.py). Replay does exactly
that again from the event (`replay_move`), so `verify` rebuilds on the right version from the event on.
Because the event is not one of the log's workflow-tail events, the command always writes a fresh
snapshot at the migration: a cold load never replays an old version's tail on the new spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import Connection, func, select

from ..definitions.fragments import fragment_step_ids
from ..errors import Conflict, Invalid
from ..events import Migrated
from ..jsoncanon import iso
from ..org import Officer, UnresolvedOwner
from ..policy import Refusal
from ..runtime import workflow as wfm
from ..runtime.context import Context, Target
from ..runtime.decide import check, emit, run_spiff
from ..runtime.incidents import bound, move_to
from ..runtime.instances import parallel_steps
from ..runtime.state import DossierState
from ..store import TimerRow
from .plan import MOVES, DossierFacts, DossierPlan, OpenItem, plan_dossier

if TYPE_CHECKING:
    from ..runtime.commands import Runtime

FORCE_SNAPSHOT = -(10**9)  # snapshot_seq far behind: the persistence phase writes the snapshot now


def check_migrate(officer: Officer) -> Refusal | None:
    """Supervisors only (an auditor's or an officer's attempt is refused and recorded)."""
    if "supervisor" not in officer.roles:
        return Refusal("forbidden", "wrong_role", "only supervisors migrate dossiers between versions")
    return None


def facts_of(state: DossierState, waiting_timers: int) -> DossierFacts:
    items = tuple(OpenItem(i.ordinal, i.step, i.role, i.state, i.assignee) for i in state.open_items())
    return DossierFacts(state.id, state.code, state.procedure, state.procedure_version_id, state.status,
                        state.version, items, waiting_timers, state.incident)


def rebuild(proc: wfm.Procedure, data: dict[str, Any], targets: list[str]) -> BpmnWorkflow:
    """The new version's workflow with the dossier's data, at `targets` (one step: see plan.py)."""
    wf = wfm.start(proc, data)
    ready = [t.task_spec.name for t in wfm.ready_steps(wf)]
    if ready != targets:
        for target in targets:
            move_to(wf, target)
    return wf


def replay_move(proc: wfm.Procedure, wf: BpmnWorkflow, state: DossierState, event: Migrated) -> BpmnWorkflow:
    """Replay's side (engine/history.py): the same rebuild, and the moved items learn their new tasks."""
    targets = [s["to_step"] for s in event.steps]
    new = rebuild(proc, wfm.current_data(wf), targets)
    by_step = {t.task_spec.name: str(t.id) for t in wfm.ready_steps(new)}
    for s in event.steps:
        item = state.items.get(int(s["item"]))
        if item is not None:
            item.task_id = by_step.get(s["to_step"])
    return new


@dataclass(frozen=True)
class Loaded:
    """What the load phase reads for a move besides the dossier and its workflow."""

    new: wfm.Procedure
    waiting_timers: int


def migrate_dossier(runtime: Runtime, officer: Officer, dossier_id: int, to_version_id: int,
                    mapping: Mapping[str, str], deadlines: str = "keep", expected_version: int | None = None,
                    run: int | None = None) -> DossierState:
    """Move one dossier; refused (and recorded) when it cannot move or changed since `expected_version`."""

    def load_also(conn: Connection, ctx: Context) -> None:
        runtime._load_workflow(conn, ctx)
        waiting = conn.execute(select(func.count()).select_from(TimerRow).where(
            TimerRow.dossier_id == ctx.state.id, TimerRow.state == "waiting")).scalar_one()
        ctx.extra = Loaded(runtime.procedures.get(conn, to_version_id), int(waiting))

    def decide(ctx: Context) -> DossierState:
        check(check_migrate(officer))
        if deadlines not in ("keep", "recompute"):
            raise Invalid("bad_deadline_rule", "deadlines must be keep or recompute")
        state, loaded = ctx.state, ctx.extra
        assert isinstance(loaded, Loaded)
        old, new = ctx.procedure(), loaded.new
        if new.key != old.key:
            raise Invalid("other_procedure", f"version {to_version_id} is not of {old.key}")
        if new.version <= old.version:
            raise Invalid("not_later_version", "a dossier moves only to a later version")
        decided = plan_dossier(facts_of(state, loaded.waiting_timers), state.procedure_version_id,
                               old.meta.steps, new.meta.steps, mapping,
                               fragment_step_ids(old.meta) | fragment_step_ids(new.meta),
                               parallel_steps(old.meta, new.meta),
                               frozenset(old.meta.parents) | frozenset(new.meta.parents))
        if decided.status != MOVES:
            raise Conflict("cannot_migrate", decided.detail, {"reason": decided.reason or ""})
        data = wfm.current_data(ctx.workflow())
        targets = [m.to_step for m in decided.moves]
        built: list[BpmnWorkflow] = []
        run_spiff(ctx, lambda: built.append(bound(rebuild(new, data, targets))), element=targets[0])
        new_wf = built[0]
        items = _item_changes(ctx, new, decided, deadlines)
        by_step = {t.task_spec.name: str(t.id) for t in wfm.ready_steps(new_wf)}
        for m in decided.moves:
            state.items[m.ordinal].task_id = by_step.get(m.to_step)
            state.dirty_items.add(m.ordinal)
        ctx.proc, ctx.wf = new, new_wf
        fx: dict[str, Any] = {"dossier": {"procedure_version_id": new.version_id}}
        if items:
            fx["items"] = items
        emit(ctx, Migrated(procedure=old.key, from_version=old.version, to_version=new.version,
                           procedure_version_id=new.version_id, mapping=dict(mapping),
                           steps=[{"item": m.ordinal, "from_step": m.from_step, "to_step": m.to_step}
                                  for m in decided.moves],
                           deadlines=deadlines, run=run, fx=fx), step=targets[0])
        state.snapshot_seq = FORCE_SNAPSHOT
        return state

    return runtime._run("migrate", officer, Target(dossier_id=dossier_id), expected_version, decide, load_also)


def _item_changes(ctx: Context, new: wfm.Procedure, decided: DossierPlan, deadlines: str) -> dict[str, dict[str, Any]]:
    state = ctx.state
    out: dict[str, dict[str, Any]] = {}
    for m in decided.moves:
        item = state.items[m.ordinal]
        meta = new.meta.steps[m.to_step]
        assert meta.role is not None and meta.sla is not None  # deployed versions carry both (the checker)
        changes: dict[str, Any] = {"step": meta.id, "name": meta.name, "role": meta.role, "sla": meta.sla,
                                   "clock": meta.clock}
        if m.role_changed:
            try:
                changes["unit"] = ctx.directory.owner_unit(meta.role, state.commune, state.desk_unit)
            except UnresolvedOwner as err:
                raise Invalid("no_owner", str(err)) from None
            changes["assignee"] = None
        if deadlines == "recompute":
            changes["due_at"] = iso(ctx.calendar.add(item.created_at, meta.sla))
        changed = {k: v for k, v in changes.items() if getattr(item, k) != v}
        if changed:
            out[str(m.ordinal)] = changed
    return out
