"""engine.audit.AttemptGate: how many attempts on unseen targets each actor gets written per minute
(docs/decisions/0026-actions-out-of-read-scope.md). Pure: the database side is in
tests/reliability/test_out_of_scope_actions.py."""

from __future__ import annotations

from datetime import timedelta

from engine.audit import AttemptGate
from tests.conftest import local


def test_the_cap_is_per_actor_and_per_window_and_the_left_out_are_reported() -> None:
    gate = AttemptGate(cap=3)
    t0 = local(2026, 3, 2, 8, 0)
    assert [gate.admit("a", t0) for _ in range(5)] == [0, 0, 0, None, None]
    assert gate.admit("b", t0) == 0  # another actor has their own count
    assert gate.admit("a", t0 + timedelta(seconds=59)) is None
    # a new window: written again, the first entry says how many were left out since the last one
    assert gate.admit("a", t0 + timedelta(seconds=60)) == 3
    assert gate.admit("a", t0 + timedelta(seconds=61)) == 0
    # nothing left out: nothing to report in the next window
    assert gate.admit("b", t0 + timedelta(minutes=5)) == 0
