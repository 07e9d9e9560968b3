"""The checker on parallel multi-instance steps (decision 0163): what it accepts runs (tests/workflows/
test_consultation.py), what it refuses it names, and the time budget counts a consultation once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from engine.definitions import check
from tests.support.bpmn_builder import MultiInstance, Node, Procedure, agencies_procedure, timer_xml

ROLES = {"one_stop_desk", "commune_land_officer", "commune_economic_division", "commune_chairman",
         "registration_branch", "tax_office"}


def problems(proc: Procedure) -> set[tuple[str, str]]:
    _checked, found = check(proc.to_xml(), [], ROLES)
    return {(p.element, p.rule) for p in found}


def consult(proc: Procedure) -> Node:
    (node,) = [n for n in proc.nodes if n.id == "consult"]
    return node


def test_a_parallel_consultation_lints_clean_and_compiles() -> None:
    checked, found = check(agencies_procedure().to_xml(), [], ROLES)
    assert found == [] and checked is not None
    assert checked.meta.steps["consult"].role == "commune_land_officer"  # the lane: the step's default owner


def change(fn: Callable[[Node], None]) -> Procedure:
    proc = agencies_procedure()
    fn(consult(proc))
    return proc


def mi(**kw: Any) -> Callable[[Node], None]:
    def go(node: Node) -> None:
        node.multi = MultiInstance(**kw)
    return go


def props(**kw: str | None) -> Callable[[Node], None]:
    def go(node: Node) -> None:
        for k, v in kw.items():
            if v is None:
                node.props.pop(k, None)
            else:
                node.props[k] = v
    return go


REFUSED = [
    # what stays refused: sequential, counted, cut short
    ("sequential", mi(sequential=True), ("consult", "element.loop")),
    ("cardinality", mi(collection="", extra_xml="<bpmn:loopCardinality>3</bpmn:loopCardinality>"),
     ("consult", "element.loop")),
    ("completion condition", mi(extra_xml="<bpmn:completionCondition>True</bpmn:completionCondition>"),
     ("consult", "element.loop")),
    # what a parallel consultation must say
    ("no agencies", props(instances=None), ("consult", "multi_instance.owners")),
    ("unknown agency", props(instances="tax_office|fire_police"), ("consult", "multi_instance.owners")),
    ("no collection", mi(collection=""), ("consult", "multi_instance.collection")),
    ("no input item", mi(item=""), ("consult", "multi_instance.collection")),
    ("collection is a form field", props(form="opinion:text!; agencies:text"),
     ("consult", "multi_instance.collection")),
    ("no output", mi(output=""), ("consult", "multi_instance.output")),
    ("answer not in the form", mi(output_item="verdict"), ("consult", "multi_instance.output")),
    ("answer not required", props(form="opinion:text"), ("consult", "multi_instance.output")),
    ("no limit", props(sla=None), ("consult", "step.sla")),
]


@pytest.mark.parametrize("change_it,expected", [(c, e) for _n, c, e in REFUSED], ids=[n for n, _c, _e in REFUSED])
def test_what_a_consultation_must_say(change_it: Callable[[Node], None], expected: tuple[str, str]) -> None:
    assert expected in problems(change(change_it))


def test_loops_elsewhere_stay_refused() -> None:
    proc = agencies_procedure()
    proc.nodes.append(Node("fee", "script", "Tính phí", lane="commune_land_officer", col=4, script="fee = 1",
                           multi=MultiInstance()))
    assert ("fee", "element.loop") in problems(proc)
    proc = agencies_procedure()
    proc.nodes[2].extra_xml = ("<bpmn:standardLoopCharacteristics><bpmn:loopCondition>True</bpmn:loopCondition>"
                               "</bpmn:standardLoopCharacteristics>")
    assert ("check", "element.loop") in problems(proc)


def test_agencies_named_on_a_step_that_is_not_a_consultation() -> None:
    proc = agencies_procedure()
    proc.nodes[2].props["instances"] = "tax_office"
    assert ("check", "multi_instance.owners") in problems(proc)


def test_a_timer_on_a_consultation_is_refused() -> None:
    proc = agencies_procedure()
    proc.nodes.append(Node("late", "boundary", "Quá hạn", lane="commune_land_officer", col=3,
                           attrs={"attachedToRef": "consult", "cancelActivity": "false"}, extra_xml=timer_xml("P2D")))
    assert ("late", "element.loop") in problems(proc)


def test_the_time_budget_counts_a_consultation_once() -> None:
    # receive P1D + check P2D + consult P3D + decide P1D + hand over PT4H = 7.5 days, within P8D; were the
    # two agencies' P3D added, 10.5 days would break it
    assert problems(agencies_procedure()) == set()
    tight = agencies_procedure()
    tight.props["sla"] = "P7D"  # 7.5 > 7: broken, and said
    assert any(rule.startswith("budget") for _e, rule in problems(tight))
