"""The decision of `fire_timer`: the scheduler found a BPMN timer due (engine/runtime/timers.py)."""

from __future__ import annotations

from typing import Any

from ..events import TimerFired
from ..jsoncanon import iso
from .context import Context
from .decide import emit, finish_if_ended, new_items, run_spiff
from .timers import fire


def fire_timer(ctx: Context, ordinal: int) -> bool:
    """Fire the timer the load phase read (`ctx.timer`); False when there is nothing to fire: the timer is
    no longer waiting, or the dossier has finished."""
    row = ctx.timer
    if row is None or row.state != "waiting" or ctx.state.is_finished:
        return False
    wf = ctx.workflow()
    run_spiff(ctx, lambda: fire(wf, row.node))
    new, task_ids, closed = new_items(ctx, None)
    fx: dict[str, Any] = {"new": new, "items": closed,
                          "timers": {str(ordinal): {"state": "fired", "done_at": iso(ctx.at)}}}
    finish_if_ended(ctx, fx)
    emit(ctx, TimerFired(timer=ordinal, node=row.node, due_at=iso(row.due_at), fx=fx), step=row.node,
         task_ids=task_ids)
    return True
