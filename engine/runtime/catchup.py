"""Bring a workflow restored from a snapshot up to date: re-run the SpiffWorkflow part of the recorded
commands after it. The live command path (a cache miss) and replay (engine/history.py) share it, so
both run exactly the same code for a recorded step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import fastforward, incidents, timers
from . import workflow as wfm


def apply_spiff(wf: Any, task_of: Callable[[int], str | None], etype: str, payload: dict[str, Any]) -> None:
    """Re-run the SpiffWorkflow part of a recorded command (same code path as the live command).

    `task_of` names the workflow task of a work item (ids differ between processes).
    """
    if etype == "completed":
        task = wfm.task_by_id(wf, task_of(payload["item"]) or "")
        if task is None:
            raise LookupError(f"no task for item {payload['item']}")
        fastforward.run_step(wf, task, {**payload.get("data", {}), **payload.get("derived", {})})
    elif etype == "returned":
        target = wfm.last_completed(wf, payload["to_step"])
        if target is None:
            raise LookupError(f"step {payload['to_step']} was never completed")
        wf.reset_from_task_id(target.id)
        incidents.engine_steps(wf)
    elif etype == "timer_fired":
        timers.fire(wf, payload["node"])
    elif etype == "moved":
        incidents.move_to(wf, payload["to_step"])


def catch_up(wf: Any, tail: list[tuple[str, dict[str, Any]]], known: dict[int, str]) -> dict[int, str]:
    """Bring a workflow restored from an older snapshot up to date with the recorded steps after it.

    Returns the task ids of the items opened in the tail (new in this process). `known` maps items
    opened before the snapshot to their task ids (stored on the work item rows).
    """
    mapping: dict[int, str] = {}
    for etype, payload in tail:
        before = {t.id for t in wfm.ready_steps(wf)}
        apply_spiff(wf, lambda o: mapping.get(o) or known.get(o), etype, payload)
        fresh = [t for t in wfm.ready_steps(wf) if t.id not in before]
        for task, new in zip(fresh, payload.get("fx", {}).get("new", []), strict=False):
            mapping[new["item"]] = str(task.id)
    return mapping
