"""Values of the wrong type in the safe expression language: every failure is an ExpressionError (which the
checker lists as a problem and the command layer turns into a refusal), never Python's TypeError,
ValueError or ZeroDivisionError escaping as a 500; and nothing that JSON cannot hold reaches the data."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from engine.expressions import ExpressionError, check_expression, check_script, evaluate, execute

# The review's cases (issue 13, point 5), and their neighbours.
ALWAYS_FAILING = ["'abc'['a':'b']", "-'a'", "+'a'", "-[1]", "[1,2][::0]", "(-1)**0.5", "(-8) ** (1/3) > 0",
                  "{'a': 1}[0:1]", "'abc'[1.5:]", "[1][None:'x']", "-None", "-{}"]


@pytest.mark.parametrize("text", ALWAYS_FAILING)
def test_a_constant_part_of_the_wrong_type_is_a_problem_at_check_time(text: str) -> None:
    problems = check_expression(text)
    assert problems and all("always fails" in p for p in problems), problems
    with pytest.raises(ExpressionError):
        evaluate(text, {})


VALUES: list[Any] = [0, 1, -1, 0.5, -2.5, True, None, "", "ab", [], [1, "a"], (), {}, {"a": 1}, [[1]]]
TEMPLATES = ["-x", "+x", "not x", "x[y]", "x[y:]", "x[:y]", "x[::y]", "x[y:y:y]", "x + y", "x - y", "x * y",
             "x / y", "x // y", "x % y", "x ** y", "x < y", "x >= y", "x in y", "x == y", "abs(x)", "int(x)",
             "float(x)", "str(x)", "bool(x)", "len(x)", "round(x)", "round(x, y)", "min(x)", "max(x, y)",
             "sum(x)", "any(x)", "all(x)", "lower(x)", "x if y else -x", "[x, y][y]", "{x: y}", "{x}"]


def test_every_operation_on_every_kind_of_value_fails_only_as_an_expression_error() -> None:
    """Run time: a condition over the dossier's data meets whatever the data holds."""
    outcomes = {"value": 0, "refused": 0}
    for template, x, y in itertools.product(TEMPLATES, VALUES, VALUES):
        try:
            evaluate(template, {"x": x, "y": y})
        except ExpressionError:
            outcomes["refused"] += 1
        else:
            outcomes["value"] += 1
    assert outcomes["value"] > 1000 and outcomes["refused"] > 1000, outcomes


@pytest.mark.parametrize(("script", "names"), [
    ("y = (-1) ** x", {"x": 0.5}),  # complex: json.dumps fails later, at a snapshot
    ("y = {x}", {"x": 1}),  # a set
    ("y = {x: 1}", {"x": 1}),  # comes back as {"1": 1} from a snapshot
    ("y = [{'k': {x}}]", {"x": "a"}),  # nested
])
def test_a_script_cannot_put_what_json_cannot_hold_into_the_data(script: str, names: dict[str, Any]) -> None:
    assert check_script(script) == []  # nothing wrong in the text alone
    with pytest.raises(ExpressionError):
        execute(script, dict(names))


@pytest.mark.parametrize("script", ["y = (-1) ** 0.5", "y = {1, 2}", "y = {1: 'a'}", "y = [1, {'a': {2}}]"])
def test_a_constant_assignment_json_cannot_hold_is_a_problem_at_check_time(script: str) -> None:
    problems = check_script(script)
    assert problems and all("always fails" in p for p in problems), problems


def test_values_json_holds_are_still_assigned() -> None:
    names: dict[str, Any] = {"x": 2}
    assigned = execute("a = [x, 'b', {'k': (1, 2)}]\nb = x ** 0.5\nc = x in {1, 2}", names)
    json.dumps(assigned)
    assert assigned["c"] is True and assigned["b"] == pytest.approx(1.4142, abs=1e-4)
