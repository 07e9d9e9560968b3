"""Lint of drawn refusals (engine/definitions/refusals.py): every path that ends a dossier without its
result must leave an exclusive gateway on an officer's marked choice (`refusal = field=value`, with a
`refusal_reason` text field); end events say which is the result (`outcome`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.definitions import check
from engine.definitions.lint import lint
from engine.definitions.reader import read
from engine.definitions.refusals import RefusalChoice, parse_choice
from engine.definitions.xmlsafe import parse_xml
from engine.runtime import CommandRefused
from engine.runtime.refusals import refusal_of
from tests.support.bpmn_builder import Flow, Node, Procedure, small_procedure, timer_xml
from tests.support.cost import within

ROLES = {"one_stop_desk", "commune_land_officer", "commune_chairman", "registration_branch", "tax_office"}


def node(proc: Procedure, nid: str) -> Node:
    return next(n for n in proc.nodes if n.id == nid)


def flow(proc: Procedure, fid: str) -> Flow:
    return next(f for f in proc.flows if f.id == fid)


def problems(proc: Procedure) -> list[tuple[str, str, str]]:
    return [(p.element, p.rule, p.message) for p in lint(proc.to_xml(), [], ROLES).problems]


def unmark(proc: Procedure) -> None:
    node(proc, "verify").props.pop("refusal")
    node(proc, "verify").props.pop("refusal_reason")


def test_the_marked_small_procedure_passes() -> None:
    assert problems(small_procedure()) == []


def test_an_unmarked_refusing_path_is_refused_naming_the_step() -> None:
    proc = small_procedure()
    unmark(proc)
    found = problems(proc)
    assert [(e, r) for e, r, _ in found] == [("verify", "step.refusal")]
    message = found[0][2]
    assert "eligible=false" in message and "end_no" in message and "refusal_reason" in message
    checked, deploy_problems = check(proc.to_xml(), [], ROLES)  # and deploying it is refused the same way
    assert checked is None and [(p.element, p.rule) for p in deploy_problems] == [("verify", "step.refusal")]


def _default_flow(p: Procedure) -> None:
    """The refusing flow is the gateway's default (no condition): its values are those no other flow takes."""
    node(p, "gw").attrs["default"] = "f6"
    flow(p, "f6").condition = None


def _timer_to_refusal(p: Procedure) -> None:
    """A deadline that ends the dossier without its result, with no officer's choice."""
    p.nodes.append(Node("lapsed", "boundary", "Quá hạn niêm yết", lane="commune_land_officer", col=5,
                        attrs={"attachedToRef": "post", "cancelActivity": "true"}, extra_xml=timer_xml("P30D")))
    p.nodes.append(Node("end_lapsed", "end", "Hết hạn", lane="commune_land_officer", col=6,
                        props={"outcome": "refusal"}))
    p.flows.append(Flow("f11", "lapsed", "end_lapsed"))


@pytest.mark.parametrize("mutate,expected", [
    # unmarked, with the refusing flow as the gateway's default
    (lambda p: (unmark(p), _default_flow(p)), ("verify", "step.refusal")),
    # the eligible choice marked as the refusal: "eligible" completions would be counted as refusals
    (lambda p: node(p, "verify").props.__setitem__("refusal", "eligible=true"), ("verify", "step.refusal")),
    (lambda p: node(p, "verify").props.__setitem__("refusal", "eligible=true|false"), ("verify", "step.refusal")),
    # a condition (the old syntax) is not a choice
    (lambda p: node(p, "verify").props.__setitem__("refusal", "not eligible"), ("verify", "step.refusal")),
    (lambda p: node(p, "verify").props.__setitem__("refusal", "accepted=false"), ("verify", "step.refusal")),
    (lambda p: node(p, "verify").props.__setitem__("refusal", "eligible=maybe"), ("verify", "step.refusal")),
    (lambda p: node(p, "verify").props.__setitem__("refusal", "area=0"), ("verify", "step.refusal")),
    # no field for the reason, or one that is not text
    (lambda p: node(p, "verify").props.pop("refusal_reason"), ("verify", "step.refusal")),
    (lambda p: node(p, "verify").props.__setitem__("refusal_reason", "area"), ("verify", "step.refusal")),
    # end events of a process with several must say which gives the result
    (lambda p: node(p, "end_no").props.pop("outcome"), ("end_no", "end.outcome")),
    (lambda p: node(p, "end_ok").props.__setitem__("outcome", "done"), ("end_ok", "end.outcome")),
    # the refusal end called a result: the marked choice now leads to a result
    (lambda p: node(p, "end_no").props.__setitem__("outcome", "result"), ("verify", "step.refusal")),
    # the path is decided by more than one field, or by a number, or by no officer at all
    (lambda p: (setattr(flow(p, "f5"), "condition", "eligible == True and area >= 10"),
                setattr(flow(p, "f6"), "condition", "not eligible or area < 10")), ("f6", "flow.refusal")),
    (lambda p: (setattr(flow(p, "f5"), "condition", "area >= 10"), setattr(flow(p, "f6"), "condition", "area < 10")),
     ("verify", "step.refusal")),
    (lambda p: (setattr(flow(p, "f5"), "condition", "fee >= 100"), setattr(flow(p, "f6"), "condition", "fee < 100")),
     ("f6", "flow.refusal")),
    (_timer_to_refusal, ("lapsed", "flow.refusal")),
])
def test_refusals_that_do_not_match_the_drawing(mutate: Callable[[Procedure], object],
                                                expected: tuple[str, str]) -> None:
    proc = small_procedure()
    mutate(proc)
    assert expected in {(e, r) for e, r, _ in problems(proc)}


def test_a_default_flow_refusal_marked_with_its_choice_passes() -> None:
    proc = small_procedure()
    _default_flow(proc)
    assert problems(proc) == []


def test_a_drawing_too_large_to_check_is_refused_quickly() -> None:
    """A hostile file: 1,100 choices, each its own refusing flow. The check is bounded (MAX_EVALUATIONS)
    and says so, instead of evaluating 1.2 million conditions."""
    n = 1100
    proc = small_procedure()
    verify = node(proc, "verify")
    verify.props["form"] = f"eligible:choice({'|'.join(f'v{i}' for i in range(n))})!; area:number!; note:text"
    verify.props["refusal"] = "eligible=" + "|".join(f"v{i}" for i in range(1, n))
    proc.nodes = [x for x in proc.nodes if x.id not in ("notify", "end_no")]
    proc.flows = [f for f in proc.flows if f.id not in ("f5", "f6", "f10")] + [
        Flow("f5", "gw", "post", condition="eligible == 'v0'")]
    for i in range(1, n):
        proc.nodes.append(Node(f"no{i}", "end", "Không đủ", lane="commune_land_officer", col=6,
                               props={"outcome": "refusal"}))
        proc.flows.append(Flow(f"g{i}", "gw", f"no{i}", condition=f"eligible == 'v{i}'"))
    found, _ = within(10.0, lambda: problems(proc))  # 1.2 million conditions would be thousands
    # (its 1,100-choice form is also over the text caps of docs/decisions/0029: those problems name `verify`)
    refusal = [(e, r, m) for e, r, m in found if r != "element.text"]
    assert {e for e, r, _ in found if r == "element.text"} <= {"verify"}
    assert [(e, r) for e, r, _ in refusal] == [("small_test", "flow.refusal")] and "too large" in refusal[0][2]


@pytest.mark.parametrize("text,choice", [
    ("decision=refuse", RefusalChoice("decision", ("refuse",))),
    (" eligible = FALSE ", RefusalChoice("eligible", ("false",))),
    ("decision == 'refuse'", RefusalChoice("decision", ("refuse",))),
    ("kind=split|merge", RefusalChoice("kind", ("split", "merge"))),
    ("not accepted", None), ("eligible=", None), ("=false", None), ("a=b|", None), ("__import__('os')", None),
])
def test_the_choice_syntax(text: str, choice: RefusalChoice | None) -> None:
    assert parse_choice(text) == choice


@pytest.mark.parametrize("refusal,data,reason", [
    ("eligible=false", {"eligible": False, "note": " tranh chấp "}, "tranh chấp"),
    ("eligible=false", {"eligible": True}, None),
    ("not eligible", {"eligible": False, "note": "cũ"}, "cũ"),  # a version deployed before the choice syntax
    ("not eligible", {"eligible": True}, None),
])
def test_the_engine_reads_the_mark_of_the_version_it_runs(refusal: str, data: dict[str, object],
                                                           reason: str | None) -> None:
    """The runtime side: the choice compares values; a condition (older versions, still running) is
    evaluated as before; either way a refusal without its reason is refused as invalid input."""
    proc = small_procedure()
    node(proc, "verify").props["refusal"] = refusal
    meta = read(parse_xml(proc.to_xml(), "bpmn", 2_000_000)[0]).meta
    assert meta is not None
    assert refusal_of(meta, meta.steps["verify"], data) == reason
    if reason is not None:
        with pytest.raises(CommandRefused) as err:
            refusal_of(meta, meta.steps["verify"], {**data, "note": " "})
        assert (err.value.kind, err.value.code) == ("invalid", "missing_reason")
