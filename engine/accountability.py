"""Signals of shirking, derived from events.

A signal is a projection: `signals_for` is a pure function of one event, so the `signal` table can
be rebuilt (and checked) from the log. Decisions that need context — is this transfer a ping-pong,
is this the second supplement request — are taken when the command runs and recorded in the event
(`ping_pong`, `repeat`), never re-derived from today's data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import events as ev
from .events import Event, parse
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


def signals_for(event_type: str, actor: str, unit: str | None, payload: Mapping[str, Any]) -> list[SignalSpec]:
    """The signals of a stored event (kind and payload dict): `signals_of` its typed event. Kinds that
    never signal are not parsed (this runs in every command's append)."""
    if event_type not in SIGNALLING:
        return []
    return signals_of(parse(event_type, payload), actor, unit)


SIGNALLING = frozenset({"returned", "completed", "transferred", "supplement_requested", "action_refused",
                        "incident_raised", "apologised", *(n.kind for n in ev.NOTICES)})


def signals_of(event: Event, actor: str, unit: str | None) -> list[SignalSpec]:
    """The signals one event leaves (typed: engine/events/)."""
    match event:
        case ev.Returned(reason=reason):
            return [SignalSpec("returned", actor, unit, reason)]
        case ev.Completed(refused=True, reason=reason):  # a refusal drawn in the diagram (step `refusal`)
            return [SignalSpec("returned", actor, unit, reason)]
        case ev.Transferred(reason=reason, ping_pong=ping_pong):
            out = [SignalSpec("rerouted", actor, unit, reason)]
            if ping_pong:
                out.append(SignalSpec("ping_pong", actor, unit, reason))
            return out
        case ev.SupplementRequested(repeat=True, reason=reason):
            return [SignalSpec("repeat_supplement", actor, unit, reason)]
        case ev.ActionRefused():
            if refusal_category_of(event) != OUT_OF_SCOPE:
                return []  # a typo, a stale page, a second click: a refusal in the history, not misconduct
            return [SignalSpec("unauthorised_attempt", actor, unit, f"{event.action}: {event.message}")]
        case ev.IncidentRaised() if not event.repeat:  # nobody's fault but the procedure's
            return [SignalSpec("procedure_incident", None, None,
                               f"{event.cause} at {event.element or '?'}: {event.detail}")]
        case ev.Apologised(reason=reason):
            return [SignalSpec("apologised", actor, unit, reason)]
        case ev.StepOverdue() | ev.DossierOverdue() | ev.Escalated() | ev.IdleClaim() | ev.DueSoon():
            return [SignalSpec(event.kind, event.officer, event.unit, event.reason)]
    return []


def refusal_category_of(event: ev.ActionRefused) -> str:
    """A refusal's category: as its event recorded it; events written before categories existed (which
    all left `unauthorised_attempt`) are read by their code (migration 0015 drops the signals that
    reading no longer implies)."""
    return event.category or refusal_category(event.kind_, event.code)
