"""Typed errors of engine commands: the refusal types live in engine/errors.py (shared by every engine
module that refuses); this module keeps the old import path working."""

from __future__ import annotations

from ..errors import CommandRefused, Conflict, Forbidden, Invalid, NotFound, Stale

__all__ = ["CommandRefused", "Conflict", "Forbidden", "Invalid", "NotFound", "Stale"]
