"""The event catalogue: one frozen type per kind of event (a dossier's chain, the audit log), with its fields.

Why: events were strings with dict payloads built in many places and read back with `payload["…"]`
look-ups; a misspelt key was a KeyError at a reader, far from the writer. Here every kind names its
fields once, writers construct the type, readers get attributes back.

The stored form does not change: `Event.to_payload()` is exactly the dict the writers built before
(same keys, same values, optional keys left out as they were), so `canonical(event.to_payload())` is
byte for byte the stored payload and every hash in every chain stays valid (tests/engine/
test_events.py checks that on payloads from real runs). `parse(kind, payload)` gives the typed event
back; a field the kind does not have, a required field missing or a value of the wrong JSON type is
an `EventError` naming the kind and the field (a writer constructing an event with a value of the
wrong JSON type gets the same error where it makes it). A kind the catalogue does not know parses to
`Unrecognised` (its payload kept as it is), so an old history never stops a reader.

Two kinds of optional field, because the stored form differs: a field declared `X | None` without a
default is always written, `null` when unset (`Opened.remote_extension`); a field declared with
`opt()` is left out of the payload when None (`Completed.signature`). Instants stay the ISO strings
the chain holds (`jsoncanon.iso`), so nothing is lost between parse and serialise; `fx` (the effects,
folded by engine/runtime/state.py) stays the plain mapping the fold reads.

The package: `base` (the machinery), `case` (the kinds of a dossier's chain, `KINDS`), `audit` (the
audit log's own kinds, `AUDIT_KINDS`; `parse_audit`). Import from `engine.events`.

Adding a kind: a class in `case` or `audit` (`@kind("name")` over a frozen, slotted, kw_only
dataclass), its Vietnamese wording in api/web/labels.py EVENT, its fold (effects in `fx`, or
`implied_effects`), and a real payload of it in tests/data/events/payloads.json. See
docs/architecture.md ("The event catalogue").
"""

from __future__ import annotations

from .audit import (
    AbsenceRecorded,
    DeployRefused,
    DraftDeleted,
    OfficerActivated,
    OfficerAdded,
    OfficerDeactivated,
    OfficerKey,
    OfficerPasswordSet,
    ProcedureDeployed,
    ReviewDecided,
    ReviewEscalated,
    ReviewExplained,
    ReviewOpened,
)
from .base import (
    AUDIT_KINDS,
    KINDS,
    Effects,
    Event,
    EventError,
    Instant,
    Unrecognised,
    item_of,
    key,
    kind,
    opt,
    parse,
    parse_as,
    parse_audit,
    parse_shown,
    payload_of,
    reason_of,
    stored_like,
)
from .case import (
    NOTICES,
    ActionRefused,
    Apologised,
    Cancelled,
    Claimed,
    Completed,
    Continued,
    DocumentAdded,
    DossierOverdue,
    DueSoon,
    Escalated,
    IdleClaim,
    IncidentRaised,
    Migrated,
    Moved,
    Notice,
    Opened,
    Rated,
    Released,
    Returned,
    SlipIssued,
    StepOverdue,
    Stopped,
    Substituted,
    SupplementReceived,
    SupplementRequested,
    TimerFired,
    Transferred,
)
from .message import MessageReceived

__all__ = [
    "AUDIT_KINDS",
    "AbsenceRecorded",
    "ActionRefused",
    "Apologised",
    "Cancelled",
    "Claimed",
    "Completed",
    "Continued",
    "DeployRefused",
    "DraftDeleted",
    "DocumentAdded",
    "DossierOverdue",
    "DueSoon",
    "Effects",
    "Escalated",
    "Event",
    "EventError",
    "IdleClaim",
    "IncidentRaised",
    "MessageReceived",
    "Migrated",
    "Instant",
    "KINDS",
    "Moved",
    "NOTICES",
    "Notice",
    "OfficerActivated",
    "OfficerAdded",
    "OfficerDeactivated",
    "OfficerKey",
    "OfficerPasswordSet",
    "Opened",
    "ProcedureDeployed",
    "Rated",
    "Released",
    "Returned",
    "ReviewDecided",
    "ReviewEscalated",
    "ReviewExplained",
    "ReviewOpened",
    "SlipIssued",
    "StepOverdue",
    "Stopped",
    "Substituted",
    "SupplementReceived",
    "SupplementRequested",
    "TimerFired",
    "Transferred",
    "Unrecognised",
    "item_of",
    "key",
    "kind",
    "opt",
    "parse",
    "parse_as",
    "parse_audit",
    "parse_shown",
    "payload_of",
    "reason_of",
    "stored_like",
]
