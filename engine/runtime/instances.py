"""Parallel multi-instance steps at run time: one work item per agency consulted (decision 0163).

SpiffWorkflow turns a multi-instance user task `consult` into a `ParallelMultiInstanceTask` named
`consult` and one child task per element of its collection, whose spec is named `consult [child]`; the
child's data holds its element (a role code) under the `inputDataItem`. landflow opens one work item per
child: same step id, owned by the role of its child (resolved to a unit like every owner), with the
step's limit. The step after opens only when SpiffWorkflow's join says every child is done.

The collection is the step's `instances` property, put into the workflow's data when the dossier
starts (`collections`), so live commands and replay start from the same data. Returning from or to
such a step is refused (`parallel_instance`): one agency cannot pull back the dossier the others are
still answering on, and re-running a consultation is a new consultation, not a return.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import ParallelMultiInstanceTask
from SpiffWorkflow.task import Task

from ..definitions.model import ProcedureMeta
from ..definitions.multi_instance import INSTANCES, owners
from ..errors import Conflict

CHILD = " [child]"  # the suffix SpiffWorkflow gives the spec of a multi-instance task's instances


def step_of(task: Task) -> str:
    """The procedure step a ready task belongs to (an instance belongs to its multi-instance step)."""
    return str(task.task_spec.name).removesuffix(CHILD)


def owner_role(task: Task, step_role: str | None) -> str | None:
    """An instance's role is its element of the collection; any other task's is its step's."""
    parent = task.parent
    spec = parent.task_spec if parent is not None else None
    if isinstance(spec, ParallelMultiInstanceTask) and spec.input_item is not None:
        role = task.data.get(spec.input_item.bpmn_id)
        return role if isinstance(role, str) else step_role
    return step_role


def multi_instance_steps(spec: BpmnProcessSpec) -> dict[str, ParallelMultiInstanceTask]:
    return {name: s for name, s in spec.task_specs.items() if isinstance(s, ParallelMultiInstanceTask)}


def collections(specs: Iterable[BpmnProcessSpec], meta: ProcedureMeta) -> dict[str, Any]:
    """The agencies' collections the dossier starts with: `{loopDataInputRef: {role: role, ...}}`, from
    the process and its sub-processes (whose data comes from the process's).

    A mapping, so SpiffWorkflow keys each instance (and its answer in `loopDataOutputRef`) by role:
    the step after reads `opinions["tax_office"]`."""
    out: dict[str, Any] = {}
    for name, mi in ((n, s) for spec in specs for n, s in multi_instance_steps(spec).items()):
        node = meta.nodes.get(name)
        if node is None or mi.data_input is None:
            continue
        out[mi.data_input.bpmn_id] = {role: role for role in owners(node.properties.get(INSTANCES))}
    return out


def is_multi_instance(meta: ProcedureMeta, step: str) -> bool:
    node = meta.nodes.get(step)
    return node is not None and INSTANCES in node.properties


def parallel_steps(*metas: ProcedureMeta) -> frozenset[str]:
    """The multi-instance steps of these versions (a migration moves no dossier at or to one)."""
    return frozenset(n.id for meta in metas for n in meta.nodes.values() if INSTANCES in n.properties)


def check_return(meta: ProcedureMeta, from_step: str, to_step: str) -> None:
    """Refuse a return from one agency's instance, or back to a consultation (see the module's doc)."""
    if is_multi_instance(meta, from_step):
        raise Conflict("parallel_instance", f"step {from_step} is consulted in parallel: one agency cannot return "
                                            "the dossier while the others answer; give the answer in the form")
    if is_multi_instance(meta, to_step):
        raise Conflict("parallel_instance", f"step {to_step} was consulted in parallel: a dossier is not returned to "
                                            "a consultation")
