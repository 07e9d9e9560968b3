"""Which message catch events a dossier waits on, and catching one in SpiffWorkflow (live and in replay).

Below the decisions (engine/runtime/decide.py folds `awaiting` into every event that moves the
workflow); the command itself is engine/runtime/messages.py.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from ..definitions.model import ProcedureMeta
from .context import Context
from .incidents import engine_steps
from .timers import pin_all

CATCH_KINDS = ("intermediateCatchEvent", "boundaryEvent")


def waiting_messages(wf: BpmnWorkflow) -> dict[str, Task]:
    """The message catch events the workflow waits on, by BPMN node id."""
    out: dict[str, Task] = {}
    for task in wf.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, MessageEventDefinition):
            out[task.task_spec.bpmn_id or task.task_spec.name] = task
    return out


def deliver(wf: BpmnWorkflow, node: str, data: dict[str, Any]) -> None:
    """Catch the message at `node` with `data` (live, and in replay from the recorded event)."""
    task = waiting_messages(wf).get(node)
    if task is None:
        raise LookupError(f"the workflow is not waiting on message event {node}")
    definition = task.task_spec.event_definition
    task.set_data(**data)  # the payload becomes workflow data: later gateways may read the notice
    task.task_spec.catch(task, BpmnEvent(definition, payload=dict(data)))
    task.task_spec._update(task)
    engine_steps(wf)
    pin_all(wf)


def has_messages(meta: ProcedureMeta) -> bool:
    """Cheap gate: the linter requires `from_role` on every message catch event."""
    return any(n.kind in CATCH_KINDS and "from_role" in n.properties for n in meta.nodes.values())


def sync_awaiting(ctx: Context, fx: dict[str, Any]) -> None:
    """After the workflow moved: the message events it waits on now, into `fx["dossier"]`."""
    if ctx.wf is None or not ctx.wf_changed or ctx.proc is None or not has_messages(ctx.proc.meta):
        return
    waiting = sorted(waiting_messages(ctx.wf))
    nodes = ctx.proc.meta.nodes
    awaiting = ",".join(waiting) or None
    paused = any(nodes[n].properties.get("clock") == "paused" for n in waiting if n in nodes)
    dossier_fx = fx.get("dossier", {})
    if dossier_fx.get("status", ctx.state.status) in ("done", "stopped", "cancelled"):
        awaiting, paused = None, False
    if awaiting != ctx.state.awaiting:
        fx.setdefault("dossier", {})["awaiting"] = awaiting
    if paused != ctx.state.awaiting_paused:
        fx.setdefault("dossier", {})["awaiting_paused"] = paused


def replayed_message_problem(wf: BpmnWorkflow, awaiting: str | None) -> str | None:
    """In replay: does the workflow wait on the message events the log recorded?"""
    actual = sorted(waiting_messages(wf))
    recorded = sorted(awaiting.split(",")) if awaiting else []
    if actual != recorded:
        return f"the procedure waits on message events {actual} but the log recorded {recorded}"
    return None
