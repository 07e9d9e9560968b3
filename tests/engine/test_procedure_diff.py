"""The diff of two procedure versions (engine/definitions/diff.py), from real BPMN read by the engine."""

from __future__ import annotations

import copy

from engine.definitions import check
from engine.definitions.diff import (
    CLOCK_CHANGED,
    CONDITION_CHANGED,
    FLOW_ADDED,
    FLOW_REDIRECTED,
    FLOW_REMOVED,
    FORM_CHANGED,
    NODE_RENAMED,
    PROCEDURE_CHANGED,
    ROLE_CHANGED,
    SLA_CHANGED,
    STEP_ADDED,
    STEP_REMOVED,
    STEP_RENAMED,
    diff,
)
from engine.definitions.model import ProcedureMeta
from tests.support.bpmn_builder import Flow, Node, Procedure, small_procedure

ROLES = {"one_stop_desk", "commune_land_officer", "commune_chairman", "registration_branch", "tax_office"}


def meta(proc: Procedure) -> ProcedureMeta:
    checked, problems = check(proc.to_xml(), [], ROLES)
    assert problems == [] and checked is not None
    return checked.meta


def node(proc: Procedure, nid: str) -> Node:
    return next(n for n in proc.nodes if n.id == nid)


def test_the_same_file_has_no_changes() -> None:
    assert diff(meta(small_procedure()), meta(small_procedure())).empty


def test_sla_role_clock_form_and_name_changes_of_a_step() -> None:
    old = small_procedure()
    new = copy.deepcopy(old)
    verify = node(new, "verify")
    verify.props = {**verify.props, "sla": "P3D", "clock": "paused",
                    "form": "eligible:bool!; area:number!; note:text!"}
    verify.name = "Kiểm tra hiện trạng sử dụng đất"
    sign = node(new, "sign")
    sign.lane = "registration_branch"
    d = diff(meta(old), meta(new))
    assert [(c.element, c.before, c.after) for c in d.of(SLA_CHANGED)] == [("verify", "P2D", "P3D")]
    assert [(c.element, c.before, c.after) for c in d.of(CLOCK_CHANGED)] == [("verify", "run", "paused")]
    assert [(c.element, c.before, c.after) for c in d.of(ROLE_CHANGED)] == [
        ("sign", "commune_chairman", "registration_branch")]
    assert [(c.before, c.after) for c in d.of(FORM_CHANGED)] == [
        ("eligible:bool!; area:number!; note:text", "eligible:bool!; area:number!; note:text!")]
    assert [(c.before, c.after) for c in d.of(STEP_RENAMED)] == [
        ("Kiểm tra hiện trạng", "Kiểm tra hiện trạng sử dụng đất")]
    assert d.group("sla") == d.of(SLA_CHANGED, CLOCK_CHANGED) and len(d.group("sla")) == 2
    assert d.of(STEP_ADDED, STEP_REMOVED, CONDITION_CHANGED) == []


def test_steps_added_and_removed_with_their_flows() -> None:
    old = small_procedure()
    new = copy.deepcopy(old)
    # post -> sign becomes post -> check_tax -> sign; notify is dropped (not eligible ends at once)
    new.nodes.append(Node("check_tax", "user", "Kiểm tra nghĩa vụ tài chính", lane="tax_office", col=6,
                          props={"sla": "P2D", "result": "Thông báo thuế", "legal_basis": "Nghị định 151/2025",
                                 "clock": "paused"}))  # tax determination: excluded from the limit (P5D)
    new.nodes = [n for n in new.nodes if n.id != "notify"]
    new.flows = [f for f in new.flows if f.id not in ("f7", "f10")]
    new.flows += [Flow("f7a", "post", "check_tax"), Flow("f7b", "check_tax", "sign")]
    six = next(f for f in new.flows if f.id == "f6")
    six.target = "end_no"
    d = diff(meta(old), meta(new))
    assert [(c.element, c.name, c.after) for c in d.of(STEP_ADDED)] == [
        ("check_tax", "Kiểm tra nghĩa vụ tài chính", "tax_office · P2D")]
    assert [(c.element, c.before) for c in d.of(STEP_REMOVED)] == [("notify", "one_stop_desk · PT4H")]
    assert sorted(c.element for c in d.of(FLOW_ADDED)) == ["f7a", "f7b"]
    assert sorted(c.element for c in d.of(FLOW_REMOVED)) == ["f10", "f7"]
    redirected = d.of(FLOW_REDIRECTED)
    assert [(c.element, c.before, c.after) for c in redirected] == [
        ("f6", "Đủ điều kiện? → Thông báo không đủ điều kiện", "Đủ điều kiện? → Không đủ điều kiện")]


def test_condition_changes_match_renumbered_flows_by_their_ends() -> None:
    old = small_procedure()
    new = copy.deepcopy(old)
    for f in new.flows:
        if f.id == "f5":
            f.id, f.condition = "Flow_0abc", "eligible == True and area > 0"
    d = diff(meta(old), meta(new))
    changed = d.of(CONDITION_CHANGED)
    assert [(c.element, c.before, c.after, c.detail) for c in changed] == [
        ("Flow_0abc", "eligible == True", "eligible == True and area > 0", "Đủ điều kiện? → Niêm yết công khai")]
    assert d.of(FLOW_ADDED, FLOW_REMOVED, FLOW_REDIRECTED) == []


def test_procedure_level_and_other_node_changes() -> None:
    old = small_procedure()
    new = copy.deepcopy(old)
    new.props = {**new.props, "sla": "P7D", "remote_extension": "P5D"}
    node(new, "end_no").name = "Trả hồ sơ không đủ điều kiện"
    d = diff(meta(old), meta(new))
    assert {(c.detail, c.before, c.after) for c in d.of(PROCEDURE_CHANGED)} == {
        ("sla", "P5D", "P7D"), ("remote_extension", None, "P5D")}
    assert [(c.element, c.before, c.after) for c in d.of(NODE_RENAMED)] == [
        ("end_no", "Không đủ điều kiện", "Trả hồ sơ không đủ điều kiện")]
    assert d.as_dict()["key"] == "small_test" and len(d.as_dict()["changes"]) == 3
