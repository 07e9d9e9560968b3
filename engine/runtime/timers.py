"""BPMN timers, fired by recorded events and never by SpiffWorkflow's wall clock.

SpiffWorkflow decides that a duration timer has fired by comparing `now + duration` (taken from the
wall clock when the workflow first reaches the timer) with the wall clock again (TRAPS.md). That
would make a replay, or a test with a frozen clock, depend on when it runs. So:

- whenever a command moves the workflow, the timers it now waits on are *pinned* (their SpiffWorkflow
  due time is set to the far future, so SpiffWorkflow never fires them by itself) and recorded in the
  event's effects (`fx["timers"]`) with a due time the engine computes: **working time** from the
  moment the workflow reached the timer, with the same calendar as step limits (a `P3D` timer
  reached on Friday 10:00 is due on Wednesday 10:00). Durations are the validator's working-time
  durations; SpiffWorkflow's own reading of them as calendar time is ignored;
- the projection `bpmn_timer` (state, due_at) is what the scheduler sweeps;
- the scheduler fires a due timer through `Runtime.fire_timer`, an engine command that records a
  `timer_fired` event; replay applies exactly the recorded firings (`fire`).

Limits: one waiting timer per BPMN node at a time (a timer inside a parallel multi-instance is not
supported); a dossier's supplement pause does not move its timers.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select

from ..calendar import WorkingCalendar
from ..jsoncanon import iso
from ..org import SYSTEM, Officer
from ..store import TimerRow
from .incidents import engine_steps
from .state import DossierState, TimerState

if TYPE_CHECKING:
    from .commands import Runtime, Work

FAR_FUTURE = "9999-12-31T00:00:00+00:00"
SYSTEM_OFFICER = Officer(SYSTEM, "landflow", "", frozenset())


def waiting_timers(wf: BpmnWorkflow) -> dict[str, Task]:
    """The timer events the workflow waits on, by BPMN node id."""
    out: dict[str, Task] = {}
    for task in wf.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            out[task.task_spec.bpmn_id or task.task_spec.name] = task
    return out


def pin(tasks: list[Task] | Any) -> None:
    """Make SpiffWorkflow's wall-clock check never fire these timers by itself."""
    for task in tasks:
        if not task._get_internal_data("event_fired", False):
            task._set_internal_data(event_value=FAR_FUTURE)


def pin_all(wf: BpmnWorkflow) -> None:
    pin(list(waiting_timers(wf).values()))


def duration_of(task: Task) -> str:
    text = str(task.task_spec.event_definition.expression).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return text


def fire(wf: BpmnWorkflow, node: str) -> None:
    """Fire the waiting timer at `node` now, as a recorded event says (live and in replay)."""
    task = waiting_timers(wf).get(node)
    if task is None:
        raise LookupError(f"the workflow is not waiting on timer {node}")
    task._set_internal_data(event_fired=True)
    task.task_spec._update(task)
    engine_steps(wf)
    pin_all(wf)


def _attached_item(task: Task, state: DossierState, task_ids: dict[int, str]) -> int | None:
    """For a boundary timer: the work item of the activity it hangs on."""
    parent = task.parent
    if parent is None:
        return None
    siblings = {str(c.id) for c in parent.children if c is not task}
    for ordinal, tid in task_ids.items():
        if tid in siblings:
            return ordinal
    for item in state.open_items():
        if item.task_id in siblings:
            return item.ordinal
    return None


def timer_effects(calendar: WorkingCalendar, state: DossierState, wf: BpmnWorkflow, at: datetime,
                  pending: dict[str, dict[str, Any]], task_ids: dict[int, str]) -> None:
    """Add to `pending` (fx["timers"]) the timers the workflow now waits on and those it left."""
    waiting = waiting_timers(wf)
    pin(list(waiting.values()))
    live = {t.node: o for o, t in state.timers.items() if t.state == "waiting" and str(o) not in pending}
    for node, ordinal in live.items():
        if node not in waiting:
            pending[str(ordinal)] = {"state": "cancelled", "done_at": iso(at)}
    ordinal = state.next_timer
    for node, task in waiting.items():
        if node in live:
            continue
        duration = duration_of(task)
        pending[str(ordinal)] = {"node": node, "duration": duration, "item": _attached_item(task, state, task_ids),
                                 "state": "waiting", "created_at": iso(at), "due_at": iso(calendar.add(at, duration))}
        ordinal += 1


def replayed_timer_problem(wf: BpmnWorkflow, state: DossierState) -> str | None:
    """In replay: do the timers the workflow waits on equal the waiting timers the log recorded?"""
    pin_all(wf)
    recorded = sorted(t.node for t in state.timers.values() if t.state == "waiting")
    actual = sorted(waiting_timers(wf))
    if recorded != actual:
        return f"the procedure waits on timers {actual} but the log recorded {recorded}"
    return None


class TimerMixin:
    """The engine side of timers: keep the projection in step with the workflow; fire due timers."""

    def sync_timers(self: Runtime, work: Work, fx: dict[str, Any], task_ids: dict[int, str]) -> None:
        if work.wf is None or not work.wf_changed or (work.proc is not None and not work.proc.has_timers):
            return
        state = work.state
        if not state.timers_loaded:
            for row in work.session.scalars(select(TimerRow).where(TimerRow.dossier_id == state.id,
                                                                    TimerRow.state == "waiting")):
                state.timers[row.ordinal] = TimerState(row.ordinal, row.node, row.duration, row.item, row.state,
                                                       row.created_at, row.due_at, row.done_at)
            top = work.session.scalar(select(func.max(TimerRow.ordinal)).where(TimerRow.dossier_id == state.id))
            state.next_timer = (top or 0) + 1
            state.timers_loaded = True
        pending: dict[str, dict[str, Any]] = fx.get("timers", {})
        timer_effects(self.calendar, state, work.wf, work.at, pending, task_ids)
        if pending:
            fx["timers"] = pending

    def persist_timers(self: Runtime, work: Work) -> None:
        state = work.state
        for ordinal in sorted(state.dirty_timers):
            timer = state.timers[ordinal]
            row = work.session.scalar(select(TimerRow).where(TimerRow.dossier_id == state.id,
                                                             TimerRow.ordinal == ordinal))
            if row is None:
                row = TimerRow(dossier_id=state.id, ordinal=ordinal)
                work.session.add(row)
            row.node, row.duration, row.item, row.state = timer.node, timer.duration, timer.item, timer.state
            row.created_at, row.due_at, row.done_at = timer.created_at, timer.due_at, timer.done_at
        state.dirty_timers.clear()

    def fire_timer(self: Runtime, dossier_id: int, ordinal: int) -> bool:
        """Fire a due timer (the scheduler calls this). False when there was nothing to fire: the timer
        is no longer waiting, or the dossier has finished."""
        from .commands import Target

        fired: list[bool] = []

        def decide(work: Work) -> None:
            row = work.session.scalar(select(TimerRow).where(TimerRow.dossier_id == dossier_id,
                                                             TimerRow.ordinal == ordinal))
            if row is None or row.state != "waiting" or work.state.is_finished:
                return
            wf = self.load_workflow(work)
            self.run_spiff(work, lambda: fire(wf, row.node))
            new, task_ids, closed = self.new_items(work, None)
            fx: dict[str, Any] = {"new": new, "items": closed,
                                  "timers": {str(ordinal): {"state": "fired", "done_at": iso(work.at)}}}
            self.finish_if_ended(work, fx)
            self.emit(work, "timer_fired", {"timer": ordinal, "node": row.node, "due_at": iso(row.due_at), "fx": fx},
                      step=row.node, task_ids=task_ids)
            fired.append(True)

        self._run("fire_timer", SYSTEM_OFFICER, Target(dossier_id=dossier_id), None, decide)
        return bool(fired)
