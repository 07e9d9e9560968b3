"""The event catalogue: one frozen type per kind of event in a dossier's chain, with its fields.

Why: events were strings with dict payloads built in many places and read back with `payload["…"]`
look-ups; a misspelt key was a KeyError at a reader, far from the writer. Here every kind names its
fields once, writers construct the type, readers get attributes back.

The stored form does not change: `Event.to_payload()` is exactly the dict the writers built before
(same keys, same values, optional keys left out as they were), so `canonical(event.to_payload())` is
byte for byte the stored payload and every hash in every chain stays valid (tests/engine/
test_events.py checks that on payloads from real runs). `parse(kind, payload)` gives the typed event
back; a field the kind does not have, a required field missing or a value of the wrong JSON type is
an `EventError` naming the kind and the field. A kind the catalogue does not know parses to
`Unrecognised` (its payload kept as it is), so an old history never stops a reader.

Two kinds of optional field, because the stored form differs: a field declared `X | None` without a
default is always written, `null` when unset (`Opened.remote_extension`); a field declared with
`opt()` is left out of the payload when None (`Completed.signature`). Instants stay the ISO strings
the chain holds (`jsoncanon.iso`), so nothing is lost between parse and serialise; `fx` (the effects,
folded by engine/runtime/state.py) stays the plain mapping the fold reads.

Adding a kind: a class here (`@_kind("name")`, fields in the order of the payload's meaning), its
Vietnamese wording in api/web/labels.py EVENT, its fold (effects in `fx`, or `implied_effects`), and a
real payload of it in tests/engine/data/event_payloads.json. See docs/architecture.md.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar, Union

from .jsoncanon import canonical

Effects = dict[str, Any]  # `fx`: {"new": [...], "items": {ordinal: changes}, "dossier": {...}, "timers": {...}}
Instant = str  # an instant as the chain spells it: jsoncanon.iso (UTC, microseconds, "Z")


class EventError(ValueError):
    """A payload that is not an event of its kind (unknown field, missing field, wrong type)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"event {kind!r}: {message}")
        self.kind = kind


def opt(key: str | None = None) -> Any:
    """An optional field, left out of the payload when None (as the writers always did)."""
    return field(default=None, metadata={"omit": True, "key": key})


def key(name: str) -> Any:
    """A required field whose JSON key is not a Python name (`from`)."""
    return field(metadata={"key": name})


@dataclass(frozen=True, slots=True)
class _Field:
    attr: str
    key: str
    omit: bool
    required: bool
    check: Callable[[Any], bool]
    type_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """The base of every kind: `kind` is the stored `type` column."""

    kind: ClassVar[str] = ""
    _fields: ClassVar[tuple[_Field, ...]] = ()

    def to_payload(self) -> dict[str, Any]:
        """The payload dict as stored (before canonical JSON): optional fields left out when None."""
        out: dict[str, Any] = {}
        for f in self._fields:
            value = getattr(self, f.attr)
            if value is None and f.omit:
                continue
            out[f.key] = value
        return out

    def canonical(self) -> str:
        """The stored payload text (engine/jsoncanon.py), the bytes the chain hashes."""
        return canonical(self.to_payload())

    @property
    def effects(self) -> Effects:
        """The event's effects (`fx`), empty when it has none."""
        fx = getattr(self, "fx", None)
        return fx if fx is not None else {}


E = TypeVar("E", bound=Event)
KINDS: dict[str, type[Event]] = {}


def _checker(tp: Any) -> tuple[Callable[[Any], bool], str]:
    """A check that a JSON value fits the annotation (int is not bool; dict/list by their outer type)."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        parts = [_checker(a) for a in typing.get_args(tp)]
        return (lambda v: any(c(v) for c, _ in parts)), " or ".join(n for _, n in parts)
    if tp is type(None):
        return (lambda v: v is None), "null"
    if tp is Any:
        return (lambda v: True), "any"
    base = origin or tp
    if base is int:
        return (lambda v: isinstance(v, int) and not isinstance(v, bool)), "integer"
    if base is bool:
        return (lambda v: isinstance(v, bool)), "boolean"
    if base is str:
        return (lambda v: isinstance(v, str)), "string"
    if base is dict:
        return (lambda v: isinstance(v, dict)), "object"
    if base is list:
        return (lambda v: isinstance(v, list)), "array"
    raise TypeError(f"no JSON check for {tp!r}")


def _kind(name: str) -> Callable[[type[E]], type[E]]:
    def register(cls: type[E]) -> type[E]:
        if name in KINDS:
            raise ValueError(f"event kind {name!r} declared twice")
        hints = typing.get_type_hints(cls)
        specs = []
        for f in fields(cls):
            check, type_name = _checker(hints[f.name])
            omit = bool(f.metadata.get("omit"))
            specs.append(_Field(f.name, f.metadata.get("key") or f.name, omit, not omit, check, type_name))
        cls.kind = name
        cls._fields = tuple(specs)
        KINDS[name] = cls
        return cls
    return register


def parse(kind: str, payload: Mapping[str, Any] | str) -> Event:
    """The typed event of a stored payload (dict or its JSON text). Unknown kinds: `Unrecognised`."""
    body = json.loads(payload) if isinstance(payload, str) else payload
    if not isinstance(body, Mapping):
        raise EventError(kind, "the payload is not a JSON object")
    cls = KINDS.get(kind)
    if cls is None:
        return Unrecognised(type=kind, payload=dict(body))
    known = {f.key for f in cls._fields}
    extra = sorted(set(body) - known)
    if extra:
        raise EventError(kind, f"unknown field(s) {', '.join(map(repr, extra))}")
    values: dict[str, Any] = {}
    for f in cls._fields:
        if f.key not in body:
            if f.required:
                raise EventError(kind, f"missing field {f.key!r}")
            continue
        value = body[f.key]
        if not f.check(value):
            raise EventError(kind, f"field {f.key!r} must be {f.type_name}, not {type(value).__name__}")
        if value is None and f.omit:
            raise EventError(kind, f"field {f.key!r} is left out when empty, never null")
        values[f.attr] = value
    return cls(**values)


def parse_as(cls: type[E], payload: Mapping[str, Any] | str) -> E:
    """`parse` for a reader that selected one kind (e.g. `WHERE type = 'rated'`)."""
    event = parse(cls.kind, payload)
    assert isinstance(event, cls)
    return event


def payload_of(event: Event | Mapping[str, Any]) -> dict[str, Any]:
    """What writers pass on: a typed event's payload, or (the older form) the dict itself."""
    return event.to_payload() if isinstance(event, Event) else dict(event)


@dataclass(frozen=True, slots=True, kw_only=True)
class Unrecognised(Event):
    """A kind this catalogue does not know (retired, or from a newer version): kept as stored."""

    type: str
    payload: dict[str, Any]

    def to_payload(self) -> dict[str, Any]:
        return dict(self.payload)


# -- the dossier's life ---------------------------------------------------------------------------

@_kind("opened")
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


@_kind("continued")
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


@_kind("stopped")
@dataclass(frozen=True, slots=True, kw_only=True)
class Stopped(_Ended):
    """Stopped at the applicant's request."""


@_kind("cancelled")
@dataclass(frozen=True, slots=True, kw_only=True)
class Cancelled(_Ended):
    """Cancelled by the office."""


# -- officers' work on items ----------------------------------------------------------------------

@_kind("claimed")
@dataclass(frozen=True, slots=True, kw_only=True)
class Claimed(Event):
    item: int
    fx: Effects | None = opt()


@_kind("released")
@dataclass(frozen=True, slots=True, kw_only=True)
class Released(Event):
    item: int
    fx: Effects | None = opt()


@_kind("completed")
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


@_kind("returned")
@dataclass(frozen=True, slots=True, kw_only=True)
class Returned(Event):
    item: int
    to_step: str
    reason: str
    fx: Effects | None = opt()


@_kind("transferred")
@dataclass(frozen=True, slots=True, kw_only=True)
class Transferred(Event):
    item: int
    from_unit: str | None
    to_unit: str
    to_officer: str | None
    reason: str
    ping_pong: bool
    fx: Effects | None = opt()


@_kind("supplement_requested")
@dataclass(frozen=True, slots=True, kw_only=True)
class SupplementRequested(Event):
    item: int
    reason: str
    repeat: bool
    fx: Effects | None = opt()


@_kind("supplement_received")
@dataclass(frozen=True, slots=True, kw_only=True)
class SupplementReceived(Event):
    note: str
    paused_minutes: int
    fx: Effects | None = opt()


@_kind("apologised")
@dataclass(frozen=True, slots=True, kw_only=True)
class Apologised(Event):
    reason: str
    old_due: Instant | None
    new_due: Instant
    late_notice: bool
    fx: Effects | None = opt()


@_kind("substituted")
@dataclass(frozen=True, slots=True, kw_only=True)
class Substituted(Event):
    """An absent officer's item handed to the deputy (engine/absences.py)."""

    item: int
    from_: str = key("from")
    to: str
    absence: int
    was: str  # the item's state before: ready or claimed
    fx: Effects | None = opt()


@_kind("timer_fired")
@dataclass(frozen=True, slots=True, kw_only=True)
class TimerFired(Event):
    timer: int
    node: str
    due_at: Instant
    fx: Effects | None = opt()


@_kind("action_refused")
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
    dossier: int | None = opt()  # audit log only


# -- the sweep's notices (engine/scheduler/notices.py) -----------------------------------------------

@_kind("step_overdue")
@dataclass(frozen=True, slots=True, kw_only=True)
class StepOverdue(Event):
    item: int
    officer: str | None
    unit: str | None
    deadline: Instant
    late_minutes: int
    reason: str


@_kind("escalated")
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


@_kind("idle_claim")
@dataclass(frozen=True, slots=True, kw_only=True)
class IdleClaim(Event):
    item: int
    officer: str | None
    unit: str | None
    since: Instant
    threshold: str
    reason: str


@_kind("dossier_overdue")
@dataclass(frozen=True, slots=True, kw_only=True)
class DossierOverdue(Event):
    deadline: Instant
    unit: str | None
    officer: str | None
    late_minutes: int
    reason: str


@_kind("due_soon")
@dataclass(frozen=True, slots=True, kw_only=True)
class DueSoon(Event):
    deadline: Instant
    unit: str | None
    officer: str | None
    reason: str


NOTICES: tuple[type[Event], ...] = (StepOverdue, Escalated, IdleClaim, DossierOverdue, DueSoon)


# -- papers, the applicant, incidents -------------------------------------------------------------

@_kind("document_added")
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


@_kind("slip_issued")
@dataclass(frozen=True, slots=True, kw_only=True)
class SlipIssued(Event):
    slip: str
    as_of: int
    number: str
    size: int
    sha256: str
    fx: Effects | None = opt()


@_kind("rated")
@dataclass(frozen=True, slots=True, kw_only=True)
class Rated(Event):
    rating: str
    reason: str | None = opt()
    fx: Effects | None = opt()


@_kind("incident_raised")
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


@_kind("moved")
@dataclass(frozen=True, slots=True, kw_only=True)
class Moved(Event):
    """A supervisor put the dossier at a step, resolving its open incident."""

    to_step: str
    from_steps: list[str]
    reason: str
    incident: str | None
    fx: Effects | None = opt()


@_kind("migrated")
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
