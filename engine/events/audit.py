"""The kinds of entry in the audit log (audit_entry) that are not also dossier events.

`action_refused` and `incident_raised` are written to both (engine/events/case.py: with their
audit-only fields). The reviews of signals (engine/reviews.py) fold their entries into the review
rows; absences (engine/absences.py) fold `absence_recorded` into theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import Event, Instant, key, kind, opt


@kind("review_opened", case=False, audit=True)
@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewOpened(Event):
    review: int
    signal: dict[str, Any]  # {dossier, seq, kind, at}: the signal under review
    officer: str | None
    unit: str | None
    limit: str  # working time the officer has to explain (LANDFLOW_EXPLANATION_LIMIT)
    explanation_due: Instant
    note: str | None = opt()


@kind("review_explained", case=False, audit=True)
@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewExplained(Event):
    review: int
    explanation: str


@kind("review_escalated", case=False, audit=True)
@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewEscalated(Event):
    review: int
    officer: str | None
    unit: str | None
    to: list[str]
    due: Instant


@kind("review_decided", case=False, audit=True)
@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewDecided(Event):
    review: int
    verdict: str
    reason: str
    cause: str | None = opt()


@kind("absence_recorded", case=False, audit=True)
@dataclass(frozen=True, slots=True, kw_only=True)
class AbsenceRecorded(Event):
    absence: int
    officer: str
    deputy: str
    unit: str
    first_day: str = key("from")  # the first and last day away, ISO dates
    last_day: str = key("to")
    starts_at: Instant
    ends_at: Instant
    reason: str


@kind("officer_added", case=False, audit=True)
@dataclass(frozen=True, slots=True, kw_only=True)
class OfficerAdded(Event):
    username: str
    unit: str
    roles: list[str]


@kind("officer_activated", case=False, audit=True)
@dataclass(frozen=True, slots=True, kw_only=True)
class OfficerActivated(Event):
    username: str


@kind("officer_deactivated", case=False, audit=True)
@dataclass(frozen=True, slots=True, kw_only=True)
class OfficerDeactivated(Event):
    username: str


@kind("officer_password_set", case=False, audit=True)
@dataclass(frozen=True, slots=True, kw_only=True)
class OfficerPasswordSet(Event):
    username: str


@kind("officer_key", case=False, audit=True)
@dataclass(frozen=True, slots=True, kw_only=True)
class OfficerKey(Event):
    """A public key registered for an officer's decision signatures (engine/signatures.py)."""

    officer: str
    key: str
    key_id: str


@kind("procedure_deployed", case=False, audit=True)
@dataclass(frozen=True, slots=True, kw_only=True)
class ProcedureDeployed(Event):
    key: str
    version: int
    content_hash: str
    effective_from: str | None = opt()  # the day the version takes effect (ISO date); absent: at once


@kind("draft_deleted", case=False, audit=True)
@dataclass(frozen=True, slots=True, kw_only=True)
class DraftDeleted(Event):
    key: str  # the procedure whose draft its owner (the entry's actor) deleted
    revisions: int  # how many revisions were deleted
    last_revision: int
    last_hash: str  # SHA-256 of the last revision's BPMN: which work was thrown away


@kind("deploy_refused", case=False, audit=True)
@dataclass(frozen=True, slots=True, kw_only=True)
class DeployRefused(Event):
    problems: int  # how many problems the check found
    rules: list[str] | None = opt()
