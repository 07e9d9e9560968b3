"""Opaque cursors for keyset pagination, and the headers that carry the next one.

A cursor is base64url JSON of the last row's sort key. It is opaque to clients on purpose: the sort
key may change without breaking them. A cursor that does not decode is a 400, not an empty page.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from flask import request

from .problems import ApiProblem

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def encode(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str | None, shape: tuple[type, ...]) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or len(key) != len(shape) or not all(
            _fits(v, t) for v, t in zip(key, shape, strict=True)):
        raise ApiProblem(400, "invalid_cursor", "the cursor is not one this server gave out")
    return key


def _fits(value: Any, kind: type) -> bool:
    """Of the type, and an integer a 64-bit database column holds (a larger one overflows the driver)."""
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX
    return isinstance(value, kind) and (not isinstance(value, str) or len(value) <= 100)


def next_headers(key: list[Any] | None) -> dict[str, str]:
    """X-Next-Cursor and Link for the page after this one (none on the last page)."""
    if key is None:
        return {}
    cursor = encode(key)
    args = {k: v for k, v in request.args.items() if k != "cursor"}
    args["cursor"] = cursor
    query = "&".join(f"{k}={_quote(v)}" for k, v in args.items())
    return {"X-Next-Cursor": cursor, "Link": f'<{request.base_url}?{query}>; rel="next"'}


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")
