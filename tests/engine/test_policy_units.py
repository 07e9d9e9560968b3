"""The policy as plain functions: who may do what to which dossier, decided from values alone. No
database, no engine: each case builds the officer and the dossier it needs (engine/policy.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.org import Officer
from engine.policy import (
    check_deploy,
    check_dossier_action,
    check_item_action,
    check_move_to_step,
    check_open,
    check_reason,
    check_validate,
    refusal_category,
)
from engine.runtime.state import DossierState, ItemState
from tests.support.purity import import_closure, no_database

__all__ = ["no_database"]
pytestmark = pytest.mark.usefixtures("no_database")
AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def who(username: str, unit: str, *roles: str, active: bool = True) -> Officer:
    return Officer(username, username, unit, frozenset(roles), active)


def item(ordinal: int = 1, role: str = "land_officer", unit: str = "W1", state: str = "ready",
         assignee: str | None = None) -> ItemState:
    return ItemState(ordinal, "check", "Kiểm tra", role, unit, "P1D", "run", AT, None, state, assignee)


def dossier(*items: ItemState, status: str = "in_progress", desk: str = "W1", **kw: object) -> DossierState:
    d = DossierState(id=1, code="X", desk_unit=desk, status=status, **kw)  # type: ignore[arg-type]  # test values
    d.items = {i.ordinal: i for i in items}
    return d


LAND = who("land.w1", "W1", "land_officer")
DESK = who("desk.w1", "W1", "one_stop_desk")


def code(refusal: object) -> str | None:
    return getattr(refusal, "code", None)


def test_the_policy_needs_nothing_but_values() -> None:
    closure = import_closure("engine.policy")
    assert not {m for m in closure if m.startswith(("engine.store", "engine.runtime", "sqlalchemy"))}, closure


@pytest.mark.parametrize(("action", "officer", "it", "d_kw", "expected"), [
    ("claim", LAND, item(), {}, None),
    ("claim", who("a", "W1", "auditor"), item(), {}, "read_only"),
    ("claim", who("x", "W1", "land_officer", active=False), item(), {}, "inactive"),
    ("claim", LAND, item(), {"status": "done"}, "finished"),
    ("claim", LAND, item(state="done"), {}, "not_ready"),
    ("claim", LAND, item(state="claimed", assignee="other"), {}, "claimed_by_other"),
    ("claim", LAND, item(assignee="other"), {}, "reserved_for_other"),
    ("claim", who("b", "W1", "branch"), item(), {}, "wrong_role"),
    ("claim", who("c", "C2", "land_officer"), item(), {}, "wrong_unit"),
    ("claim", LAND, item(state="claimed", assignee="land.w1"), {}, "already_claimed"),
    ("release", LAND, item(), {}, "not_claimed"),
    ("release", LAND, item(state="claimed", assignee="land.w1"), {}, None),
    ("complete", LAND, item(), {"supplement_since": AT}, "awaiting_supplement"),
    ("return", LAND, item(state="claimed", assignee="land.w1"), {"supplement_since": AT}, "awaiting_supplement"),
    ("request_supplement", LAND, item(), {"supplement_since": AT}, "awaiting_supplement"),
    ("complete", LAND, item(), {}, None),
    ("transfer", who("z", "C2", "other"), item(assignee="z"), {}, None),  # transferred to them: any role, unit
])
def test_item_actions(action: str, officer: Officer, it: ItemState, d_kw: dict[str, object],
                      expected: str | None) -> None:
    status = str(d_kw.pop("status", "in_progress"))
    assert code(check_item_action(action, officer, dossier(it, status=status, **d_kw), it)) == expected


@pytest.mark.parametrize(("action", "officer", "d", "expected"), [
    ("rate", who("citizen", "-", "applicant"), dossier(), None),
    ("rate", DESK, dossier(), "wrong_role"),
    ("issue_slip", DESK, dossier(status="done"), None),  # after the end too
    ("issue_slip", LAND, dossier(item()), None),  # a unit holding an open item
    ("issue_slip", who("c", "C2", "land_officer"), dossier(item()), "wrong_unit"),
    ("receive_supplement", DESK, dossier(status="done"), "finished"),
    ("receive_supplement", DESK, dossier(supplement_since=AT), None),
    ("receive_supplement", DESK, dossier(), "not_pending"),
    ("receive_supplement", who("d", "C2", "one_stop_desk"), dossier(supplement_since=AT), "wrong_unit"),
    ("apologise", LAND, dossier(item()), None),
    ("apologise", who("h", "W1", "unit_head"), dossier(item()), None),
    ("apologise", who("o", "W1", "chairman"), dossier(item()), "wrong_role"),
    ("apologise", who("c", "C2", "land_officer"), dossier(item()), "wrong_unit"),
    ("apologise", LAND, dossier(item(), apologised=True), "already_apologised"),
    ("stop", DESK, dossier(), None),
    ("stop", LAND, dossier(), "wrong_unit"),
    ("cancel", who("s", "SO", "supervisor"), dossier(), None),
    ("cancel", DESK, dossier(), None),
    ("cancel", LAND, dossier(), "wrong_role"),
    ("add_document", DESK, dossier(), None),
    ("add_document", LAND, dossier(item()), None),
    ("add_document", LAND, dossier(item(state="claimed", assignee="other")), "wrong_unit"),
    ("fly", DESK, dossier(), "unknown_action"),
    ("stop", who("a", "W1", "inspector"), dossier(), "read_only"),
])
def test_dossier_actions(action: str, officer: Officer, d: DossierState, expected: str | None) -> None:
    assert code(check_dossier_action(action, officer, d)) == expected


def test_opening_deploying_and_reasons() -> None:
    assert check_open(DESK) is None and code(check_open(LAND)) == "wrong_role"
    boss = who("s", "SO", "supervisor")
    for check in (check_deploy, check_validate, check_move_to_step):
        assert check(boss) is None
        assert code(check(DESK)) == "wrong_role"
        assert code(check(who("a", "DNG", "auditor", "supervisor"))) == "read_only"
    assert code(check_reason("return", None)) == "missing_reason"
    assert code(check_reason("cancel", "   ")) == "missing_reason"
    assert check_reason("claim", None) is None and check_reason("return", "thiếu giấy tờ") is None
    assert code(check_reason("return", "x" * 4001)) == "reason_too_long"


def test_refusal_categories() -> None:
    assert refusal_category("forbidden", "wrong_unit") == "out_of_scope"
    assert refusal_category("conflict", "something_new") == "stale"
    assert refusal_category(None, None) == "invalid_input"
    refusal = check_item_action("claim", LAND, dossier(item()), item(assignee="other"))
    assert refusal is not None and refusal.kind == "forbidden" and refusal.recorded_category == "out_of_scope"
