"""Procedure incidents: a defect of the procedure version, met by a command, is not the officer's act.

A gateway condition that fails at run time, a loop that never reaches a step, a join that can never
fire, data that grows past any sensible size: the officer who clicked did nothing wrong, and the
dossier must not be left in progress with nothing open (no one would ever see it again). So the
command that meets such a defect is refused without blame (`ProcedureIncident`, code
`procedure_incident`, HTTP 409), nothing of it is kept, and the engine records an `incident_raised`
event in the dossier's chain, in its own transaction, naming the BPMN element; its signal
`procedure_incident` goes to supervisors (no officer, no unit). The dossier stays at its current step,
visibly marked (`dossier.incident`), until a supervisor moves it to a step (`move_to_step`, event
`moved`). docs/decisions/0060-procedure-incidents.md gives the reasons.

The bounds here are constants of the engine, not settings: replay applies the same code to recorded
commands and must read no configuration. The data-size bound is a setting because replay never checks
it (a recorded command was, by construction, within the bound in force when it ran).
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from ..errors import Conflict

# Automatic steps (gateways, scripts, events) one command may run. A bundled procedure runs fewer
# than 20; a script <-> gateway loop ran 998 before SpiffWorkflow silently stopped (1.7 s).
MAX_ENGINE_STEPS = 200
# Depth of a step in SpiffWorkflow's task tree. Its iterators stop at depth 1000 (TaskIterator's
# max_depth): a step deeper than that is invisible, so a user-task loop run ~250 times left the
# dossier with nothing open. 600 leaves room for one command's MAX_ENGINE_STEPS below that wall.
MAX_TASK_DEPTH = 600

CAUSES = ("procedure_error", "loop", "stuck", "data_too_large")


class ProcedureIncident(Conflict):
    """The procedure version cannot take this command further; nobody's fault but the procedure's."""

    def __init__(self, cause: str, element: str | None, detail: str):
        where = f" at {element}" if element else ""
        super().__init__("procedure_incident", f"the procedure cannot continue{where} ({cause}): {detail}; "
                                               "the supervisors have been told")
        self.cause = cause
        self.element = element
        self.detail = detail[:500]


class EngineLoop(Exception):
    """Raised from inside SpiffWorkflow's stepping when a command runs more than MAX_ENGINE_STEPS."""

    def __init__(self, element: str):
        super().__init__(f"more than {MAX_ENGINE_STEPS} automatic steps in one command (last at {element})")
        self.element = element


def element_of(task: Task | None) -> str | None:
    if task is None:
        return None
    spec = task.task_spec
    return getattr(spec, "bpmn_id", None) or spec.name


def bound(wf: BpmnWorkflow) -> BpmnWorkflow:
    """Mark a workflow as a live command's: its stepping is bounded from now on (see `engine_steps`)."""
    wf.landflow_step_limit = MAX_ENGINE_STEPS
    return wf


def engine_steps(wf: BpmnWorkflow) -> None:
    """`wf.do_engine_steps()`; bounded for the workflows of live commands (`bound`).

    Every SpiffWorkflow stepping goes through here. Replay and the catch-up after a snapshot re-run
    what was recorded and are not bounded: a history recorded before the bound (a script loop that ran
    998 steps) must still replay and verify.
    """
    limit = getattr(wf, "landflow_step_limit", None)
    if limit is None:
        wf.do_engine_steps()
        return
    count = 0

    def counted(task: Task) -> None:
        nonlocal count
        count += 1
        if count > limit:
            raise EngineLoop(element_of(task) or "?")
        if getattr(task.task_spec, "script", None) is not None:
            wf.landflow_scripts_ran = True  # only scripts make data grow

    wf.do_engine_steps(did_complete_task=counted)


def scripts_ran(wf: BpmnWorkflow) -> bool:
    """Did a script task run since the last call? (Form data is bounded by the forms; scripts are not.)"""
    ran = bool(getattr(wf, "landflow_scripts_ran", False))
    wf.landflow_scripts_ran = False
    return ran


def check_depth(task: Task) -> None:
    """A step deeper than MAX_TASK_DEPTH in the task tree is a loop run too many times."""
    depth = 0
    parent = task.parent
    while parent is not None:
        depth += 1
        if depth > MAX_TASK_DEPTH:
            raise ProcedureIncident("loop", element_of(task),
                                    f"step reached {MAX_TASK_DEPTH} levels deep in the task tree: a loop ran "
                                    "too many times")
        parent = parent.parent


def data_size(value: Any, limit: int) -> int:
    """The JSON size of `value`, counted only until it passes `limit` (then any number > limit).

    The workflow data may hold one list under many names (`b0 = big; b1 = big`): small in memory,
    hundreds of MB once serialised. Counting stops as soon as the bound is passed, so the cost is at
    most about `limit` bytes' worth of walking, whatever the data.
    """
    total = 0
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            total += len(v) + 2
        elif isinstance(v, dict):
            total += 2 + len(v)
            for k, item in v.items():
                total += len(str(k)) + 3
                stack.append(item)
        elif isinstance(v, (list, tuple, set, frozenset)):
            total += 2 + len(v)
            stack.extend(v)
        elif v is None or isinstance(v, bool):
            total += 5
        elif isinstance(v, (int, float)):
            total += 8 if not isinstance(v, int) or v.bit_length() < 64 else len(str(v))
        else:
            total += len(str(v)) + 2
        if total > limit:
            return total
    return total


def check_data(tasks: list[Task], limit: int) -> None:
    """Refuse, as an incident, a command after which some step's workflow data passes `limit` bytes."""
    if limit <= 0:
        return
    for task in tasks:
        size = data_size(task.data, limit)
        if size > limit:
            raise ProcedureIncident("data_too_large", element_of(task),
                                    f"the workflow data passed {limit} bytes (LANDFLOW_MAX_WORKFLOW_DATA_BYTES)")


def from_error(err: BaseException, fallback: str | None) -> ProcedureIncident:
    """A SpiffWorkflow (or evaluator) failure at run time, e.g. a condition reading a missing name."""
    if isinstance(err, EngineLoop):
        return ProcedureIncident("loop", err.element, str(err))
    spec = getattr(err, "task_spec", None)
    element = (getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)) if spec is not None else None
    text = str(err).splitlines()[0][:300] if str(err) else type(err).__name__
    return ProcedureIncident("procedure_error", element or fallback, text)


def stuck_element(wf: BpmnWorkflow) -> str | None:
    """What a dossier with nothing open waits on: a join or event still waiting, else the last task run."""
    for task in wf.get_tasks(state=TaskState.WAITING):
        return element_of(task)
    return element_of(wf.last_task)


def _preorder(top: Task) -> list[Task]:
    """`top` and every task below it, in tree order, without SpiffWorkflow's depth limit."""
    out: list[Task] = []
    stack = [top]
    while stack:
        task = stack.pop()
        out.append(task)
        stack.extend(reversed(task.children))
    return out


def move_to(wf: BpmnWorkflow, step: str) -> None:
    """Put the workflow at `step` (a user task of the top-level process), the supervisor's way out.

    Deterministic (live and replay run it on equal trees): the anchor is the first task, in tree order,
    that is running or waiting (else the last one completed); every other unfinished task is
    cancelled; so is a running or waiting anchor, and `step` grows under it, ready, with its data.
    Where a loop has made the tree deeper than MAX_TASK_DEPTH (histories from before the bound), the
    step grows instead from the anchor's ancestor at half that depth, with that ancestor's data, so
    that SpiffWorkflow sees it again. The tree keeps its history: a later return still works.
    """
    spec = wf.spec.task_specs.get(step)
    if spec is None or not getattr(spec, "manual", False):
        raise LookupError(f"{step} is not a step of the process")
    tasks = _preorder(wf.task_tree)
    active = TaskState.READY | TaskState.WAITING | TaskState.STARTED
    anchor = next((t for t in tasks if t.state & active), None)
    if anchor is None:
        done = [t for t in tasks if t.state == TaskState.COMPLETED]
        anchor = done[-1] if done else wf.task_tree
    depth = anchor.depth
    if depth > MAX_TASK_DEPTH:
        while depth > MAX_TASK_DEPTH // 2 and anchor.parent is not None:
            anchor, depth = anchor.parent, depth - 1
    keep_below = bool(anchor.state & active)  # its predictions are dropped with it below
    below = {t.id for t in _preorder(anchor)} if keep_below else {anchor.id}
    for task in tasks:
        if task.id in below or task.id not in wf.tasks or task.has_state(TaskState.FINISHED_MASK):
            continue
        task.cancel()
    if keep_below:
        anchor._drop_children(force=True)  # what it predicted
        anchor._set_state(TaskState.CANCELLED)
    child = anchor._add_child(spec, TaskState.FUTURE)
    spec._predict(child, mask=TaskState.NOT_FINISHED_MASK)  # what follows the step, as SpiffWorkflow predicts
    spec._update(child)  # inherits the anchor's data, makes it ready
    if child.state != TaskState.READY:
        child._ready()
    wf.completed = False
    engine_steps(wf)
