"""The kind of event a message catch event leaves: another agency's answer delivered to a dossier.

Its own module (beside `case`) so that the BPMN elements added at the same time each keep their kinds
apart; registered in `KINDS` on import like the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import Effects, Event, kind, opt


@kind("message_received")
@dataclass(frozen=True, slots=True, kw_only=True)
class MessageReceived(Event):
    """A message the dossier waited on (e.g. the tax office's notice of financial obligations), delivered by
    an officer of the role the catch event names (the event's actor and unit). A workflow event: replay
    catches it again at `element` with `data` (engine/runtime/messages.py)."""

    message: str  # the bpmn:message name, e.g. tax_notice
    element: str  # the catch event's BPMN id
    data: dict[str, Any]  # the payload, cleaned by the catch event's form
    key: str  # the sender's idempotency key: the same key again answers this delivery, records nothing
    fx: Effects | None = opt()
