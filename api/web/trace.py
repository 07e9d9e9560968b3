"""A dossier's trace on its procedure's diagram: steps done, steps open, the path taken.

Read from the dossier rebuilt from its events (engine.history.replay, as of the last event or of
event N for the auditor's slider): steps from its work items, the path from the SpiffWorkflow task
tree (every element the dossier went through, and the sequence flows between them). After a
`return`, SpiffWorkflow rewinds to the step returned to, so the path is the one that stands now; the
steps whose work was sent back are marked `returned`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from SpiffWorkflow.util.task import TaskState

from engine.definitions.model import ProcedureMeta
from engine.definitions.subprocess import boxes_of
from engine.runtime.instances import is_multi_instance
from engine.runtime.state import DossierState

from .diagram import Highlight

PASSED = TaskState.COMPLETED | TaskState.READY | TaskState.STARTED | TaskState.WAITING
DONE_OUTCOMES = ("completed", "carried_over")


def _bpmn_id(task: Any) -> str | None:
    spec = task.task_spec
    return getattr(spec, "bpmn_id", None)


def highlight(state: DossierState, workflow: Any, meta: ProcedureMeta) -> Highlight:
    hl = Highlight()
    for item in state.items.values():
        if item.is_open:
            hl.current.add(item.step)
    for item in state.items.values():
        if item.is_open:
            continue
        if item.outcome in DONE_OUTCOMES and item.step not in hl.current:
            hl.done.add(item.step)
        elif item.outcome == "returned" and item.step not in hl.current:
            hl.returned.add(item.step)
    hl.returned -= hl.done
    if state.awaiting and state.status == "in_progress":  # the message events it waits on (runtime/messages.py)
        hl.current.update(state.awaiting.split(","))
    for step in hl.current:  # the sub-processes holding an open step: the dossier is inside them
        hl.passed.update(boxes_of(meta, step))
    hl.instances = open_instances(state, meta)
    if workflow is None:
        return hl
    flows: dict[tuple[str, str], list[str]] = defaultdict(list)
    for f in meta.flows.values():
        flows[(f.source, f.target)].append(f.id)
    for task in workflow.get_tasks(state=PASSED):
        node = _bpmn_id(task)
        if node is None:
            continue
        if task.state == TaskState.COMPLETED and node not in meta.steps:
            hl.passed.add(node)
        parent = task.parent
        while parent is not None and _bpmn_id(parent) is None:
            parent = parent.parent
        if parent is not None:
            hl.flows.update(flows.get((_bpmn_id(parent) or "", node), ()))
    return hl


def step_states(state: DossierState) -> dict[str, str]:
    """Element id -> short state for the diagram's tooltips (open beats done)."""
    out: dict[str, str] = {}
    for item in sorted(state.items.values(), key=lambda i: i.ordinal):
        out[item.step] = item.state if item.is_open else (item.outcome or item.state)
    return out


def open_instances(state: DossierState, meta: ProcedureMeta) -> dict[str, tuple[int, int]]:
    """Per multi-instance step with instances open: (open, all) of its latest round (decision 0163)."""
    out: dict[str, tuple[int, int]] = {}
    for step in {i.step for i in state.items.values() if i.is_open}:
        if not is_multi_instance(meta, step):
            continue
        mine = [i for i in state.items.values() if i.step == step]
        latest = max(i.created_at for i in mine)
        rounds = [i for i in mine if i.created_at == latest]
        out[step] = (sum(1 for i in rounds if i.is_open), len(rounds))
    return out
