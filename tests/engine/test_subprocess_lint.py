"""The check of embedded sub-processes, inclusive gateways and non-interrupting timers (decisions
0157-0159): what runs is accepted, the box's own rules are reported naming it, and the time budget
walks through the box's content and counts side-by-side branches once (the longest)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.definitions import check
from engine.definitions.model import ProcedureMeta
from tests.support.bpmn_builder import (
    Flow,
    Node,
    Procedure,
    consultation_procedure,
    posting_procedure,
    reminder_procedure,
    timer_xml,
)
from tests.support.cost import within

ROLES = {"one_stop_desk", "commune_land_officer", "commune_economic_division", "commune_chairman",
         "registration_branch", "tax_office"}


def clean(proc: Procedure) -> ProcedureMeta:
    checked, problems = check(proc.to_xml(), [], ROLES)
    assert problems == [] and checked is not None
    return checked.meta


def rules(proc: Procedure) -> set[tuple[str, str]]:
    checked, problems = check(proc.to_xml(), [], ROLES)
    assert checked is None
    return {(p.element, p.rule) for p in problems}


def test_a_sub_process_is_accepted_and_its_steps_are_steps_with_owners() -> None:
    meta = clean(posting_procedure())
    # `post` is drawn inside the box, in no lane of its own (as bpmn-js draws it): the box's lane owns it;
    # `close_posting` names its owner by candidateGroups
    assert {s: meta.steps[s].role for s in ("post", "close_posting")} == {
        "post": "commune_land_officer", "close_posting": "commune_economic_division"}
    assert meta.parents == {"p_start": "posting", "post": "posting", "close_posting": "posting", "p_end": "posting"}
    # the end inside the box ends the box, not the dossier: it needs no outcome
    assert set(meta.end_events()) == {"issued", "escalated"}
    assert ProcedureMeta.from_dict(meta.as_dict()).parents == meta.parents


def test_a_nested_step_in_a_lane_of_its_own_keeps_it() -> None:
    proc = posting_procedure()
    post = next(n for n in proc.nodes if n.id == "post")
    post.lane = "commune_chairman"
    assert clean(proc).steps["post"].role == "commune_chairman"


def test_inclusive_gateways_and_non_interrupting_timers_are_accepted() -> None:
    clean(consultation_procedure())
    clean(reminder_procedure())


def _inner(proc: Procedure, node: str) -> Node:
    return next(n for n in proc.nodes if n.id == node)


def _drop(proc: Procedure, *ids: str) -> Procedure:
    proc.nodes = [n for n in proc.nodes if n.id not in ids]
    proc.flows = [f for f in proc.flows if f.id not in ids]
    return proc


def _set(node: Node, **values: object) -> Node:
    for k, v in values.items():
        setattr(node, k, v)
    return node


@pytest.mark.parametrize("mutate,expected", [
    # no start inside the box
    (lambda p: (_drop(p, "p_start", "p1")), {("posting", "subprocess.start"), ("post", "flow.unreachable")}),
    # two starts inside
    (lambda p: (p.nodes.append(Node("p_start2", "start", "", parent="posting", col=2)) or
                p.flows.append(Flow("p4", "p_start2", "post"))), {("posting", "subprocess.start")}),
    # a start that waits for a timer is not where a token entering the box begins
    (lambda p: _set(_inner(p, "p_start"), extra_xml=timer_xml("P1D")), {("posting", "subprocess.start")}),
    # no end inside
    (lambda p: _drop(p, "p_end", "p3"), {("posting", "subprocess.end"), ("close_posting", "flow.dead_end")}),
    # an end inside that cannot be reached
    (lambda p: _drop(p, "p3").flows.append(Flow("p5", "close_posting", "post")),
     {("posting", "subprocess.end"), ("p_end", "flow.unreachable")}),
    # a flow from inside the box straight to a step outside it
    (lambda p: _drop(p, "p3").flows.append(Flow("p6", "close_posting", "sign")),
     {("p6", "subprocess.crossing")}),
    # steps inside obey the rules of steps outside
    (lambda p: _inner(p, "post").props.pop("sla"), {("post", "step.sla")}),
    (lambda p: (_set(_inner(p, "post"), lane=None, attrs={"camunda:candidateGroups": "tax_collector"}),
                _set(_inner(p, "posting"), lane=None)),
     {("post", "step.role")}),
    # an event sub-process stays refused
    (lambda p: _inner(p, "posting").attrs.update({"triggeredByEvent": "true"}), {("posting", "element.unsupported")}),
])
def test_the_rules_of_the_box(mutate: Callable[[Procedure], object], expected: set[tuple[str, str]]) -> None:
    proc = posting_procedure()
    mutate(proc)
    assert expected <= rules(proc)


def test_a_collapsed_sub_process_is_refused() -> None:
    xml = posting_procedure().to_xml().replace(b'bpmnElement="posting" isExpanded="true"',
                                               b'bpmnElement="posting" isExpanded="false"')
    checked, problems = check(xml, [], ROLES)
    assert checked is None and [(p.element, p.rule) for p in problems] == [("posting", "subprocess.collapsed")]


def test_transactions_and_ad_hoc_sub_processes_stay_refused() -> None:
    for tag in (b"transaction", b"adHocSubProcess"):
        xml = posting_procedure().to_xml().replace(b"bpmn:subProcess", b"bpmn:" + tag)
        checked, problems = check(xml, [], ROLES)
        assert checked is None and ("posting", "element.unsupported") in {(p.element, p.rule) for p in problems}


def test_the_time_budget_walks_through_the_sub_process() -> None:
    # receive P1D + (post P2D + close_posting P1D inside the box) + sign P1D = P5D against a limit of P4D;
    # before sub-processes were walked, the path start → receive → posting → sign counted P2D
    checked, problems = check(posting_procedure(sla="P4D").to_xml(), [], ROLES)
    assert checked is None
    (problem,) = problems
    assert (problem.element, problem.rule) == ("sign", "budget.path")
    assert dict(problem.params)["path"] == ("start → receive → posting → p_start → post → close_posting → p_end → "
                                          "sign → issued")
    assert dict(problem.params)["spent"] == "P5D"


def test_the_time_budget_counts_side_by_side_branches_once() -> None:
    # receive P1D, then tax P3D beside construction P2D, then sign P1D: the longest path is P5D (not P7D)
    clean(consultation_procedure(sla="P5D"))
    checked, problems = check(consultation_procedure(sla="P4D").to_xml(), [], ROLES)
    assert checked is None and [(p.element, p.rule, dict(p.params)["spent"]) for p in problems] == [
        ("sign", "budget.path", "P5D")]
    # the same with a parallel gateway (both consultations always asked)
    proc = consultation_procedure(sla="P5D")
    for n in proc.nodes:
        if n.kind == "or":
            n.kind, n.attrs = "and", {}
    proc.flows = [Flow(f.id, f.source, f.target) for f in proc.flows if f.id != "f_none"]
    clean(proc)


def nested(depth: int) -> Procedure:
    """posting_procedure with `depth` more boxes nested inside the posting box, the innermost holding a step."""
    proc = posting_procedure()
    parent = "posting"
    for d in range(depth):
        proc.nodes += [Node(f"s{d}", "sub", "", parent=parent, col=3), Node(f"s{d}_start", "start", "", parent=f"s{d}"),
                       Node(f"s{d}_end", "end", "", parent=f"s{d}")]
        proc.flows += ([Flow(f"in{d}", f"s{d - 1}_start", f"s{d}"), Flow(f"out{d}", f"s{d}", f"s{d - 1}_end")]
                       if d else [Flow("in0", "p_start", "s0"), Flow("out0", "s0", "post")])
        parent = f"s{d}"
    proc.nodes.append(Node("deep", "user", "Bước trong cùng", parent=parent, col=3,
                           props={"sla": "PT1H", "result": "Kết quả", "legal_basis": "Luật Đất đai 2024"}))
    proc.flows += [Flow("in_deep", f"{parent}_start", "deep"), Flow("out_deep", "deep", f"{parent}_end")]
    proc.flows = [f for f in proc.flows if f.id != "p1"]
    return proc


def test_nested_boxes_take_their_owner_from_the_outermost_lane_and_their_steps_count() -> None:
    meta = clean(nested(2))  # the posting box holding s0 holding s1 holding `deep`: 3 deep
    assert meta.steps["deep"].role == "commune_land_officer"
    checked, problems = check(nested(2).to_xml().replace(b'value="P6D"', b'value="P5D"'), [], ROLES)
    # receive 1 + deep 1 h + post 2 + close_posting 1 + sign 1 = P5DT1H against P5D
    assert checked is None and [(p.rule, dict(p.params)["spent"]) for p in problems] == [("budget.path", "P5DT1H")]


def test_too_many_boxes_are_refused_before_the_engine_parses_them() -> None:
    # SpiffWorkflow indexes the file again per level of nesting (120 nested boxes in 150 KB: 1.4 references of
    # tests/support/cost.py, growing with depth times size): refused before it parses them
    xml = nested(120).to_xml()
    (checked, problems), _ratio = within(5, lambda: check(xml, [], ROLES))
    assert checked is None and [(p.element, p.rule) for p in problems] == [("posting", "subprocess.limit")]


def test_an_inclusive_gateway_s_flows_need_a_condition_or_to_be_its_default() -> None:
    proc = consultation_procedure()
    split = next(n for n in proc.nodes if n.id == "split")
    split.attrs = {}  # f_none, without a condition, is no longer the default
    assert ("f_none", "gateway.condition") in rules(proc)
    split.attrs = {"default": "f_nowhere"}
    assert ("split", "gateway.default") in rules(proc)
