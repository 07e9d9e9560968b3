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
  `timer_fired` event (decided in engine/runtime/timer_firing.py); replay applies exactly the
  recorded firings (`fire`).

Limits: one waiting timer per BPMN node at a time; a timer inside or on a multi-instance step (a
consultation of several agencies, engine/runtime/instances.py) is not supported: the checker refuses a
boundary event on one (engine/definitions/multi_instance.py), each agency's lateness is its own work
item's deadline. A dossier's supplement pause does not move its timers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from ..calendar import WorkingCalendar
from ..jsoncanon import iso
from ..org import SYSTEM, Officer
from .incidents import engine_steps
from .state import DossierState

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
