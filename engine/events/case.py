"""The kinds of event in a dossier's chain (case_event), one frozen type each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import Effects, Event, Instant, key, kind, opt

# -- the dossier's life ---------------------------------------------------------------------------

@kind("opened")
@dataclass(frozen=True, slots=True, kw_only=True)
class Opened(Event):
    """Received at the desk (or continued from a parent dossier, `resume_at` and `carried`)."""

    procedure: str
    version: int
    procedure_version_id: int
    limit: str  # the statutory limit (ISO duration) in force at reception
    remote_extension: str | None  # written as null for a dossier not received remotely
    data: dict[str, Any]
    fx: Effects | None = opt()
    days_spent: dict[str, Any] | None = opt()  # {"days", "deducted", "clock"}: a transitional dossier
    reception: dict[str, Any] | None = opt()  # how it came and the papers ticked (engine/papers/reception.py)
    resume_at: str | None = opt()
    carried: list[Any] | None = opt()
    wf_data: dict[str, Any] | None = opt()  # events before 25/11/2026: the workflow's start data, written out
    # the fragment versions its call activities run (engine/definitions/fragments.py, decision 0166)
    fragments: list[Any] | None = opt()


@kind("continued")
@dataclass(frozen=True, slots=True, kw_only=True)
class Continued(Event):
    """The dossier ended by continuing as a new one (its child) at a step of another procedure."""

    dossier: int
    code: str
    procedure: str
    step: str
    commune: str
    days_spent: int


@dataclass(frozen=True, slots=True, kw_only=True)
class _Ended(Event):
    reason: str
    fx: Effects | None = opt()


@kind("stopped")
@dataclass(frozen=True, slots=True, kw_only=True)
class Stopped(_Ended):
    """Stopped at the applicant's request."""


@kind("cancelled")
@dataclass(frozen=True, slots=True, kw_only=True)
class Cancelled(_Ended):
    """Cancelled by the office."""


# -- officers' work on items ----------------------------------------------------------------------

@kind("claimed")
@dataclass(frozen=True, slots=True, kw_only=True)
class Claimed(Event):
    item: int
    fx: Effects | None = opt()


@kind("released")
@dataclass(frozen=True, slots=True, kw_only=True)
class Released(Event):
    item: int
    fx: Effects | None = opt()


@kind("completed")
@dataclass(frozen=True, slots=True, kw_only=True)
class Completed(Event):
    """A step done with its form's data; `refused`/`reason` when the step's outcome is a refusal."""

    item: int
    data: dict[str, Any]
    fx: Effects | None = opt()
    signature: dict[str, Any] | None = opt()  # engine/signatures.py
    derived: dict[str, Any] | None = opt()  # the successor unit the engine routed to (succession.route)
    limit: dict[str, Any] | None = opt()  # a change of the statutory limit (engine/runtime/deadlines.py)
    refused: bool | None = opt()
    reason: str | None = opt()


@kind("returned")
@dataclass(frozen=True, slots=True, kw_only=True)
class Returned(Event):
    item: int
    to_step: str
    reason: str
    fx: Effects | None = opt()


@kind("transferred")
@dataclass(frozen=True, slots=True, kw_only=True)
class Transferred(Event):
    item: int
    from_unit: str | None
    to_unit: str
    to_officer: str | None
    reason: str
    ping_pong: bool
    fx: Effects | None = opt()


@kind("supplement_requested")
@dataclass(frozen=True, slots=True, kw_only=True)
class SupplementRequested(Event):
    item: int
    reason: str
    repeat: bool
    fx: Effects | None = opt()


@kind("supplement_received")
@dataclass(frozen=True, slots=True, kw_only=True)
class SupplementReceived(Event):
    note: str
    paused_minutes: int
    fx: Effects | None = opt()


@kind("apologised")
@dataclass(frozen=True, slots=True, kw_only=True)
class Apologised(Event):
    reason: str
    old_due: Instant | None
    new_due: Instant
    late_notice: bool
    fx: Effects | None = opt()


@kind("substituted")
@dataclass(frozen=True, slots=True, kw_only=True)
class Substituted(Event):
    """An absent officer's item handed to the deputy (engine/absences.py)."""

    item: int
    from_: str = key("from")
    to: str
    absence: int
    was: str  # the item's state before: ready or claimed
    fx: Effects | None = opt()


@kind("timer_fired")
@dataclass(frozen=True, slots=True, kw_only=True)
class TimerFired(Event):
    timer: int
    node: str
    due_at: Instant
    fx: Effects | None = opt()


@kind("action_refused", audit=True)
@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRefused(Event):
    """A refused command, recorded (in the chain, or in the audit log with `dossier` when it had none)."""

    action: str
    kind_: str = key("kind")  # invalid, forbidden, conflict, stale, not_found
    code: str
    message: str
    category: str | None = opt()  # absent in events written before categories (policy.refusal_category)
    params: dict[str, Any] | None = opt()
    item: int | None = opt()
    problems: list[Any] | None = opt()
    dossier: int | None = opt()  # audit log only: a refusal about a dossier whose row was gone
    review: int | None = opt()  # audit log only: a refused step of a review (engine/reviews.py)
    # audit log only: an act on a target the actor cannot read (engine/audit.py record_unseen_attempt)
    work_item: int | None = opt()
    unseen: str | None = opt()  # out_of_scope or missing
    suppressed: int | None = opt()  # attempts the gate left out before this one


# -- the sweep's notices (engine/scheduler/notices.py) -----------------------------------------------

@kind("step_overdue")
@dataclass(frozen=True, slots=True, kw_only=True)
class StepOverdue(Event):
    item: int
    officer: str | None
    unit: str | None
    deadline: Instant
    late_minutes: int
    reason: str


@kind("escalated")
@dataclass(frozen=True, slots=True, kw_only=True)
class Escalated(Event):
    item: int
    officer: str | None
    unit: str | None
    deadline: Instant
    late_minutes: int
    to: list[str]  # the unit's heads (and deputies of absent ones)
    delay: str
    reason: str
    absent_officer: str | None = opt()  # the item is held by a deputy of this absent officer


@kind("idle_claim")
@dataclass(frozen=True, slots=True, kw_only=True)
class IdleClaim(Event):
    item: int
    officer: str | None
    unit: str | None
    since: Instant
    threshold: str
    reason: str


@kind("dossier_overdue")
@dataclass(frozen=True, slots=True, kw_only=True)
class DossierOverdue(Event):
    deadline: Instant
    unit: str | None
    officer: str | None
    late_minutes: int
    reason: str


@kind("due_soon")
@dataclass(frozen=True, slots=True, kw_only=True)
class DueSoon(Event):
    deadline: Instant
    unit: str | None
    officer: str | None
    reason: str


Notice = StepOverdue | Escalated | IdleClaim | DossierOverdue | DueSoon
NOTICES: tuple[type[Event], ...] = (StepOverdue, Escalated, IdleClaim, DossierOverdue, DueSoon)


# -- papers, the applicant, incidents -------------------------------------------------------------

@kind("document_added")
@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentAdded(Event):
    """A file in the blob store, named by its hash (engine/papers/documents.py)."""

    paper: str | None
    kind_: str | None = opt("kind")  # received or result; always written, absent only in hand-made data
    name: str
    media_type: str
    size: int
    sha256: str
    fx: Effects | None = opt()


@kind("slip_issued")
@dataclass(frozen=True, slots=True, kw_only=True)
class SlipIssued(Event):
    slip: str
    as_of: int
    number: str
    size: int
    sha256: str
    fx: Effects | None = opt()


@kind("rated")
@dataclass(frozen=True, slots=True, kw_only=True)
class Rated(Event):
    rating: str
    reason: str | None = opt()
    fx: Effects | None = opt()


@kind("incident_raised", audit=True)
@dataclass(frozen=True, slots=True, kw_only=True)
class IncidentRaised(Event):
    """A defect of the procedure met at run time (engine/runtime/supervision.py)."""

    action: str
    by: str
    cause: str
    element: str | None
    detail: str
    item: int | None = opt()
    repeat: bool | None = opt()
    procedure: str | None = opt()  # audit log only (an open that made no dossier)
    fx: Effects | None = opt()


@kind("moved")
@dataclass(frozen=True, slots=True, kw_only=True)
class Moved(Event):
    """A supervisor put the dossier at a step, resolving its open incident."""

    to_step: str
    from_steps: list[str]
    reason: str
    incident: str | None
    fx: Effects | None = opt()


@kind("migrated")
@dataclass(frozen=True, slots=True, kw_only=True)
class Migrated(Event):
    """A supervisor moved the running dossier to a later version of its procedure (engine/migration/).

    `steps`: each open item's move ({"item", "from_step", "to_step"}); `mapping`: the supervisor's
    {old step: new step}; `deadlines`: `keep` or `recompute` (from when each item became ready).
    """

    procedure: str
    from_version: int
    to_version: int
    procedure_version_id: int
    mapping: dict[str, Any]
    steps: list[Any]
    deadlines: str
    run: int | None = opt()
    fx: Effects | None = opt()
