"""Migrating running dossiers to a later version of their procedure (engine/migration/).

Version 2 of the test procedure (tests/support/versions.py) adds `inspect` after `check`, removes
`survey` and renames `decide` to `sign`. Dossiers stand at each step of version 1; the plan sorts
them, the run moves the movable ones, each move is one `migrated` event in the dossier's chain, and
the moved dossiers finish on version 2, verify and replay.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select

from engine import history
from engine.bootstrap import Landflow
from engine.kpi_facts import refresh_item_facts
from engine.migration import runs
from engine.migration.plan import CANNOT, MOVES, NEEDS_MAPPING
from engine.runtime import CommandRefused
from engine.store import AuditEntryRow, DossierRow, ItemFactRow, ProcedureVersionRow, WorkItemRow
from tests.conftest import officer
from tests.engine.test_commands import events
from tests.support import versions

OWNERS = {"receive": "desk.w1", "check": "land.w1", "survey": "land.w1", "inspect": "land.w1",
          "decide": "chair.w1", "sign": "chair.w1", "handover": "desk.w1"}
V1_ORDER = ["receive", "check", "survey", "decide", "handover"]


def open_item(lf: Landflow, dossier_id: int) -> WorkItemRow:
    with lf.db.read() as s:
        (item,) = s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == dossier_id,
                                                      WorkItemRow.state.in_(("ready", "claimed")))).all()
        return item


def complete(lf: Landflow, dossier_id: int) -> str:
    item = open_item(lf, dossier_id)
    lf.runtime.complete(officer(lf, OWNERS[item.step]), item.id, {})
    return item.step


def at_step(lf: Landflow, step: str) -> int:
    did = lf.runtime.open(officer(lf, "desk.w1"), versions.KEY, "W1", {"name": "Nguyễn Văn A"}, {}).id
    for _ in range(V1_ORDER.index(step)):
        complete(lf, did)
        lf.clock.advance(hours=2)  # type: ignore[attr-defined]
    assert open_item(lf, did).step == step
    return did


def version_of(lf: Landflow, dossier_id: int) -> int:
    with lf.db.read() as s:
        row = s.get(DossierRow, dossier_id)
        assert row is not None
        version = s.get(ProcedureVersionRow, row.procedure_version_id)
        assert version is not None
        return version.version


def migrated_at(lf: Landflow, dossier_id: int) -> datetime:
    (moved,) = [e for e in events(lf, dossier_id) if e.type == "migrated"]
    return moved.at


def verified(lf: Landflow, dossier_id: int) -> None:
    with lf.db.read() as s:
        result = history.verify(s, lf.procedures, dossier_id)
    assert result.ok, result.problems


def finish(lf: Landflow, dossier_id: int) -> list[str]:
    done = []
    for _ in range(10):
        with lf.db.read() as s:
            row = s.get(DossierRow, dossier_id)
            assert row is not None
            if row.status == "done":
                return done
        done.append(complete(lf, dossier_id))
    raise AssertionError("the dossier did not finish")


@pytest.fixture
def two_versions(lf: Landflow) -> Landflow:
    lf.runtime.deploy(officer(lf, "supervisor"), versions.version1().to_xml())
    return lf


def deploy_v2(lf: Landflow) -> None:
    lf.runtime.deploy(officer(lf, "supervisor"), versions.version2().to_xml())


def test_the_plan_sorts_each_dossier_and_the_run_moves_the_movable_ones(two_versions: Landflow) -> None:
    lf = two_versions
    dossiers = {step: at_step(lf, step) for step in ["receive", "check", "survey", "decide"]}
    lf.runtime.claim(officer(lf, "land.w1"), open_item(lf, dossiers["check"]).id)  # claimed, same owner: moves
    deploy_v2(lf)
    sup = officer(lf, "supervisor")

    plan = runs.make(lf.runtime, sup, versions.KEY, 1, 2)
    by_id = {d.dossier_id: d for d in plan.dossiers}
    assert by_id[dossiers["receive"]].status == MOVES
    assert by_id[dossiers["check"]].status == MOVES
    assert (by_id[dossiers["survey"]].status, by_id[dossiers["survey"]].suggestion) == (NEEDS_MAPPING, None)
    assert (by_id[dossiers["decide"]].status, by_id[dossiers["decide"]].suggestion) == (NEEDS_MAPPING, "sign")
    assert plan.counts() == {MOVES: 2, NEEDS_MAPPING: 2, CANNOT: 0}

    # without a mapping: the movable ones move, the one on a removed step is reported, not moved
    run = runs.start(lf.runtime, sup, plan)
    assert (run.total, run.position) == (2, 0)
    run = runs.batch(lf.runtime, sup, run.id, size=1)
    assert (run.position, run.moved, run.finished, run.percent) == (1, 1, False, 50)
    run = runs.batch(lf.runtime, sup, run.id, size=1)
    assert (run.position, run.moved, run.skipped, run.finished) == (2, 2, 0, True)
    assert {r["dossier_id"] for r in run.report} == {dossiers["survey"], dossiers["decide"]}
    again = runs.batch(lf.runtime, sup, run.id)  # a batch sent twice (a double click) moves and counts nothing
    assert (again.position, again.moved, again.skipped, again.finished) == (2, 2, 0, True)
    assert version_of(lf, dossiers["receive"]) == version_of(lf, dossiers["check"]) == 2
    assert version_of(lf, dossiers["survey"]) == version_of(lf, dossiers["decide"]) == 1
    assert "migrated" not in [e.type for e in events(lf, dossiers["survey"])]

    migrated = events(lf, dossiers["check"])[-1]
    assert (migrated.type, migrated.actor, migrated.step) == ("migrated", "supervisor", "check")
    payload = json.loads(migrated.payload)
    assert (payload["from_version"], payload["to_version"], payload["deadlines"], payload["run"]) == (1, 2, "keep", 1)
    assert open_item(lf, dossiers["check"]).assignee == "land.w1"  # the claim stands

    # with a mapping, the rest move
    plan = runs.make(lf.runtime, sup, versions.KEY, 1, 2, {"survey": "inspect", "decide": "sign"})
    assert plan.counts() == {MOVES: 2, NEEDS_MAPPING: 0, CANNOT: 0}
    run = runs.batch(lf.runtime, sup, runs.start(lf.runtime, sup, plan).id)
    assert (run.moved, run.finished) == (2, True)
    assert open_item(lf, dossiers["decide"]).step == "sign"
    assert open_item(lf, dossiers["survey"]).step == "inspect"

    # every moved dossier verifies, finishes on version 2, and verifies again
    for did in dossiers.values():
        verified(lf, did)
    assert finish(lf, dossiers["receive"]) == ["receive", "check", "inspect", "sign", "handover"]
    assert finish(lf, dossiers["check"]) == ["check", "inspect", "sign", "handover"]
    assert finish(lf, dossiers["survey"]) == ["inspect", "sign", "handover"]
    assert finish(lf, dossiers["decide"]) == ["sign", "handover"]
    for did in dossiers.values():
        verified(lf, did)
        with lf.db.read() as s:
            replayed = history.replay(s, lf.procedures, did)
            assert replayed.state.status == "done" and not replayed.problems


def test_deadlines_kept_or_recomputed_and_time_before_the_move_counts(two_versions: Landflow) -> None:
    lf = two_versions
    kept, recomputed = at_step(lf, "decide"), at_step(lf, "decide")
    before = {did: open_item(lf, did) for did in (kept, recomputed)}
    lf.clock.advance(hours=5)  # type: ignore[attr-defined]
    deploy_v2(lf)
    sup = officer(lf, "supervisor")
    for did, rule in ((kept, "keep"), (recomputed, "recompute")):
        plan = runs.make(lf.runtime, sup, versions.KEY, 1, 2, {"decide": "sign"}, deadlines=rule)
        plan = type(plan)(plan.procedure, plan.from_version, plan.to_version, plan.mapping, plan.deadlines,
                          tuple(d for d in plan.dossiers if d.dossier_id == did))
        assert runs.batch(lf.runtime, sup, runs.start(lf.runtime, sup, plan).id).moved == 1
    after = {did: open_item(lf, did) for did in (kept, recomputed)}
    for did in (kept, recomputed):  # same item: ready time and ordinal kept
        assert (after[did].id, after[did].created_at, after[did].step) == (before[did].id, before[did].created_at,
                                                                           "sign")
    assert after[kept].due_at == before[kept].due_at and after[kept].sla == "P2D"
    assert after[recomputed].due_at == lf.calendar.add(before[recomputed].created_at, "P2D")
    assert after[recomputed].due_at != before[recomputed].due_at
    lf.clock.advance(hours=1)  # type: ignore[attr-defined]
    item_id = after[kept].id
    complete(lf, kept)
    refresh_item_facts(lf.db, lf.calendar, lf.clock.now(), full=True)
    with lf.db.read() as s:
        fact = s.get(ItemFactRow, item_id)
        assert fact is not None and fact.step == "sign"
        moved_at = migrated_at(lf, kept)
        assert fact.used_minutes == lf.calendar.between(before[kept].created_at, lf.clock.now())
        assert fact.used_minutes > lf.calendar.between(moved_at, lf.clock.now()) + 60  # time before the move counts
    verified(lf, kept)
    verified(lf, recomputed)


def test_refusals_stale_claimed_role_and_not_a_supervisor(two_versions: Landflow) -> None:
    lf = two_versions
    stale, claimed = at_step(lf, "check"), at_step(lf, "survey")
    lf.runtime.claim(officer(lf, "land.w1"), open_item(lf, claimed).id)
    deploy_v2(lf)
    sup = officer(lf, "supervisor")
    plan = runs.make(lf.runtime, sup, versions.KEY, 1, 2, {"survey": "sign"})
    by_id = {d.dossier_id: d for d in plan.dossiers}
    assert (by_id[claimed].status, by_id[claimed].reason) == (CANNOT, "claimed_role_changed")
    assert by_id[stale].status == MOVES
    run = runs.start(lf.runtime, sup, plan)
    lf.runtime.claim(officer(lf, "land.w1"), open_item(lf, stale).id)  # the dossier changes after the plan
    run = runs.batch(lf.runtime, sup, run.id)
    assert (run.moved, run.skipped, run.finished) == (0, 1, True)
    assert {(r["dossier_id"], r["outcome"]) for r in run.report} == {(stale, "stale"), (claimed, CANNOT)}
    assert version_of(lf, stale) == 1
    refused = events(lf, stale)[-1]
    assert refused.type == "action_refused" and '"code":"stale_version"' in refused.payload
    assert '"action":"migrate"' in refused.payload
    verified(lf, stale)

    with pytest.raises(CommandRefused) as info:
        runs.make(lf.runtime, officer(lf, "land.w1"), versions.KEY, 1, 2)
    assert info.value.code == "wrong_role"
    with pytest.raises(CommandRefused) as info:
        runs.make(lf.runtime, sup, versions.KEY, 1, 7)
    assert info.value.code == "no_such_version"
    with lf.db.read() as s:
        audit = [json.loads(a.payload) for a in s.scalars(select(AuditEntryRow).where(
            AuditEntryRow.type == "action_refused"))]
    assert {(a["action"], a["code"]) for a in audit} >= {("migration_plan", "wrong_role"),
                                                         ("migration_plan", "no_such_version")}
    bad = runs.make(lf.runtime, sup, versions.KEY, 1, 2, {"nowhere": "sign"})
    assert bad.problems and not bad.dossiers
    with pytest.raises(CommandRefused):
        runs.start(lf.runtime, sup, bad)
