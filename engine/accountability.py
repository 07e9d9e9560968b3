"""Signals of shirking, derived from events.

A signal is a projection: `signals_for` is a pure function of one event, so the `signal` table can
be rebuilt (and checked) from the log. Decisions that need context — is this transfer a ping-pong,
is this the second supplement request — are taken when the command runs and recorded in the event
(`ping_pong`, `repeat`), never re-derived from today's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .policy import OUT_OF_SCOPE, refusal_category

KINDS = (
    "returned",            # a dossier sent back to an earlier step
    "rerouted",            # a work item handed to another unit or officer
    "ping_pong",           # ... back to a holder it had already left (A -> B -> A)
    "repeat_supplement",   # a second supplement request on one dossier
    "unauthorised_attempt",  # an action outside one's unit, role or claim (refusal category out_of_scope)
    "step_overdue", "dossier_overdue", "escalated", "idle_claim", "due_soon",  # from the scheduler
    "apologised",          # a late dossier's new date
    "procedure_incident",  # the procedure version could not go on (engine/runtime/incidents.py): supervisors'
)


@dataclass(frozen=True)
class SignalSpec:
    kind: str
    officer: str | None
    unit: str | None
    reason: str | None


def signals_for(event_type: str, actor: str, unit: str | None, payload: dict[str, Any]) -> list[SignalSpec]:
    reason = payload.get("reason")
    if event_type == "returned":
        return [SignalSpec("returned", actor, unit, reason)]
    if event_type == "completed" and payload.get("refused"):  # a refusal drawn in the diagram (step `refusal`)
        return [SignalSpec("returned", actor, unit, reason)]
    if event_type == "transferred":
        out = [SignalSpec("rerouted", actor, unit, reason)]
        if payload.get("ping_pong"):
            out.append(SignalSpec("ping_pong", actor, unit, reason))
        return out
    if event_type == "supplement_requested" and payload.get("repeat"):
        return [SignalSpec("repeat_supplement", actor, unit, reason)]
    if event_type == "action_refused":
        if recorded_category(payload) != OUT_OF_SCOPE:
            return []  # a typo, a stale page, a second click: a refusal in the history, not misconduct
        return [SignalSpec("unauthorised_attempt", actor, unit, f"{payload.get('action')}: {payload.get('message')}")]
    if event_type == "incident_raised" and not payload.get("repeat"):  # nobody's fault but the procedure's
        return [SignalSpec("procedure_incident", None, None,
                           f"{payload.get('cause')} at {payload.get('element') or '?'}: {payload.get('detail')}")]
    if event_type == "apologised":
        return [SignalSpec("apologised", actor, unit, reason)]
    if event_type in ("step_overdue", "dossier_overdue", "escalated", "idle_claim", "due_soon"):
        return [SignalSpec(event_type, payload.get("officer"), payload.get("unit", unit), reason)]
    return []


def recorded_category(payload: dict[str, Any]) -> str:
    """A refusal's category: as its event recorded it; events written before categories existed (which
    all left `unauthorised_attempt`) are read by their code (migration 0015 drops the signals that
    reading no longer implies)."""
    return str(payload.get("category") or refusal_category(payload.get("kind"), payload.get("code")))
