"""The `form` step property: fields an officer fills, and checking what they submit.

Syntax (docs/procedure-conventions.md): `name:type` separated by `;`, `!` = required,
types text | number | integer | bool | date | choice(a|b|c).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

TYPES = ("text", "number", "integer", "bool", "date", "choice")
_FIELD = re.compile(
    r"^(?P<name>[A-Za-z][A-Za-z0-9_]*)\s*:\s*(?P<type>[a-z]+)(?:\((?P<choices>[^()]*)\))?\s*(?P<req>!)?$"
)
MAX_TEXT = 4000
RESERVED = {"commune", "remote", "procedure", "parcel", "applicant", "dossier_code"}


@dataclass(frozen=True)
class FormField:
    name: str
    type: str
    required: bool = False
    choices: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "required": self.required, "choices": list(self.choices)}


class FormError(ValueError):
    pass


def parse_form(text: str | None) -> list[FormField]:
    """Parse the DSL; raises FormError naming the bad field."""
    if not text or not text.strip():
        return []
    fields: list[FormField] = []
    seen: set[str] = set()
    for raw in text.split(";"):
        part = raw.strip()
        if not part:
            continue
        m = _FIELD.match(part)
        if not m:
            raise FormError(f"field {part!r} is not 'name:type' (types: {', '.join(TYPES)}; '!' = required)")
        ftype = m["type"]
        if ftype not in TYPES:
            raise FormError(f"field {m['name']!r}: unknown type {ftype!r}")
        choices: tuple[str, ...] = ()
        if ftype == "choice":
            choices = tuple(c.strip() for c in (m["choices"] or "").split("|") if c.strip())
            if not choices:
                raise FormError(f"field {m['name']!r}: choice needs values, e.g. choice(a|b)")
        elif m["choices"] is not None:
            raise FormError(f"field {m['name']!r}: only choice takes values")
        if m["name"] in seen:
            raise FormError(f"field {m['name']!r} appears twice")
        if m["name"] in RESERVED:
            raise FormError(f"field {m['name']!r} is a reserved dossier name")
        seen.add(m["name"])
        fields.append(FormField(m["name"], ftype, bool(m["req"]), choices))
    return fields


def clean_submission(fields: list[FormField], data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Check submitted values against the form. Returns (clean data, problems).

    Only declared fields are accepted: free keys would let an officer inject any variable the
    gateways read (e.g. set `eligible` on a step that is not supposed to decide it).
    """
    problems: list[str] = []
    clean: dict[str, Any] = {}
    known = {f.name: f for f in fields}
    for key in data:
        if key not in known:
            problems.append(f"{key}: not a field of this step")
    for f in fields:
        value = data.get(f.name)
        if value is None or value == "":
            if f.required:
                problems.append(f"{f.name}: required")
            continue
        try:
            clean[f.name] = _coerce(f, value)
        except (TypeError, ValueError) as err:
            problems.append(f"{f.name}: {err}")
    return clean, problems


def _coerce(f: FormField, value: Any) -> Any:
    if f.type == "text":
        if not isinstance(value, str):
            raise TypeError("must be text")
        if len(value) > MAX_TEXT:
            raise ValueError(f"longer than {MAX_TEXT} characters")
        return value
    if f.type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "on", "yes", "no"):
            return value.lower() in ("true", "1", "on", "yes")
        raise TypeError("must be true or false")
    if f.type in ("number", "integer"):
        if isinstance(value, bool):
            raise TypeError("must be a number")
        if isinstance(value, str):
            value = value.strip().replace(",", ".")
            value = int(value) if f.type == "integer" else float(value)
        if f.type == "integer":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError("must be a whole number")
            value = int(value)
        if not isinstance(value, (int, float)):
            raise TypeError("must be a number")
        if abs(value) > 1e15 or value != value:
            raise ValueError("out of range")
        return value
    if f.type == "date":
        if not isinstance(value, str):
            raise TypeError("must be a date YYYY-MM-DD")
        return date.fromisoformat(value).isoformat()
    if f.type == "choice":
        if value not in f.choices:
            raise ValueError(f"must be one of {', '.join(f.choices)}")
        return value
    raise TypeError(f"unknown type {f.type}")  # pragma: no cover
