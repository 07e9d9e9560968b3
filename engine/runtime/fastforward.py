"""Opening a dossier at a later step (`resume_at`): the steps before it were done elsewhere.

A transitional dossier continues "from where it stands": the former district body already received
and partly handled it. The engine starts the procedure and completes each earlier step on the
dossier's behalf, with outcome `carried_over`, until the target step is ready. Which data does it
record for those steps? Only what the routing needs:

- a value the hand-over record carries (same field name) is used as it is;
- a required bool or choice field that a gateway condition reads is tried, bools `false` first (a
  flag the record does not carry is assumed absent), choices in the order the form declares them,
  until the target step stays reachable;
- any other field is left unset: the engine invents no facts about the dossier.

The plan is searched on copies of the workflow, then applied to the real one; the `opened` event
records each carried step with its data, and replay applies the same data in the same order.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task

from ..definitions.forms import FormField, clean_submission
from ..definitions.model import ProcedureMeta
from . import workflow as wfm
from .incidents import EngineLoop, bound, engine_steps

MAX_COMBINATIONS = 256
TRIAL_ERRORS = (SpiffWorkflowException, ValueError, TypeError, KeyError, LookupError, NameError, EngineLoop)


def steering_names(meta: ProcedureMeta) -> set[str]:
    """Names that gateway conditions read."""
    names: set[str] = set()
    for flow in meta.flows.values():
        if flow.condition:
            try:
                tree = ast.parse(flow.condition, mode="eval")
            except SyntaxError:
                continue
            names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return names


def _options(f: FormField, carried: dict[str, Any], steering: set[str]) -> list[Any] | None:
    """Values to try for one field; None leaves it unset."""
    if f.name in carried:
        clean, problems = clean_submission([f], {f.name: carried[f.name]})
        if not problems and f.name in clean:
            return [clean[f.name]]
    if f.name not in steering or not f.required:
        return None
    if f.type == "bool":
        return [False, True]
    if f.type == "choice":
        return list(f.choices)
    return None


def _combinations(meta: ProcedureMeta, step: str, carried: dict[str, Any],
                  steering: set[str]) -> Iterator[dict[str, Any]]:
    form = meta.steps[step].form if step in meta.steps else ()
    names: list[str] = []
    choices: list[list[Any]] = []
    for f in form:
        opts = _options(f, carried, steering)
        if opts is not None:
            names.append(f.name)
            choices.append(opts)
    for values in itertools.islice(itertools.product(*choices), MAX_COMBINATIONS):
        yield dict(zip(names, values, strict=True))


def run_step(wf: BpmnWorkflow, task: Task, data: dict[str, Any]) -> None:
    """Complete one user task with data and let SpiffWorkflow step on (the live and replay path)."""
    task.data.update(data)
    task.run()
    engine_steps(wf)


def plan(proc: wfm.Procedure, wf: BpmnWorkflow, target: str, carried: dict[str, Any],
         depth: int | None = None) -> list[tuple[str, dict[str, Any]]] | None:
    """The steps (with data) to complete so that `target` is ready, or None when it cannot be reached.

    Leaves `wf` untouched: every trial runs on a copy.
    """
    depth = len(proc.meta.steps) + 1 if depth is None else depth
    ready = wfm.ready_steps(wf)
    if any(t.task_spec.name == target for t in ready):
        return []
    if depth <= 0 or not ready:
        return None
    steering = steering_names(proc.meta)
    blob = wfm.snapshot(wf)
    for task in ready:
        step = task.task_spec.name
        if step == target:
            continue
        for values in _combinations(proc.meta, step, carried, steering):
            trial = bound(wfm.restore(proc, blob))
            trial_task = wfm.task_by_id(trial, str(task.id))
            if trial_task is None:
                continue
            try:
                run_step(trial, trial_task, values)
            except TRIAL_ERRORS:
                continue
            rest = plan(proc, trial, target, carried, depth - 1)
            if rest is not None:
                return [(step, values), *rest]
    return None


def ready_task(wf: BpmnWorkflow, step: str) -> Task:
    for task in wfm.ready_steps(wf):
        if task.task_spec.name == step:
            return task
    raise LookupError(f"step {step} is not ready")


def replay(wf: BpmnWorkflow, carried: list[dict[str, Any]]) -> None:
    """Apply the carried-over steps an `opened` event recorded."""
    for entry in carried:
        run_step(wf, ready_task(wf, entry["step"]), entry.get("data", {}))
