"""Canonical JSON: one byte sequence per value, so hashes over events are reproducible anywhere."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default,
                      allow_nan=False)


def iso(value: datetime) -> str:
    """UTC, microseconds, 'Z': the one spelling of an instant in events."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_iso(text: str) -> datetime:
    """The inverse of `iso` (fromisoformat: an order of magnitude faster than strptime)."""
    if len(text) != 27 or not text.endswith("Z"):
        raise ValueError(f"not an event instant: {text!r}")
    return datetime.fromisoformat(text)
