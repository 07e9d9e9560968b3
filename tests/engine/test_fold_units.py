"""The fold as plain functions (engine/runtime/state.py): `implied_effects`, `compact`, `apply_effects`
take values and give values — no database, no workflow, no clock. Replay and the live command path both
rely on it, so its rules are pinned here one by one."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from engine.definitions.model import StepMeta
from engine.jsoncanon import iso
from engine.runtime.state import NOW, DossierState, ItemState, apply_effects, compact, implied_effects
from tests.support.purity import import_closure, no_database

__all__ = ["no_database"]
pytestmark = pytest.mark.usefixtures("no_database")

AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
LATER = AT + timedelta(hours=2)
STEPS = {"receive": StepMeta("receive", "Tiếp nhận", "one_stop_desk", "P1D"),
         "check": StepMeta("check", "Kiểm tra", "land_officer", "P3D", clock="run")}


def opened() -> DossierState:
    """A dossier with its first item, as `opened` leaves it."""
    state = DossierState(id=7, code="W1-260302-0001", desk_unit="W1", status="in_progress")
    apply_effects(state, {"dossier": {"status": "in_progress", "received_at": iso(AT)},
                          "new": [{"item": 1, "step": "receive", "unit": "W1", "due_at": iso(AT + timedelta(days=1)),
                                   "created_at": iso(AT)}]}, AT, steps=STEPS)
    return state


def comparable(state: DossierState) -> tuple[dict[str, object], dict[int, dict[str, object]]]:
    return state.comparable(), {o: i.comparable() for o, i in state.items.items()}


def test_the_fold_needs_nothing_but_values() -> None:
    closure = import_closure("engine.runtime.state")
    assert not {m for m in closure if m.startswith(("engine.store", "sqlalchemy", "SpiffWorkflow"))}, closure


def test_a_new_item_takes_what_its_step_gives() -> None:
    state = opened()
    (item,) = state.items.values()
    assert (item.name, item.role, item.sla, item.clock, item.state) == ("Tiếp nhận", "one_stop_desk", "P1D", "run",
                                                                      "ready")
    assert item.created_at == AT and item.due_at == AT + timedelta(days=1) and state.next_ordinal == 2
    assert item.trail == [{"unit": "W1", "officer": None}] and state.dirty_items == {1}


def test_completing_implies_closing_the_item_and_claiming_it_when_nobody_had() -> None:
    state = opened()
    implied = implied_effects("completed", "desk.w1", {"item": 1}, state)
    assert implied == {"1": {"state": "done", "outcome": "completed", "done_at": NOW, "done_by": "desk.w1",
                             "last_activity_at": NOW, "assignee": "desk.w1", "claimed_at": NOW}}
    state.items[1].state, state.items[1].assignee = "claimed", "desk2.w1"
    assert "assignee" not in implied_effects("completed", "desk2.w1", {"item": 1}, state)["1"]
    assert implied_effects("claimed", "desk.w1", {"item": 1}, state) == {}
    assert implied_effects("completed", "desk.w1", {"item": 99}, state) == {}
    assert implied_effects("completed", "desk.w1", {}, state) == {}


def test_compact_writes_short_and_the_fold_puts_everything_back() -> None:
    before = opened()
    implied = implied_effects("completed", "desk.w1", {"item": 1}, before)
    full = {"items": {"1": {"state": "done", "outcome": "completed", "done_at": iso(LATER), "done_by": "desk.w1",
                            "last_activity_at": iso(LATER), "assignee": "desk.w1", "claimed_at": iso(LATER)}},
            "new": [{"item": 2, "step": "check", "unit": "W1", "name": "Kiểm tra", "role": "land_officer",
                     "sla": "P3D", "clock": "run", "due_at": iso(LATER + timedelta(days=3)),
                     "created_at": iso(LATER)}],
            "dossier": {"due_at": iso(LATER + timedelta(days=5)), "paused_at": None}}
    short = compact(copy.deepcopy(full), iso(LATER), STEPS, implied)
    assert "items" not in short  # every item change was implied by the event's type
    assert short["new"] == [{"item": 2, "step": "check", "unit": "W1", "due_at": iso(LATER + timedelta(days=3)),
                             "created_at": NOW}]
    assert short["dossier"] == {"due_at": iso(LATER + timedelta(days=5)), "paused_at": None}
    from_full, from_short = copy.deepcopy(before), copy.deepcopy(before)
    apply_effects(from_full, full, LATER, steps=STEPS)
    apply_effects(from_short, short, LATER, steps=STEPS, implied=implied)
    assert comparable(from_full) == comparable(from_short)
    done = from_short.items[1]
    assert (done.state, done.assignee, done.done_at, done.claimed_at) == ("done", "desk.w1", LATER, LATER)
    assert from_short.items[2].name == "Kiểm tra" and from_short.due_at == LATER + timedelta(days=5)


def test_what_the_effects_state_wins_over_what_is_implied() -> None:
    state = opened()
    implied = implied_effects("completed", "desk.w1", {"item": 1}, state)
    apply_effects(state, {"items": {"1": {"outcome": "refused"}}}, LATER, implied=implied)
    assert state.items[1].outcome == "refused" and state.items[1].state == "done"
    assert compact({"items": {"1": {"outcome": "refused", "state": "done"}}}, iso(LATER), None, implied) == \
        {"items": {"1": {"outcome": "refused"}}}


def test_a_step_with_its_own_values_keeps_them() -> None:
    fx = {"new": [{"item": 2, "step": "check", "unit": "C2", "name": "Khác", "role": "land_officer", "sla": "P5D",
                   "clock": "run", "due_at": None, "created_at": iso(AT)}]}
    short = compact(fx, iso(LATER), STEPS)
    assert short["new"][0]["name"] == "Khác" and short["new"][0]["sla"] == "P5D" and "role" not in short["new"][0]
    state = opened()
    apply_effects(state, short, LATER, steps=STEPS)
    assert (state.items[2].name, state.items[2].sla, state.items[2].role, state.items[2].due_at) == \
        ("Khác", "P5D", "land_officer", None)


def test_timers_fold_and_unknown_fields_are_refused() -> None:
    state = opened()
    timer = {"node": "wait", "duration": "P2D", "item": None, "state": "waiting", "created_at": iso(AT),
             "due_at": iso(AT + timedelta(days=2))}
    apply_effects(state, {"timers": {"1": timer}}, AT)
    apply_effects(state, {"timers": {"1": {"state": "fired", "done_at": iso(LATER)}}}, LATER)
    assert (state.timers[1].state, state.timers[1].done_at, state.next_timer) == ("fired", LATER, 2)
    for bad in ({"dossier": {"colour": "red"}}, {"items": {"1": {"colour": "red"}}},
                {"timers": {"1": {**timer, "colour": "red"}}}):
        with pytest.raises(KeyError):
            apply_effects(copy.deepcopy(state), bad, LATER)


def test_now_means_the_event_s_instant() -> None:
    state = opened()
    apply_effects(state, {"dossier": {"paused_at": NOW, "supplement_since": NOW}}, LATER)
    assert state.paused_at == LATER == state.supplement_since
    assert compact({"dossier": {"paused_at": iso(LATER)}}, iso(LATER), None) == {"dossier": {"paused_at": NOW}}


def test_items_are_the_same_objects_the_policy_reads() -> None:
    assert isinstance(opened().items[1], ItemState)
