"""Bring a workflow restored from a snapshot up to date: re-run the SpiffWorkflow part of the recorded
commands after it. The live command path (a cache miss) and replay (engine/history.py) share it, so
both run exactly the same code for a recorded step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .. import events as ev
from ..events import Event, parse
from . import awaiting, fastforward, incidents, timers
from . import workflow as wfm


def apply_spiff(wf: Any, task_of: Callable[[int], str | None], event: Event) -> None:
    """Re-run the SpiffWorkflow part of a recorded command (same code path as the live command).

    `task_of` names the workflow task of a work item (ids differ between processes).
    """
    match event:
        case ev.Completed():
            task = wfm.task_by_id(wf, task_of(event.item) or "")
            if task is None:
                raise LookupError(f"no task for item {event.item}")
            fastforward.run_step(wf, task, {**event.data, **(event.derived or {})})
        case ev.Returned():
            target = wfm.last_completed(wf, event.to_step)
            if target is None:
                raise LookupError(f"step {event.to_step} was never completed")
            wf.reset_from_task_id(target.id)
            incidents.engine_steps(wf)
        case ev.TimerFired():
            timers.fire(wf, event.node)
        case ev.Moved():
            incidents.move_to(wf, event.to_step)
        case ev.MessageReceived():
            awaiting.deliver(wf, event.element, event.data)


def catch_up(wf: Any, tail: list[tuple[str, Mapping[str, Any]]], known: dict[int, str]) -> dict[int, str]:
    """Bring a workflow restored from an older snapshot up to date with the recorded steps after it.

    Returns the task ids of the items opened in the tail (new in this process). `known` maps items
    opened before the snapshot to their task ids (stored on the work item rows).
    """
    mapping: dict[int, str] = {}
    for etype, payload in tail:
        event = parse(etype, payload)
        before = {t.id for t in wfm.ready_steps(wf)}
        apply_spiff(wf, lambda o: mapping.get(o) or known.get(o), event)
        fresh = [t for t in wfm.ready_steps(wf) if t.id not in before]
        for task, new in zip(fresh, event.effects.get("new", []), strict=False):
            mapping[new["item"]] = str(task.id)
    return mapping
