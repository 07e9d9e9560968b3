"""Call activities and versioned fragments (decision 0166): a fragment is deployed once, versioned, never
opened as a dossier; a caller binds to the fragment version in force at its own deploy and keeps it; the
lint names a missing fragment, a fragment calling itself, and counts the fragment's steps in the budget."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from bench.fragment_builder import caller_procedure, posting_fragment
from config.settings import ROOT
from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.definitions import DefinitionRefused
from engine.definitions.diff import diff
from engine.definitions.fragment_store import database_fragments
from engine.definitions.lint import lint
from engine.definitions.model import ProcedureMeta
from engine.export import ExportFilter, ocel, write_xes
from engine.history import verify
from engine.kpi import RatingRules, kpi_report
from engine.kpi_facts import refresh_item_facts
from engine.migration import runs
from engine.migration.plan import CANNOT, MOVES
from engine.runtime import CommandRefused
from engine.store import CaseEventRow, DossierRow, ProcedureVersionRow, WorkItemRow
from tests.conftest import officer

W1 = "W1"


def open_items(lf: Landflow, did: int) -> list[WorkItemRow]:
    with lf.db.read() as s:
        return list(s.scalars(select(WorkItemRow).where(
            WorkItemRow.dossier_id == did, WorkItemRow.state.in_(("ready", "claimed")))))


def meta_of(lf: Landflow, key: str, version: int) -> dict[str, object]:
    with lf.db.read() as s:
        row = s.scalars(select(ProcedureVersionRow).where(ProcedureVersionRow.key == key,
                                                          ProcedureVersionRow.version == version)).one()
        return dict(json.loads(row.meta))


def do(lf: Landflow, did: int, who: str, data: dict[str, object] | None = None) -> str:
    """Claim and complete the dossier's one open work item; its step."""
    [item] = open_items(lf, did)
    lf.runtime.claim(officer(lf, who), item.id)
    lf.runtime.complete(officer(lf, who), item.id, data or {})
    return item.step


@pytest.fixture
def called(lf: Landflow) -> Landflow:
    """The posting fragment v1 and two procedures calling it."""
    sup = officer(lf, "supervisor")
    lf.runtime.deploy(sup, posting_fragment().to_xml())
    lf.runtime.deploy(sup, caller_procedure("caller_a", "Thủ tục gọi A").to_xml())
    lf.runtime.deploy(sup, caller_procedure("caller_b", "Thủ tục gọi B", sla="P8D").to_xml())
    return lf


def test_callers_bind_the_fragment_version_in_force_and_take_its_steps(called: Landflow) -> None:
    for key in ("caller_a", "caller_b"):
        meta = meta_of(called, key, 1)
        [binding] = meta["fragments"]  # type: ignore[misc]
        assert {k: binding[k] for k in ("element", "key", "version", "steps")} == {
            "element": "posting", "key": "posting_test", "version": 1, "steps": ["post", "objections"]}
        with called.db.read() as s:
            assert binding["content_hash"] == s.scalar(select(ProcedureVersionRow.content_hash).where(
                ProcedureVersionRow.key == "posting_test"))
        steps = {s["id"]: s for s in meta["steps"]}  # type: ignore[attr-defined]
        assert steps["post"]["clock"] == "paused" and steps["objections"]["role"] == "commune_land_officer"


def test_a_fragment_is_never_opened_as_a_dossier(called: Landflow) -> None:
    with pytest.raises(CommandRefused) as err:
        called.runtime.open(officer(called, "desk.w1"), "posting_test", W1, {"name": "A"}, {})
    assert err.value.code == "fragment_not_openable"
    with called.db.read() as s:
        assert s.scalars(select(DossierRow)).all() == []


def test_a_dossier_runs_the_fragment_steps_and_records_the_version(called: Landflow) -> None:
    st = called.runtime.open(officer(called, "desk.w1"), "caller_a", W1, {"name": "Lê Văn C"}, {})
    assert do(called, st.id, "desk.w1", {"complete": True}) == "receive"
    [post] = open_items(called, st.id)
    assert (post.step, post.role, post.unit) == ("post", "commune_land_officer", W1)
    assert do(called, st.id, "land.w1") == "post"
    assert do(called, st.id, "land.w1", {"objections": False}) == "objections"
    assert do(called, st.id, "desk.w1") == "handover"
    with called.db.read() as s:
        d = s.get(DossierRow, st.id)
        assert d is not None and d.status == "done"
        opened = s.scalars(select(CaseEventRow).where(CaseEventRow.dossier_id == st.id, CaseEventRow.seq == 1)).one()
        payload = json.loads(opened.payload)
        assert [(f["element"], f["key"], f["version"]) for f in payload["fragments"]] == [
            ("posting", "posting_test", 1)]
        v = verify(s, called.procedures, st.id)
    assert v.chain_ok and v.replay_ok, v.problems


def test_fragment_v2_reaches_a_caller_only_when_it_is_redeployed(called: Landflow) -> None:
    """A dossier running on caller v1 keeps posting v1 (15 days) after v2 (30 days) is deployed; the caller
    redeployed with the same bytes becomes v2, bound to posting v2, and new dossiers run that."""
    sup, desk = officer(called, "supervisor"), officer(called, "desk.w1")
    old = called.runtime.open(desk, "caller_a", W1, {"name": "A"}, {})
    do(called, old.id, "desk.w1", {"complete": True})
    v2 = called.runtime.deploy(sup, posting_fragment(sla="P30D").to_xml())
    assert (v2.key, v2.version, v2.created) == ("posting_test", 2, True)
    again = called.runtime.deploy(sup, caller_procedure("caller_a", "Thủ tục gọi A").to_xml())
    assert (again.version, again.created) == (2, True)  # same bytes, new fragment: a new caller version
    assert [b["version"] for b in meta_of(called, "caller_a", 2)["fragments"]] == [2]  # type: ignore[attr-defined]
    assert [b["version"] for b in meta_of(called, "caller_b", 1)["fragments"]] == [1]  # type: ignore[attr-defined]
    # the diff page shows what the new fragment version changes for the caller's dossiers
    changes = diff(ProcedureMeta.from_dict(meta_of(called, "caller_a", 1)),
                   ProcedureMeta.from_dict(meta_of(called, "caller_a", 2))).changes
    assert [(c.kind, c.element, c.before, c.after) for c in changes if c.kind == "sla_changed"] == [
        ("sla_changed", "post", "P15D", "P30D")]
    # the running dossier: still caller v1 and posting v1
    [post] = open_items(called, old.id)
    assert post.step == "post"
    with called.db.read() as s:
        d = s.get(DossierRow, old.id)
        assert d is not None
        proc = called.procedures.get(s, d.procedure_version_id)
    assert proc.version == 1 and proc.meta.steps["post"].sla == "P15D"
    new = called.runtime.open(desk, "caller_a", W1, {"name": "B"}, {})
    with called.db.read() as s:
        d = s.get(DossierRow, new.id)
        assert d is not None
        proc = called.procedures.get(s, d.procedure_version_id)
    assert proc.version == 2 and proc.meta.steps["post"].sla == "P30D"
    for did in (old.id, new.id):
        do(called, did, "land.w1") if did == old.id else (do(called, did, "desk.w1", {"complete": True}),
                                                          do(called, did, "land.w1"))
        do(called, did, "land.w1", {"objections": True})
        do(called, did, "desk.w1")
    with called.db.read() as s:
        for did in (old.id, new.id):
            v = verify(s, called.procedures, did)
            assert v.chain_ok and v.replay_ok, v.problems


def test_a_missing_fragment_is_a_problem_naming_it(lf: Landflow) -> None:
    roles = lf.directory.get().step_roles()
    bpmn = caller_procedure("caller_a", "A", fragment="niem_yet").to_xml()
    with lf.db.read() as s:
        report = lint(bpmn, [], roles, fragments=database_fragments(s, lf.clock.now()))
    assert [(p.element, p.rule, dict(p.params)) for p in report.problems] == [
        ("posting", "fragment.missing", {"fragment": "niem_yet"})]
    assert "niem_yet" in report.problems[0].message
    with pytest.raises(DefinitionRefused) as err:
        lf.runtime.deploy(officer(lf, "supervisor"), bpmn)
    assert [p.rule for p in err.value.problems] == ["fragment.missing"]
    # without any way to find fragments (no resolver) the call is a problem too, never a crash
    assert [p.rule for p in lint(bpmn, [], roles).problems] == ["fragment.missing"]


def test_a_fragment_calling_itself_is_refused(called: Landflow) -> None:
    frag = posting_fragment()
    frag.nodes.insert(2, caller_procedure("x", "x").nodes[2])
    frag.nodes[2].col, frag.nodes[2].lane = 2, "commune_land_officer"
    frag.nodes[3].col, frag.nodes[4].col = 3, 4
    frag.flows[1] = type(frag.flows[1])("pf2", "post", "posting")
    frag.flows.append(type(frag.flows[1])("pf4", "posting", "objections"))
    with called.db.read() as s:
        report = lint(frag.to_xml(), [], called.directory.get().step_roles(),
                      fragments=database_fragments(s, called.clock.now()))
    assert [(p.element, p.rule) for p in report.problems] == [("posting", "fragment.cycle")]


def test_the_time_budget_counts_the_fragment_steps_along_the_path(called: Landflow) -> None:
    """receive P1D + posting (post P15D paused, objections P1D running) + handover PT4H = 2 days 4 hours of
    running clock: over a limit of P2D, within P3D."""
    roles = called.directory.get().step_roles()
    with called.db.read() as s:
        over = lint(caller_procedure("caller_c", "C", sla="P2D").to_xml(), [], roles,
                    fragments=database_fragments(s, called.clock.now()))
        fits = lint(caller_procedure("caller_c", "C", sla="P3D").to_xml(), [], roles,
                    fragments=database_fragments(s, called.clock.now()))
    assert [(p.element, p.rule) for p in over.problems] == [("handover", "budget.path")]
    assert "posting 1D" in over.problems[0].message or "posting P1D" in over.problems[0].message
    assert fits.ok, fits.problems


def test_kpi_and_exports_count_the_fragment_steps(called: Landflow, clock: FixedClock, tmp_path: Path) -> None:
    """The fragment's steps are the dossier's: the KPI counts them under the calling procedure and the
    owning unit; XES and OCEL name the fragment version each ran in."""
    start = clock.now() - timedelta(hours=1)
    st = called.runtime.open(officer(called, "desk.w1"), "caller_a", W1, {"name": "Lê Văn C"}, {})
    for who, data in (("desk.w1", {"complete": True}), ("land.w1", {}), ("land.w1", {"objections": False}),
                      ("desk.w1", {})):
        clock.advance(hours=1)
        do(called, st.id, who, data)
    refresh_item_facts(called.db, called.calendar, clock.now())
    rules = RatingRules.load(ROOT / "config" / "kpi.toml")
    with called.db.read() as s:
        report = kpi_report(s, "procedure", start, clock.now() + timedelta(hours=1), clock.now(), rules)
    [row] = [r for r in report.rows if r.key == "caller_a"]
    assert (row.handled, row.on_time) == (4, 4)  # receive, post, objections, handover

    xes = tmp_path / "log.xes"
    write_xes(called.db, ExportFilter(procedure="caller_a"), xes)
    tree = etree.parse(str(xes))

    def attr(e: etree._Element, key: str) -> str | None:
        found = e.find(f"{{http://www.xes-standard.org/}}string[@key='{key}']")
        return None if found is None else found.get("value")

    ran = {(attr(e, "landflow:step"), attr(e, "landflow:fragment"))
           for e in tree.iter("{http://www.xes-standard.org/}event") if attr(e, "landflow:kind") == "step"}
    assert ran == {("receive", None), ("post", "posting_test v1"), ("objections", "posting_test v1"),
                   ("handover", None)}
    doc = ocel(called.db, ExportFilter(procedure="caller_a"))
    assert "fragment" in {t["name"] for t in doc["objectTypes"]}
    related = {r["objectId"] for e in doc["events"] for r in e["relationships"] if r["qualifier"] == "fragment"}
    assert related == {"fragment:posting_test v1"}


def test_returns_cross_the_fragment_boundary_both_ways(called: Landflow) -> None:
    """Inside the fragment (objections -> post), out of it (objections -> receive: the call starts again)
    and into it (handover -> objections); replay rebuilds each rewind."""
    land, desk = officer(called, "land.w1"), officer(called, "desk.w1")

    def send_back(who: object, to: str, reason: str) -> str:
        [item] = open_items(called, st.id)
        called.runtime.claim(who, item.id)  # type: ignore[arg-type]
        called.runtime.return_(who, item.id, to, reason)  # type: ignore[arg-type]
        return "|".join(i.step for i in open_items(called, st.id))

    st = called.runtime.open(desk, "caller_a", W1, {"name": "A"}, {})
    do(called, st.id, "desk.w1", {"complete": True})
    do(called, st.id, "land.w1")
    assert send_back(land, "post", "niêm yết chưa đủ thời gian") == "post"
    do(called, st.id, "land.w1")
    assert send_back(land, "receive", "thiếu giấy tờ") == "receive"
    do(called, st.id, "desk.w1", {"complete": True})
    do(called, st.id, "land.w1")
    do(called, st.id, "land.w1", {"objections": False})
    assert send_back(desk, "objections", "cần xem lại ý kiến phản ánh") == "objections"
    do(called, st.id, "land.w1", {"objections": False})
    do(called, st.id, "desk.w1")
    with called.db.read() as s:
        d = s.get(DossierRow, st.id)
        assert d is not None and d.status == "done"
        v = verify(s, called.procedures, st.id)
    assert v.chain_ok and v.replay_ok, v.problems


def test_fragments_are_looked_up_once_per_key_and_a_file_calls_at_most_fifty(called: Landflow) -> None:
    """A hostile file cannot make the check query the database once per call activity."""
    from bench.bpmn_builder import Flow, Node

    def calling(keys: list[str]) -> bytes:
        proc = caller_procedure("caller_many", "Nhiều lời gọi", sla="P30D")
        nodes, flows = proc.nodes[:2], proc.flows[:1]
        last = "receive"
        for i, key in enumerate(keys):
            nodes.append(Node(f"call_{i}", "call", key, lane="one_stop_desk", col=2 + i, attrs={"calledElement": key}))
            flows.append(Flow(f"c{i}", last, f"call_{i}"))
            last = f"call_{i}"
        nodes.append(Node("end", "end", "Hết", lane="one_stop_desk", col=2 + len(keys)))
        flows.append(Flow("c_end", last, "end"))
        proc.nodes, proc.flows = nodes, flows
        return proc.to_xml()

    asked: list[str] = []
    roles = called.directory.get().step_roles()
    with called.db.read() as s:
        resolve = database_fragments(s, called.clock.now())

        def counting(key: str) -> object:
            asked.append(key)
            return resolve(key)

        report = lint(calling(["posting_test"] * 3), [], roles, fragments=counting)  # type: ignore[arg-type]
        assert asked == ["posting_test"]
        assert report.problems == []  # the same fragment three times: its steps come round again, as in a loop
        asked.clear()
        report = lint(calling([f"frag_{i}" for i in range(51)]), [], roles, fragments=counting)  # type: ignore[arg-type]
    assert asked == [] and [p.rule for p in report.problems] == ["call.count"]


def test_a_running_dossier_reaches_a_new_fragment_version_by_migration(called: Landflow) -> None:
    """After posting v2 (30 days) and caller v2, the migration moves a dossier still at `receive` (it then
    posts for 30 days) and reports, without moving it, one inside the fragment (decision 0168)."""
    sup, desk = officer(called, "supervisor"), officer(called, "desk.w1")
    inside = called.runtime.open(desk, "caller_a", W1, {"name": "A"}, {})
    do(called, inside.id, "desk.w1", {"complete": True})  # now at post, inside the fragment
    before = called.runtime.open(desk, "caller_a", W1, {"name": "B"}, {})
    called.runtime.deploy(sup, posting_fragment(sla="P30D").to_xml())
    called.runtime.deploy(sup, caller_procedure("caller_a", "Thủ tục gọi A").to_xml())
    plan = runs.make(called.runtime, sup, "caller_a", 1, 2)
    by_id = {d.dossier_id: d for d in plan.dossiers}
    assert (by_id[inside.id].status, by_id[inside.id].reason) == (CANNOT, "in_fragment")
    assert by_id[before.id].status == MOVES
    run = runs.batch(called.runtime, sup, runs.start(called.runtime, sup, plan).id)
    assert (run.moved, run.finished) == (1, True)
    do(called, before.id, "desk.w1", {"complete": True})
    [post] = open_items(called, before.id)
    with called.db.read() as s:
        d = s.get(DossierRow, before.id)
        assert d is not None
        assert called.procedures.get(s, d.procedure_version_id).meta.steps[post.step].sla == "P30D"
    for did, steps in ((inside.id, [("land.w1", {}), ("land.w1", {"objections": False}), ("desk.w1", {})]),
                       (before.id, [("land.w1", {}), ("land.w1", {"objections": True}), ("desk.w1", {})])):
        for who, data in steps:
            do(called, did, who, data)
        with called.db.read() as s:
            v = verify(s, called.procedures, did)
        assert v.chain_ok and v.replay_ok, v.problems


def test_a_fragment_may_call_a_fragment_bound_at_its_own_deploy(called: Landflow) -> None:
    """outer_test (its own step, then a call of posting_test) is called by caller_n: the dossier runs
    all three levels, and a posting v2 deployed later does not change what outer_test v1 runs."""
    from bench.bpmn_builder import Flow, Node, Procedure

    lane = "commune_land_officer"
    outer = Procedure("outer_test", "Kiểm tra rồi niêm yết", [
        Node("outer_start", "start", "Bắt đầu", lane=lane, col=0),
        Node("outer_check", "user", "Kiểm tra trước niêm yết", lane=lane, col=1,
             props={"sla": "P1D", "result": "Phiếu kiểm tra", "legal_basis": "Luật Đất đai 2024"}),
        Node("outer_call", "call", "Niêm yết", lane=lane, col=2, attrs={"calledElement": "posting_test"}),
        Node("outer_end", "end", "Xong", lane=lane, col=3)],
        [Flow("o1", "outer_start", "outer_check"), Flow("o2", "outer_check", "outer_call"),
         Flow("o3", "outer_call", "outer_end")], props={"fragment": "true", "legal_basis": "Luật Đất đai 2024"})
    sup = officer(called, "supervisor")
    called.runtime.deploy(sup, outer.to_xml())
    called.runtime.deploy(sup, posting_fragment(sla="P30D").to_xml())  # after outer_test v1: not in it
    called.runtime.deploy(sup, caller_procedure("caller_n", "Thủ tục lồng", sla="P8D", fragment="outer_test").to_xml())
    [binding] = meta_of(called, "caller_n", 1)["fragments"]  # type: ignore[misc]
    assert (binding["key"], binding["version"], binding["steps"]) == (
        "outer_test", 1, ["outer_check", "post", "objections"])
    st = called.runtime.open(officer(called, "desk.w1"), "caller_n", W1, {"name": "D"}, {})
    do(called, st.id, "desk.w1", {"complete": True})
    do(called, st.id, "land.w1")
    [post] = open_items(called, st.id)
    with called.db.read() as s:
        proc = called.procedures.get(s, s.get(DossierRow, st.id).procedure_version_id)  # type: ignore[union-attr]
    assert post.step == "post" and proc.meta.steps["post"].sla == "P15D"  # posting v1, as outer_test v1 holds it
    do(called, st.id, "land.w1")
    do(called, st.id, "land.w1", {"objections": False})
    do(called, st.id, "desk.w1")
    with called.db.read() as s:
        v = verify(s, called.procedures, st.id)
        assert s.get(DossierRow, st.id).status == "done"  # type: ignore[union-attr]
    assert v.chain_ok and v.replay_ok, v.problems
    # the nested fragment calling the outer one back is a cycle
    back = posting_fragment()
    back.nodes.insert(2, Node("back", "call", "Gọi lại", lane=lane, col=2, attrs={"calledElement": "outer_test"}))
    back.nodes[3].col, back.nodes[4].col = 3, 4
    back.flows[1] = Flow("pf2", "post", "back")
    back.flows.append(Flow("pf4", "back", "objections"))
    with called.db.read() as s:
        report = lint(back.to_xml(), [], called.directory.get().step_roles(),
                      fragments=database_fragments(s, called.clock.now()))
    assert [(p.element, p.rule) for p in report.problems] == [("back", "fragment.cycle")]
    # one file cannot run two versions of posting_test (directly v2, through outer_test v1): one process id
    both = caller_procedure("caller_both", "Hai lời gọi", sla="P8D", fragment="outer_test", then="posting_test")
    with called.db.read() as s:
        report = lint(both.to_xml(), [], called.directory.get().step_roles(),
                      fragments=database_fragments(s, called.clock.now()))
    assert [(p.element, p.rule) for p in report.problems] == [("posting", "fragment.versions")]
    assert "posting_test v2 / v1" in report.problems[0].message or "posting_test v1 / v2" in report.problems[0].message


def test_a_step_id_of_the_caller_and_of_its_fragment_may_not_be_the_same(called: Landflow) -> None:
    proc = caller_procedure("caller_s", "Trùng mã bước", sla="P8D")
    proc.nodes[3].id = "objections"  # the hand-over step takes the id of a posting_test step
    proc.flows[2].target, proc.flows[3].source = "objections", "objections"
    with called.db.read() as s:
        report = lint(proc.to_xml(), [], called.directory.get().step_roles(),
                      fragments=database_fragments(s, called.clock.now()))
    assert [(p.element, p.rule, dict(p.params)) for p in report.problems] == [
        ("posting", "fragment.step_clash", {"fragment": "posting_test", "steps": "objections"})]
