"""The safe expression language: what it accepts, what it refuses, and that Python's eval/exec never
see supervisor-written text."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.definitions.spec import compile_spec
from engine.expressions import ExpressionError, check_expression, check_script, evaluate, execute
from engine.runtime.workflow import SCRIPT_ENGINE
from tests.support.bpmn_builder import small_procedure


@pytest.mark.parametrize("text,names,expected", [
    ("eligible == True", {"eligible": True}, True),
    ("not eligible", {"eligible": True}, False),
    ("kind in ('transfer', 'donation')", {"kind": "donation"}, True),
    ("area * 2 if area > 100 else 50", {"area": 120}, 240),
    ("parcel['area'] >= 40 and remote", {"parcel": {"area": 45}, "remote": True}, True),
    ("len(documents) > 2", {"documents": [1, 2, 3]}, True),
    ("lower(name) == 'hải châu'", {"name": "HẢI CHÂU"}, True),
    ("max(a, b) - min(a, b)", {"a": 3, "b": 10}, 7),
    ("x is None", {"x": None}, True),
    ("1 < x < 5", {"x": 3}, True),
])
def test_accepted(text: str, names: dict[str, Any], expected: Any) -> None:
    assert check_expression(text) == []
    assert evaluate(text, names) == expected


@pytest.mark.parametrize("text", [
    "__import__('os').system('id')",
    "().__class__.__bases__[0].__subclasses__()",
    "open('/etc/passwd').read()",
    "eval('1')", "exec('x=1')", "getattr(x, 'y')", "x.__class__", "x.y",
    "lambda: 1", "[i for i in range(3)]", "f'{x}'", "globals()", "__builtins__",
    "_secret", "print(1)", "len(*xs)", "max(a, key=b)", "(x := 1)",
])
def test_refused(text: str) -> None:
    assert check_expression(text), text
    with pytest.raises(ExpressionError):
        evaluate(text, {"x": 1, "xs": [1], "a": 1, "b": 2, "_secret": 1})


@pytest.mark.parametrize("text", ["10 ** 100000", "'a' * 10**9", "2 ** 9999"])
def test_resource_limits(text: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(text, {})


def test_scripts_are_assignments_only() -> None:
    names: dict[str, Any] = {"area": 200}
    assert execute("fee = area * 2\nif fee > 300:\n    level = 'high'\nelse:\n    level = 'low'", names) == {
        "fee": 400, "level": "high"}
    for bad in ("import os", "while True:\n    pass", "def f():\n    pass", "x.y = 1", "for i in xs:\n    pass",
                "del x", "with a:\n    pass", "raise ValueError()", "print('x')"):
        assert check_script(bad), bad


def test_the_engine_never_calls_python_eval_or_exec(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a procedure with a script task and conditions: eval/exec must not be reached."""
    calls: list[str] = []

    def trap(name: str) -> Any:
        def _trap(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            raise AssertionError(f"{name} called")
        return _trap

    root = etree.fromstring(small_procedure().to_xml())
    compiled, problems = compile_spec("small_test", root, [])
    assert problems == [] and compiled is not None
    spec, subs = compiled
    monkeypatch.setattr(builtins, "eval", trap("eval"))
    monkeypatch.setattr(builtins, "exec", trap("exec"))
    wf = BpmnWorkflow(spec, subs, script_engine=SCRIPT_ENGINE)
    wf.do_engine_steps()
    for data in ({"complete": True}, {"eligible": True, "area": 150}):
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        task.data.update(data)
        task.run()
        wf.do_engine_steps()
    assert [t.task_spec.name for t in wf.get_tasks(state=TaskState.READY, manual=True)] == ["post"]
    assert wf.get_tasks(state=TaskState.READY, manual=True)[0].data["fee"] == 300
    assert calls == []


def test_hostile_condition_smuggled_past_validation_is_not_executed(tmp_path: Path) -> None:
    """Even a spec built without landflow's validator cannot run code through our script engine."""
    canary = tmp_path / "canary"
    proc = small_procedure()
    proc.flows[4].condition = f"__import__('os').system('touch {canary}') or True"
    compiled, problems = compile_spec("small_test", etree.fromstring(proc.to_xml()), [])
    assert compiled is not None  # SpiffWorkflow's parser alone accepts it
    spec, subs = compiled
    wf = BpmnWorkflow(spec, subs, script_engine=SCRIPT_ENGINE)
    wf.do_engine_steps()
    for data in ({"complete": True}, {"eligible": True, "area": 1}):
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        task.data.update(data)
        task.run()
        if data.get("eligible"):
            with pytest.raises(Exception) as info:
                wf.do_engine_steps()
            cause = info.value.__cause__ or info.value.__context__ or getattr(info.value, "exception", None)
            assert isinstance(cause, ExpressionError), repr(cause)
            assert "not allowed" in str(cause)
        else:
            wf.do_engine_steps()
    assert not canary.exists()


@pytest.mark.parametrize(("text", "names"), [
    ("len(str(sum([[a] * 9999] * 9999, [])))", {"a": 0}),  # ran for minutes before
    ("len(str([[a] * 9999] * 9999))", {"a": 0}),  # 300 MB and seconds before
    ("round(a, -1000000000)", {"a": 1}),  # 10 ** (10 ** 9)
    ("sum(a, [])", {"a": [[1]] * 50}),  # list concatenation, quadratic
    ("max(a, a)", {"a": [[1] * 200] * 200}),  # data too large to be a value of the language
])
def test_evaluation_is_bounded_in_work_not_only_in_result(text: str, names: dict[str, Any]) -> None:
    from tests.support.cost import within

    with pytest.raises(ExpressionError):
        within(2.0, lambda: evaluate(text, names))


def test_nested_references_cannot_build_an_exponential_value() -> None:
    """Ten names each a list of ten references to the one before: 10**9 elements if printed."""
    lines = [f"{c} = [{', '.join([p] * 10)}]" for p, c in zip("xabcdefgh", "abcdefghi", strict=True)]
    script = "\n".join([*lines, "z = len(str(i))"])
    assert check_script(script) == []  # nothing in the text alone is wrong
    with pytest.raises(ExpressionError, match="too large"):
        execute(script, {"x": 1})


@pytest.mark.parametrize("text", ["9 ** 9 ** 9 > 0", "[0] * 10 ** 9", "round(1, -10 ** 9) == 0", "1 / 0 == 1",
                                  "area * (2 ** 200) ** 64 > 0", "sum([[1], [2]], []) == [1, 2]"])
def test_parts_without_names_are_evaluated_at_check_time(text: str) -> None:
    problems = check_expression(text)
    assert problems and all("always fails" in p for p in problems), problems


def test_ordinary_constants_still_pass() -> None:
    assert check_expression("area * 2 ** 10 > 100 and kind in ('transfer', 'donation')") == []
    assert check_script("fee = area * 2 if area > 100 else round(50 / 3, 2)") == []
