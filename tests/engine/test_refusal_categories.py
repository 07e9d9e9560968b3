"""Issue 12, defect 2: a refusal stays in the history, but only acting outside one's unit, role or claim
is a possible act of shirking (`unauthorised_attempt`). A typo, a stale page or a second click is a
refusal of its own category (docs/decisions/0050-refusal-categories.md), with no signal and no KPI count."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from config.settings import ROOT
from engine.accountability import signals_for
from engine.bootstrap import Landflow
from engine.history import verify
from engine.kpi import RatingRules, kpi_report
from engine.runtime import CommandRefused
from engine.store import CaseEventRow, SignalRow, WorkItemRow
from tests.conftest import officer


def open_item(lf: Landflow, dossier_id: int) -> WorkItemRow:
    with lf.db.read() as s:
        (item,) = s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == dossier_id,
                                                      WorkItemRow.state.in_(("ready", "claimed"))))
        return item


def refusals(lf: Landflow, dossier_id: int) -> list[dict[str, str]]:
    with lf.db.read() as s:
        rows = s.scalars(select(CaseEventRow).where(CaseEventRow.dossier_id == dossier_id,
                                                    CaseEventRow.type == "action_refused").order_by(CaseEventRow.seq))
        return [json.loads(r.payload) for r in rows]


def signal_kinds(lf: Landflow, dossier_id: int) -> list[tuple[str, str | None]]:
    with lf.db.read() as s:
        rows = s.scalars(select(SignalRow).where(SignalRow.dossier_id == dossier_id).order_by(SignalRow.id))
        return [(r.kind, r.officer) for r in rows]


def test_typos_stale_pages_and_second_clicks_are_refusals_not_misconduct(small: Landflow) -> None:
    lf, rt = small, small.runtime
    st = rt.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "A"}, {})
    rt.complete(officer(lf, "desk.w1"), open_item(lf, st.id).id, {"complete": True})
    item = open_item(lf, st.id)
    land = officer(lf, "land.w1")
    attempts = [
        (lambda: rt.complete(land, item.id, {"eligible": True, "area": "12 mét"}), "invalid_data", "invalid_input"),
        (lambda: rt.claim(land, item.id, expected_version=1), "stale_version", "stale"),
        (lambda: rt.return_(land, item.id, "receive", ""), "missing_reason", "invalid_input"),
        (lambda: rt.claim(land, item.id), None, None),  # accepted
        (lambda: rt.claim(land, item.id), "already_claimed", "repeated"),
        (lambda: rt.complete(officer(lf, "land.c2"), item.id, {"eligible": True, "area": 1}), "claimed_by_other",
         "out_of_scope"),
        (lambda: rt.release(officer(lf, "chair.w1"), item.id), "claimed_by_other", "out_of_scope"),
    ]
    for attempt, code, _category in attempts:
        if code is None:
            attempt()
            continue
        with pytest.raises(CommandRefused) as info:
            attempt()
        assert info.value.code == code
    recorded = refusals(lf, st.id)
    assert [(p["code"], p["category"]) for p in recorded] == [(c, k) for _a, c, k in attempts if c is not None]
    # every refusal is in the history; only the two acts on another officer's claim are signals
    assert signal_kinds(lf, st.id) == [("unauthorised_attempt", "land.c2"), ("unauthorised_attempt", "chair.w1")]
    with lf.db.read() as s:
        assert verify(s, lf.procedures, st.id).ok
        rows = kpi_report(s, "officer", lf.clock.now() - timedelta(days=1), lf.clock.now() + timedelta(days=1),
                          lf.clock.now(), RatingRules.load(ROOT / "config" / "kpi.toml")).rows
    counted = {r.key: r.refused_attempts for r in rows if r.refused_attempts}
    assert counted == {"land.c2": 1, "chair.w1": 1}


@pytest.mark.parametrize("who,code", [("chair.w1", "wrong_role"), ("land.c2", "wrong_unit"), ("auditor", "read_only")])
def test_acting_outside_ones_unit_or_role_is_still_an_unauthorised_attempt(small: Landflow, who: str,
                                                                           code: str) -> None:
    lf, rt = small, small.runtime
    st = rt.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "A"}, {})
    rt.complete(officer(lf, "desk.w1"), open_item(lf, st.id).id, {"complete": True})
    with pytest.raises(CommandRefused) as info:
        rt.complete(officer(lf, who), open_item(lf, st.id).id, {"eligible": True, "area": 1})
    assert info.value.code == code
    assert refusals(lf, st.id)[-1]["category"] == "out_of_scope"
    assert signal_kinds(lf, st.id) == [("unauthorised_attempt", who)]


def test_a_refused_open_with_a_bad_commune_is_no_signal_but_a_wrong_role_is(small: Landflow) -> None:
    with pytest.raises(CommandRefused):
        small.runtime.open(officer(small, "desk.w1"), "small_test", "NOWHERE", {"name": "A"}, {})
    with pytest.raises(CommandRefused):
        small.runtime.open(officer(small, "land.w1"), "small_test", "W1", {"name": "A"}, {})
    with small.db.read() as s:
        assert [(r.kind, r.officer) for r in s.scalars(select(SignalRow))] == [("unauthorised_attempt", "land.w1")]


def test_every_category_is_known_and_old_events_are_read_by_their_code() -> None:
    from engine.policy import CATEGORY_OF_CODE, REFUSAL_CATEGORIES, Refusal, refusal_category

    # a refusal may say its category where its code cannot (an out-of-scope act answered as a plain 404)
    assert Refusal("not_found", "not_found", "…", category="out_of_scope").recorded_category == "out_of_scope"
    assert Refusal("not_found", "not_found", "…").recorded_category == "invalid_input"
    assert set(CATEGORY_OF_CODE.values()) <= set(REFUSAL_CATEGORIES)
    assert refusal_category("forbidden", "some_new_rule") == "out_of_scope"
    assert refusal_category("conflict", "some_new_rule") == "stale"
    # an event written before categories existed has kind and code only
    old_stale = {"action": "claim", "kind": "stale", "code": "stale_version", "message": "the dossier changed"}
    old_wrong_unit = {"action": "complete", "kind": "forbidden", "code": "wrong_unit", "message": "…"}
    assert signals_for("action_refused", "land.w1", "W1", old_stale) == []
    assert [s.kind for s in signals_for("action_refused", "land.w1", "W1", old_wrong_unit)] == ["unauthorised_attempt"]
    # what the event recorded wins over today's table
    assert signals_for("action_refused", "land.w1", "W1", {**old_wrong_unit, "category": "invalid_input"}) == []


def test_the_migration_drops_the_signals_old_typos_left_and_verify_agrees(small: Landflow) -> None:
    """A database written before categories: refusal events without `category`, each with the
    `unauthorised_attempt` the old code stored. Upgrading keeps the events and the real attempt's signal."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from engine import audit
    from engine.eventlog import PendingEvent, append
    from engine.runtime.state import DossierState
    from engine.store import DossierRow
    from engine.store.migrate import alembic_config

    lf = small
    st = lf.runtime.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "A"}, {})
    at = lf.clock.now()
    old = [{"action": "claim", "kind": "stale", "code": "stale_version", "message": "the dossier changed"},
           {"action": "complete", "kind": "invalid", "code": "invalid_data", "message": "area: could not convert"},
           {"action": "complete", "kind": "forbidden", "code": "wrong_unit", "message": "the step belongs to W1"}]
    with lf.db.write() as s:
        row = s.get(DossierRow, st.id)
        assert row is not None
        lite = DossierState(id=row.id, last_seq=row.last_seq, head_hash=row.head_hash)
        append(s, lite, [PendingEvent("action_refused", "land.c2", "C2", "receive", at, p) for p in old])
        for offset, p in enumerate(old[:2]):  # what the old code stored beside the wrong_unit one
            s.add(SignalRow(kind="unauthorised_attempt", dossier_id=st.id, seq=row.last_seq + 1 + offset,
                            officer="land.c2", unit="C2", at=at, reason=f"{p['action']}: {p['message']}"))
        row.last_seq, row.head_hash = lite.last_seq, lite.head_hash
    seq = audit.append(lf.db, "action_refused", "desk.w1", "W1", at,
                       {"action": "open", "kind": "invalid", "code": "invalid_data", "message": "no commune"})
    with lf.db.write() as s:
        s.add(SignalRow(kind="unauthorised_attempt", dossier_id=None, seq=seq, officer="desk.w1", unit="W1", at=at,
                        reason="open: no commune"))
    with lf.db.read() as s:
        found = verify(s, lf.procedures, st.id)
    assert not found.ok and any("signals differ" in p for p in found.problems)

    cfg = alembic_config(str(lf.db.engine.url))
    with lf.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        # the schema as just before 0015, whatever revisions precede it in the chain
        command.stamp(cfg, ScriptDirectory.from_config(cfg).get_revision("0015").down_revision)
        command.upgrade(cfg, "0015")  # this migration only: the later ones' tables exist already
        command.stamp(cfg, "head")
    with lf.db.read() as s:
        assert verify(s, lf.procedures, st.id).ok
        assert [(r.kind, r.dossier_id, r.officer) for r in s.scalars(select(SignalRow))] == \
            [("unauthorised_attempt", st.id, "land.c2")]
    assert [p["code"] for p in refusals(lf, st.id)] == ["stale_version", "invalid_data", "wrong_unit"]
