"""What an expression may cost (engine/expression_cost.py): results that could only be too large are
refused from their operands' sizes before Python builds them, every evaluation spends a bounded work
budget, and checking a file shares one budget over all its expressions (issue 13, point 1)."""

from __future__ import annotations

from typing import Any

import pytest

from engine import expressions
from engine.expression_cost import CHECK_SOURCE, MAX_CHARS
from engine.expressions import CHECK_WORK, Budget, ExpressionError, check_expression, check_script, evaluate, execute
from tests.support.cost import within

STR_BOMB = "str(['a' * 10000] * 10000) == ''"  # ~100 MB of text before it was refused


def test_the_str_bomb_is_refused_before_its_text_is_built() -> None:
    """It took ~0.2 s (and 100 MB) each before: more than one reference (tests/support/cost.py)."""
    problems, _ = within(0.3, lambda: check_expression(STR_BOMB))
    assert problems and "always fails" in problems[0], problems


def test_sixty_str_bombs_in_one_file_check_in_a_fraction_of_an_ordinary_check() -> None:
    """The issue's 21 KB file: 60 such conditions took 12 s (about ninety references) and slowed every
    other request."""
    budget = Budget(CHECK_WORK)
    found, _ = within(2.0, lambda: [check_expression(STR_BOMB, budget) for _ in range(60)])
    assert all(found), found


@pytest.mark.parametrize(("text", "names"), [
    ("len(str(xs)) > 0", {"xs": ["a" * 9000] * 11}),   # 99,000 characters once written out
    ("lower(xs) == ''", {"xs": [12345678901234567890] * 600}),
    ("upper(d) == ''", {"d": {f"k{i}": "v" * 50 for i in range(300)}}),
])
def test_text_of_a_value_is_sized_before_it_is_written(text: str, names: dict[str, Any],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[int] = []
    real_str = expressions.FUNCTIONS["str"]
    monkeypatch.setitem(expressions.FUNCTIONS, "str", lambda v: written.append(1) or real_str(v))
    with pytest.raises(ExpressionError, match="string result too long"):
        evaluate(text, names)
    assert written == []  # refused from a lower bound of its length, str() never ran


@pytest.mark.parametrize(("text", "names", "message"), [
    ("s * n", {"s": "ab", "n": 10 ** 9}, "repetition too large"),
    ("xs * 1000", {"xs": ["a" * 200]}, "repetition too large"),  # 1,000 elements, but 200,000 characters
    ("a + b", {"a": "x" * 9000, "b": "y" * 9000}, "string result too long"),
    ("a + b", {"a": ["x" * 9000] * 6, "b": ["y" * 9000] * 6}, "too much text"),
    ("a ** 64", {"a": 2 ** 200}, "integer result too large"),
])
def test_results_are_refused_from_their_operands_sizes(text: str, names: dict[str, Any], message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        evaluate(text, names)


def test_a_value_holds_a_bounded_amount_of_text() -> None:
    with pytest.raises(ExpressionError, match="too much text"):
        evaluate("len(xs)", {"xs": ["a" * 10_000] * (MAX_CHARS // 10_000 + 1)})
    assert evaluate("len(xs)", {"xs": ["a" * 10_000] * (MAX_CHARS // 10_000)}) == MAX_CHARS // 10_000


def test_every_evaluation_spends_a_bounded_budget() -> None:
    """Each `[0] * 9999` is cheap to build and ~10,000 steps to measure; 25 pairs of them are not."""
    text = " and ".join(["[0] * 9999 == [0] * 9999"] * 25)
    assert check_expression(text) and "too much work" in check_expression(text)[0]
    with pytest.raises(ExpressionError, match="too much work"):
        execute(f"x = {text}", {})
    within(2.0, lambda: pytest.raises(ExpressionError, evaluate, f"a == 1 and ({text})", {"a": 1}))


def test_a_files_constant_parts_share_one_budget_reported_once() -> None:
    budget = Budget(CHECK_WORK)
    part = "len([0] * 9999) == 9999"  # fine alone: accepted
    assert check_expression(part) == []
    found = [check_expression(part, budget) for _ in range(CHECK_WORK // 9_000)]
    reported = [p for problems in found for p in problems]
    assert len(reported) == 1 and "not checked" in reported[0], reported


def test_a_files_expressions_are_parsed_up_to_a_total_length() -> None:
    budget = Budget(CHECK_WORK)
    text = " and ".join(f"a{i} == {i}" for i in range(40))
    found = [check_script(f"x = {text}", budget) for _ in range(CHECK_SOURCE // len(text) + 2)]
    reported = [p for problems in found for p in problems]
    assert len(reported) == 1 and "not checked" in reported[0] and str(CHECK_SOURCE) in reported[0]


def test_a_long_chain_is_checked_in_linear_time() -> None:
    """`a + 1 + 1 + …`: finding the constant parts looked at every sub-chain again (quadratic)."""
    chain = "a" + " + 1" * 125 + " > 0"
    within(2.0, lambda: [check_expression(chain) for _ in range(50)])
    assert check_expression(chain) == []
    too_many = "a" + " + 1" * 900
    problems, _ = within(0.3, lambda: check_expression(too_many))
    assert problems == ["too complex (more than 400 nodes)"]


def test_ordinary_conditions_are_unaffected() -> None:
    names = {"area": 120.5, "kind": "transfer", "docs": ["a", "b"], "parcel": {"area": 45}}
    assert evaluate("area * 2 > 100 and kind in ('transfer', 'donation') and len(docs) == 2", names) is True
    assert evaluate("str(parcel) == \"{'area': 45}\"", names) is True
    assert evaluate("upper(kind) + '-' + str(len(docs))", names) == "TRANSFER-2"
    assert check_script("fee = round(area * 2 ** 10 / 3, 2)\nlabel = lower('ĐỦ') * 3") == []


def test_a_running_script_is_sized_before_it_allocates() -> None:
    """The same pre-checks when SpiffWorkflow runs a script task through landflow's script engine:
    `note * area` with area = 10**9 would allocate 2 GB; it is refused first, in a few milliseconds."""
    from lxml import etree
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    from engine.definitions.spec import compile_spec
    from engine.runtime.workflow import SCRIPT_ENGINE
    from tests.support.bpmn_builder import small_procedure

    proc = small_procedure()
    next(n for n in proc.nodes if n.id == "fee").script = "fee = len(note * area)"
    compiled, problems = compile_spec("small_test", etree.fromstring(proc.to_xml()), [])
    assert compiled is not None and check_script("fee = len(note * area)") == [], problems
    wf = BpmnWorkflow(*compiled, script_engine=SCRIPT_ENGINE)
    wf.do_engine_steps()
    for data in ({"complete": True}, {"eligible": True, "area": 10 ** 9, "note": "ab"}):
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        task.data.update(data)
        task.run()
        if "note" in data:
            with pytest.raises(Exception) as info:
                within(2.0, wf.do_engine_steps)
            cause = info.value.__cause__ or info.value.__context__ or getattr(info.value, "exception", None)
            assert isinstance(cause, ExpressionError) and "repetition too large" in str(cause), repr(cause)
        else:
            wf.do_engine_steps()
