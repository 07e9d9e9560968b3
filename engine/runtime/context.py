"""What a decision sees: the context the load phase filled, and nothing that reaches the database.

A command runs in three phases (engine/runtime/commands.py): the load phase reads everything the
command needs into a `Context` (the locked dossier and its open items, the procedure and live
workflow, the limit in force, the waiting timers); the decision is a function of that context and the
command's input, which emits events (folded into `state` as they are emitted); the persistence phase
appends the events and writes the projections. `Context` has no connection and no session: a decision
that needed one would have to be given it, and the tests check that nothing runs SQL while deciding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from ..calendar import WorkingCalendar
from ..certificates import Trust
from ..eventlog import PendingEvent
from ..org import Directory, Officer
from . import workflow as wfm
from .state import DossierState
from .succession import SuccessorLookup


@dataclass(frozen=True)
class RuntimeSettings:
    sla_overrides: dict[str, str] = field(default_factory=dict)
    remote_extension: str = "P10D"
    transitional_clock: str = "continue"
    signature_window: int = 900  # seconds a decision signature stays acceptable (engine/signatures.py)
    max_workflow_data: int = 262_144  # bytes of one step's workflow data (engine/runtime/incidents.py)
    trust: Trust = field(default_factory=Trust)  # certificates' roots and CRL (engine/certificates.py)


@dataclass(frozen=True)
class Rules:
    """What decisions read besides the dossier: configuration and the calendar, no I/O."""

    calendar: WorkingCalendar
    settings: RuntimeSettings
    successors: SuccessorLookup | None = None


@dataclass
class Target:
    """What a command acts on; for item commands, found by the load phase inside the command's transaction."""

    dossier_id: int | None = None
    item_id: int | None = None
    ordinal: int | None = None
    step: str | None = None


@dataclass
class FollowOn:
    """A dossier the decision asks to open once it is persisted (a continuing end, continuation.py)."""

    procedure: str
    commune: str
    applicant: dict[str, Any]
    parcel: dict[str, Any]
    data: dict[str, Any]
    days_spent: int
    resume_at: str


@dataclass
class Context:
    """One command in progress: what the load phase read and what the decision has emitted so far."""

    state: DossierState
    at: datetime
    officer: Officer
    directory: Directory
    rules: Rules
    proc: wfm.Procedure | None = None
    wf: BpmnWorkflow | None = None
    wf_error: BaseException | None = None  # the workflow could not be loaded: raised when a decision asks
    wf_changed: bool = False
    events: list[PendingEvent] = field(default_factory=list)
    created: bool = False  # the dossier row was inserted by this command (open)
    loaded: dict[str, Any] = field(default_factory=dict)  # the dossier row as read: only changes are written
    limit_in_force: str | None = None  # read when the acted step may change the statutory limit
    known_timers: set[int] = field(default_factory=set)  # timers the load phase read (updated, not inserted)
    timer: Any = None  # fire_timer: the timer row it fires (None: not waiting any more)
    waiting_timer: bool = False  # the sweep: the dossier waits on a BPMN timer
    last_step: str | None = None  # the sweep: the step of the dossier's newest work item
    extra: Any = None  # what a command's own loader read (engine/ratings.py)
    follow_ons: list[FollowOn] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    @property
    def calendar(self) -> WorkingCalendar:
        return self.rules.calendar

    @property
    def settings(self) -> RuntimeSettings:
        return self.rules.settings

    def workflow(self) -> BpmnWorkflow:
        """The dossier's live workflow, as the load phase found it (its failure is raised here, where a
        decision first needs it, so the policy's refusals still come first)."""
        if self.wf is None:
            if self.wf_error is not None:
                raise self.wf_error
            raise LookupError("the load phase did not load this dossier's workflow")
        return self.wf

    def procedure(self) -> wfm.Procedure:
        if self.proc is None:
            if self.wf_error is not None:
                raise self.wf_error
            raise LookupError("the load phase did not load this dossier's procedure")
        return self.proc
