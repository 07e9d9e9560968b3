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


_SEP = "[ \u00a0\u202f]"  # spaces (plain, no-break, narrow no-break) may group thousands like dots
_PLAIN = re.compile(r"\d+", re.ASCII)
_GROUPED = re.compile(rf"[1-9]\d{{0,2}}(?:(?:\.\d{{3}})+|(?:{_SEP}\d{{3}})+)", re.ASCII)  # 35.000.000, 35 000 000
_VI_DECIMAL = re.compile(rf"(?:\d+|{_GROUPED.pattern}),\d+", re.ASCII)       # 12,5 and 1.234,5
_DOT_DECIMAL = re.compile(r"\d+\.\d+", re.ASCII)                              # 12.5 (machine writing)
_AMBIGUOUS = re.compile(r"[1-9]\d{0,2}[.,]\d{3}", re.ASCII)                    # 1.500 / 1,500


def parse_number(text: str) -> int | float:
    """A number as a Vietnamese officer writes it (docs/decisions/0051-vietnamese-numbers.md).

    `.` (or a space) groups thousands and `,` marks decimals: `35.000.000` = 35000000, `12,5` = 12.5,
    `1.234,5` = 1234.5. Plain `35000000` and machine-written `12.5` are accepted where they cannot be
    read the other way. One separator followed by exactly three digits (`1.500`, `1,500`) reads as
    1500 in one convention and 1.5 in the other: refused, with both readings, rather than guessed (an
    amount of tax is not a thing to get wrong by a factor of a thousand). Whole numbers come back as
    int, the rest as float.
    """
    raw = text.strip()
    sign, body = (raw[0], raw[1:].strip()) if raw[:1] in ("-", "+") else ("", raw)
    if _AMBIGUOUS.fullmatch(body):
        whole, frac = body.replace(",", ".").split(".")
        decimal = f"{sign if sign == '-' else ''}{whole},{frac.rstrip('0') or '0'}"
        thousands = f"{sign if sign == '-' else ''}{whole}{frac}"
        raise ValueError(f"{raw!r} is ambiguous ({thousands} or {decimal}?): write {thousands} or {decimal}")
    if _PLAIN.fullmatch(body) or _GROUPED.fullmatch(body):
        number: int | float = int(re.sub(rf"[.]|{_SEP}", "", body))
    elif _VI_DECIMAL.fullmatch(body):
        whole, frac = body.rsplit(",", 1)
        number = float(re.sub(rf"[.]|{_SEP}", "", whole) + "." + frac)
    elif _DOT_DECIMAL.fullmatch(body):
        number = float(body)
    else:
        raise ValueError(f"{raw!r} is not a number (write 35.000.000 or 35000000; decimals with a comma: 12,5)")
    return -number if sign == "-" else number


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
            value = parse_number(value) if f.type == "integer" else float(parse_number(value))
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
