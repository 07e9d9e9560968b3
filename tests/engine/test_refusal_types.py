"""Refusals are types: the engine raises Forbidden, NotFound, Conflict, Stale or Invalid (one base,
CommandRefused), each with its stable code; only api/problems.py turns them into HTTP statuses."""

from __future__ import annotations

import ast

import pytest

from api.problems import STATUS_OF_REFUSAL, status_of
from config.settings import ROOT
from engine import policy
from engine.bootstrap import Landflow
from engine.errors import KIND_CLASS, CommandRefused, Conflict, Forbidden, Invalid, NotFound, Stale, refused
from engine.policy import Refusal
from engine.runtime.incidents import ProcedureIncident
from tests.conftest import officer


def test_each_kind_is_a_type_with_its_code_params_and_category() -> None:
    err = Forbidden("wrong_unit", "not yours", {"item_unit": "A", "officer_unit": "B"})
    assert isinstance(err, CommandRefused) and err.kind == "forbidden"
    assert (err.code, err.message, err.params, err.category) == (
        "wrong_unit", "not yours", {"item_unit": "A", "officer_unit": "B"}, "out_of_scope")
    assert Invalid("illegal_target", "x").category == "invalid_input"
    assert Conflict("finished", "x", category="repeated").category == "repeated"
    assert {c.kind: c for c in (Forbidden, NotFound, Conflict, Stale, Invalid)} == KIND_CLASS


@pytest.mark.parametrize("kind", sorted(KIND_CLASS))
def test_a_policy_refusal_is_raised_as_the_type_of_its_kind(kind: str) -> None:
    refusal = Refusal(kind, "some_code", "why", {"p": 1})
    for err in (refused(refusal), CommandRefused(refusal)):  # the second: the old spelling still types it
        assert type(err) is KIND_CLASS[kind]
        assert (err.kind, err.code, err.params, err.refusal) == (kind, "some_code", {"p": 1}, refusal)
    with pytest.raises(ValueError):
        Stale(Refusal("invalid", "x", "y"))


def test_http_statuses_live_only_in_the_api() -> None:
    assert {cls.kind: status for cls, status in STATUS_OF_REFUSAL.items()} == {
        "forbidden": 403, "not_found": 404, "conflict": 409, "stale": 412, "invalid": 422}
    assert status_of(ProcedureIncident("stuck", None, "nothing open")) == 409
    assert not hasattr(policy, "KINDS")
    assert not hasattr(Invalid("x", "y"), "status")
    for path in (ROOT / "engine").rglob("*.py"):  # no HTTP status number next to a refusal kind in the engine
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
                numbers = {v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, int)}
                assert not ({"forbidden", "conflict", "stale"} <= keys and {403, 409} <= numbers), \
                    f"{path}: a kind -> HTTP status table"


def test_commands_raise_the_type_of_the_rule_broken(small: Landflow) -> None:
    rt = small.runtime
    st = rt.open(officer(small, "desk.w1"), "small_test", "W1", {"name": "A"}, {})
    (item,) = st.open_items()
    assert item.id is not None
    with pytest.raises(Forbidden):
        rt.claim(officer(small, "land.w1"), item.id)
    with pytest.raises(Stale):
        rt.claim(officer(small, "desk.w1"), item.id, expected_version=st.version - 1)
    with pytest.raises(NotFound):
        rt.claim(officer(small, "desk.w1"), 999_999)
    with pytest.raises(Invalid):
        rt.stop(officer(small, "desk.w1"), st.id, " ")
    rt.claim(officer(small, "desk.w1"), item.id)
    with pytest.raises(Conflict):
        rt.claim(officer(small, "desk.w1"), item.id)
