"""Reading, validating and deploying procedure files."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.bootstrap import Landflow
from engine.definitions import DefinitionRefused, check
from engine.runtime import CommandRefused
from engine.store import AuditEntryRow, DossierRow, ProcedureVersionRow, SignalRow, WorkItemRow
from tests.conftest import officer
from tests.support.bpmn_builder import Node, small_procedure

ROLES = {"one_stop_desk", "commune_land_officer", "commune_chairman", "registration_branch", "tax_office"}


def rules(bpmn: bytes) -> set[tuple[str, str]]:
    checked, problems = check(bpmn, [], ROLES)
    assert checked is None
    return {(p.element, p.rule) for p in problems}


def test_the_small_procedure_is_valid_and_read_correctly() -> None:
    checked, problems = check(small_procedure().to_xml(), [], ROLES)
    assert problems == [] and checked is not None
    meta = checked.meta
    assert (meta.key, meta.sla, meta.legal_basis) == ("small_test", "P5D", "Nghị định 151/2025/NĐ-CP")
    verify = meta.steps["verify"]
    assert (verify.role, verify.sla, verify.clock) == ("commune_land_officer", "P2D", "run")
    assert [(f.name, f.type, f.required) for f in verify.form] == [
        ("eligible", "bool", True), ("area", "number", True), ("note", "text", False)]
    assert meta.steps["post"].clock == "paused"
    assert set(meta.end_events()) == {"end_ok", "end_no"}
    assert all(all(v.values()) for v in meta.six_clear().values())


def test_camunda_properties_and_candidate_groups_are_read() -> None:
    proc = small_procedure(property_style="camunda")
    proc.nodes[2].attrs["camunda:candidateGroups"] = "registration_branch"
    checked, problems = check(proc.to_xml(), [], ROLES)
    assert problems == [] and checked is not None
    assert checked.meta.steps["verify"].role == "registration_branch"
    assert checked.meta.steps["verify"].sla == "P2D"
    assert checked.meta.sla == "P5D"


def test_every_problem_is_listed_at_once() -> None:
    proc = small_procedure()
    nodes = {n.id: n for n in proc.nodes}
    del nodes["verify"].props["sla"]
    nodes["sign"].lane = None  # no owner
    nodes["post"].props["clock"] = "sometimes"
    nodes["handover"].props["form"] = "ok:maybe!"
    proc.flows[4].condition = "__import__('os').system('id')"
    proc.flows[5].condition = "x.__class__"
    proc.nodes.append(Node("orphan", "user", "Bước mồ côi", lane="tax_collector", col=9,
                           props={"sla": "P1Y"}))
    proc.skip_di_for = {"f3"}
    found = rules(proc.to_xml())
    assert {
        ("verify", "step.sla"), ("sign", "step.owner"), ("post", "step.clock"), ("handover", "step.form"),
        ("f5", "condition.unsafe"), ("f6", "condition.unsafe"), ("orphan", "step.role"), ("orphan", "step.sla"),
        ("orphan", "flow.unreachable"), ("orphan", "flow.dead_end"), ("f3", "di.missing"),
    } <= found
    assert any(rule == "lane.role" for _, rule in found)


@pytest.mark.parametrize("mutate,expected", [
    (lambda p: setattr(p, "executable", False), ("small_test", "process.executable")),
    (lambda p: setattr(p, "with_di", False), ("small_test", "di.absent")),
    (lambda p: p.props.pop("sla"), ("small_test", "process.sla")),
    (lambda p: p.nodes.__setitem__(1, Node("receive", "user", "Tiếp nhận", lane="one_stop_desk", col=1,
                                           props={"result": "x"})), ("receive", "step.sla")),
    (lambda p: p.nodes.append(Node("svc", "service", "Gọi API", lane="one_stop_desk", col=9)),
     ("svc", "element.unsupported")),
    # SpiffWorkflow runs pre/post scripts through the script engine: they are checked like script tasks
    (lambda p: setattr(p.nodes[1], "extra_xml", "<bpmn:extensionElements><spiffworkflow:preScript>x = "
                       "__import__('os')</spiffworkflow:preScript></bpmn:extensionElements>"),
     ("receive", "script.unsafe")),
    (lambda p: setattr(p.nodes[2], "extra_xml", "<bpmn:extensionElements><spiffworkflow:postScript>import os"
                       "</spiffworkflow:postScript></bpmn:extensionElements>"), ("verify", "script.unsafe")),
    # a multi-instance step with cardinality 10**9 took a minute and 3 GB at the first dossier
    (lambda p: setattr(p.nodes[2], "extra_xml", "<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>"
                       "10**9</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>"),
     ("verify", "element.loop")),
    (lambda p: setattr(p.nodes[2], "extra_xml", "<bpmn:standardLoopCharacteristics><bpmn:loopCondition>True"
                       "</bpmn:loopCondition></bpmn:standardLoopCharacteristics>"), ("verify", "element.loop")),
    (lambda p: p.nodes.append(Node("wait", "catch", "Chờ tin nhắn", lane="one_stop_desk", col=9,
                                   extra_xml="<bpmn:messageEventDefinition />")), ("wait", "message.ref")),
    (lambda p: p.nodes.append(Node("when", "catch", "Chờ điều kiện", lane="one_stop_desk", col=9,
                                   extra_xml="<bpmn:conditionalEventDefinition><bpmn:condition>True"
                                             "</bpmn:condition></bpmn:conditionalEventDefinition>")),
     ("when", "event.unsupported")),
])
def test_single_defects(mutate, expected) -> None:  # type: ignore[no-untyped-def]
    proc = small_procedure()
    mutate(proc)
    assert expected in rules(proc.to_xml())


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process id="p"
isExecutable="true"><bpmn:documentation>&xxe;</bpmn:documentation></bpmn:process></bpmn:definitions>"""

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol3;</bpmn:definitions>"""


@pytest.mark.parametrize("data,rule", [
    (XXE, "xml.doctype"), (BOMB, "xml.doctype"), (b"<bpmn:definitions", "xml.syntax"), (b"", "xml.syntax"),
    (b"<" + b"a>" * 5000 + b"</a>" * 5000, "xml.syntax"), (b"x" * 3_000_001, "xml.size"),
    ("<?xml version='1.0' encoding='utf-16'?><a/>".encode("utf-16"), "xml.encoding"),
])
def test_hostile_xml_is_refused_before_parsing(data: bytes, rule: str) -> None:
    checked, problems = check(data, [], ROLES)
    assert checked is None
    assert rule in {p.rule for p in problems}


def test_refused_files_store_nothing_and_are_logged(lf: Landflow) -> None:
    sup = officer(lf, "supervisor")
    bad = small_procedure()
    bad.nodes[2].props.pop("sla")
    bad.with_di = False
    with pytest.raises(DefinitionRefused) as info:
        lf.runtime.deploy(sup, bad.to_xml())
    assert {p.rule for p in info.value.problems} >= {"step.sla", "di.absent"}
    with pytest.raises(DefinitionRefused):
        lf.runtime.deploy(sup, XXE)
    with lf.db.read() as s:
        assert s.scalar(select(func.count()).select_from(ProcedureVersionRow)) == 0
        assert list(s.scalars(select(AuditEntryRow.type))) == ["deploy_refused", "deploy_refused"]


def test_only_supervisors_deploy_and_refusals_are_signals(lf: Landflow) -> None:
    with pytest.raises(CommandRefused) as info:
        lf.runtime.deploy(officer(lf, "desk.w1"), small_procedure().to_xml())
    assert info.value.code == "wrong_role"
    with lf.db.read() as s:
        assert s.scalar(select(func.count()).select_from(ProcedureVersionRow)) == 0
        sig = s.scalars(select(SignalRow)).one()
        assert (sig.kind, sig.officer, sig.dossier_id) == ("unauthorised_attempt", "desk.w1", None)


def test_versions_are_content_addressed_and_dossiers_keep_theirs(lf: Landflow) -> None:
    sup, desk = officer(lf, "supervisor"), officer(lf, "desk.w1")
    first = lf.runtime.deploy(sup, small_procedure().to_xml())
    again = lf.runtime.deploy(sup, small_procedure().to_xml())
    assert (first.version, first.created) == (1, True)
    assert (again.id, again.version, again.created) == (first.id, 1, False)
    old = lf.runtime.open(desk, "small_test", "W1", {"name": "A"}, {})
    changed = small_procedure()
    changed.nodes[1].props["sla"] = "PT4H"
    second = lf.runtime.deploy(sup, changed.to_xml())
    assert (second.version, second.created) == (2, True)
    new = lf.runtime.open(desk, "small_test", "W1", {"name": "B"}, {})
    pinned = lf.runtime.open(desk, "small_test", "W1", {"name": "C"}, {}, version=1)
    with lf.db.read() as s:
        versions = {d.id: d.procedure_version_id for d in s.scalars(select(DossierRow))}
        limits = {i.dossier_id: i.sla for i in s.scalars(select(WorkItemRow).where(WorkItemRow.ordinal == 1))}
    assert versions == {old.id: first.id, new.id: second.id, pinned.id: first.id}
    assert limits == {old.id: "P1D", new.id: "PT4H", pinned.id: "P1D"}


def test_stored_snapshots_hold_no_spec(small: Landflow) -> None:
    from engine.runtime.workflow import load_snapshot
    from engine.store import DossierStateRow

    st = small.runtime.open(officer(small, "desk.w1"), "small_test", "W1", {"name": "A"}, {})
    with small.db.read() as s:
        snap = s.get(DossierStateRow, st.id)
        assert snap is not None
        spec_json = s.scalars(select(ProcedureVersionRow.spec)).one()
    state = load_snapshot(snap.state)
    assert "spec" not in state and "subprocess_specs" not in state
    # no task spec definition (their wiring, their properties) is in the dossier's state
    raw = zlib.decompress(snap.state).decode()
    assert '"inputs"' in spec_json and '"inputs"' not in raw
    assert "legal_basis" in spec_json and "legal_basis" not in raw


def test_bundled_files_path_resolves(tmp_path: Path) -> None:
    from engine.bootstrap import bundled_procedure_files

    (tmp_path / "land").mkdir()
    (tmp_path / "land" / "a.bpmn").write_text("x")
    (tmp_path / "land" / "a.dmn").write_text("y")
    (tmp_path / "land" / "b.bpmn").write_text("z")
    found = {p.name: [d.name for d in ds] for p, ds in bundled_procedure_files(tmp_path)}
    assert found == {"a.bpmn": ["a.dmn"], "b.bpmn": []}
