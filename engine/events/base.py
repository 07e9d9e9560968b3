"""The catalogue's machinery: the base type, the registries, parsing and serialising (why: the
package's docstring, engine/events/__init__.py)."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar, Union

from ..jsoncanon import canonical

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
    allowed: frozenset[type] | None  # exact JSON types; None: any
    type_name: str

    def check(self, value: Any) -> bool:
        return _fits(self.allowed, value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """The base of every kind: `kind` is the stored `type` column."""

    kind: ClassVar[str] = ""
    _fields: ClassVar[tuple[_Field, ...]] = ()
    _keys: ClassVar[frozenset[str]] = frozenset()

    def __post_init__(self) -> None:
        """A writer's value of the wrong JSON type is refused where it is made, not met by a reader later."""
        for f in self._fields:
            value = getattr(self, f.attr)
            allowed = f.allowed
            if allowed is None or type(value) in allowed or (value is None and f.omit):
                continue
            if not _fits(allowed, value):
                raise EventError(self.kind, f"field {f.key!r} must be {f.type_name}, not {type(value).__name__}")

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
_ABSENT: Any = object()
KINDS: dict[str, type[Event]] = {}  # the dossiers' chains (case_event)
AUDIT_KINDS: dict[str, type[Event]] = {}  # the audit log (audit_entry): engine/events/audit.py


def _json_types(tp: Any) -> tuple[frozenset[type] | None, str]:
    """The exact JSON types (as json.loads makes them) an annotation admits, None for any; and their
    name for errors. Exact types keep bool out of int."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        parts = [_json_types(a) for a in typing.get_args(tp)]
        if any(t is None for t, _ in parts):
            return None, "any"
        return frozenset().union(*(t for t, _ in parts if t is not None)), " or ".join(n for _, n in parts)
    if tp is Any:
        return None, "any"
    base = origin or tp
    names = {type(None): "null", int: "integer", bool: "boolean", str: "string", dict: "object", list: "array"}
    if base not in names:
        raise TypeError(f"no JSON type for {tp!r}")
    return frozenset({base}), names[base]


def _fits(allowed: frozenset[type] | None, value: Any) -> bool:
    if allowed is None or type(value) in allowed:
        return True
    # a writer's own mapping or sequence type (never from json.loads): by isinstance, bool still not int
    return not isinstance(value, bool) and isinstance(value, tuple(t for t in allowed if t is not type(None)))


def kind(name: str, *, case: bool = True, audit: bool = False) -> Callable[[type[E]], type[E]]:
    """Register a class as the event kind `name`, in the dossiers' chains and/or the audit log."""
    def register(cls: type[E]) -> type[E]:
        if (case and name in KINDS) or (audit and name in AUDIT_KINDS):
            raise ValueError(f"event kind {name!r} declared twice")
        hints = typing.get_type_hints(cls)
        specs = []
        for f in fields(cls):
            allowed, type_name = _json_types(hints[f.name])
            omit = bool(f.metadata.get("omit"))
            specs.append(_Field(f.name, f.metadata.get("key") or f.name, omit, not omit, allowed, type_name))
        cls.kind = name
        cls._fields = tuple(specs)
        cls._keys = frozenset(f.key for f in specs)
        if case:
            KINDS[name] = cls
        if audit:
            AUDIT_KINDS[name] = cls
        return cls
    return register


def parse(kind: str, payload: Mapping[str, Any] | str, registry: Mapping[str, type[Event]] = KINDS) -> Event:
    """The typed event of a stored payload (dict or its JSON text). Unknown kinds: `Unrecognised`."""
    body = json.loads(payload) if isinstance(payload, str) else payload
    if not isinstance(body, Mapping):
        raise EventError(kind, "the payload is not a JSON object")
    cls = registry.get(kind)
    if cls is None:
        return Unrecognised(type=kind, payload=dict(body))
    extra = body.keys() - cls._keys
    if extra:
        raise EventError(kind, f"unknown field(s) {', '.join(map(repr, sorted(extra)))}")
    values: dict[str, Any] = {}
    for f in cls._fields:
        value = body.get(f.key, _ABSENT)
        if value is _ABSENT:
            if f.required:
                raise EventError(kind, f"missing field {f.key!r}")
            continue
        if value is None and f.omit:
            raise EventError(kind, f"field {f.key!r} is left out when empty, never null")
        values[f.attr] = value
    # the JSON types are checked by Event.__post_init__
    return cls(**values)


def parse_audit(kind: str, payload: Mapping[str, Any] | str) -> Event:
    """`parse` for an entry of the audit log."""
    return parse(kind, payload, AUDIT_KINDS)


def parse_shown(kind: str, payload: Mapping[str, Any] | str) -> Event:
    """`parse` for pages that show a history as stored, tampered or not: what is not an event of its
    kind is shown as `Unrecognised` (verify reports it) rather than refused."""
    try:
        return parse(kind, payload)
    except EventError:
        body = json.loads(payload) if isinstance(payload, str) else payload
        return Unrecognised(type=kind, payload=dict(body) if isinstance(body, Mapping) else {})


def parse_as(cls: type[E], payload: Mapping[str, Any] | str) -> E:
    """`parse` for a reader that selected one kind (e.g. `WHERE type = 'rated'`)."""
    event = parse(cls.kind, payload)
    assert isinstance(event, cls)
    return event


def stored_like(cls: type[Event], attr: str, value: Any) -> str:
    """A SQL LIKE pattern matching stored payloads of `cls` whose field `attr` is `value` (canonical JSON
    spells a field one way): for counts made in the database (engine/satisfaction.py, digitisation.py)."""
    spec = next((f for f in cls._fields if f.attr == attr), None)
    if spec is None:
        raise EventError(cls.kind, f"no field {attr!r}")
    if not spec.check(value):
        raise EventError(cls.kind, f"field {spec.key!r} must be {spec.type_name}")
    return "%" + canonical({spec.key: value})[1:-1] + "%"


def item_of(event: Event) -> int | None:
    """The work item an event acts on, for the kinds that name one."""
    item = getattr(event, "item", None)
    return item if isinstance(item, int) else None


def reason_of(event: Event) -> str | None:
    """The reason an event states (officers' and the sweep's wording), for the kinds that have one."""
    reason = getattr(event, "reason", None)
    return reason if isinstance(reason, str) else None


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
