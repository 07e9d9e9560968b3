"""Every path of the bundled library that ends a dossier without its result is an officer's marked
refusal: read from the files (tests/support/library_model), not from the engine's lint.

For each simple path from the start to an end event marked `outcome = refusal`, the last exclusive
gateway on it decides on one bool or choice field; the nearest step before that gateway whose form has
the field must name that choice as its `refusal` (`field=value`) and a text field for the reason in
`refusal_reason`; the choice it names must not lead to a result end.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.expressions import evaluate
from tests.support.library_model import Model, condition_names, load, path_flows, simple_paths
from tests.workflows.test_library_files import BPMN_FILES, IDS

files = pytest.mark.parametrize("path", BPMN_FILES, ids=IDS)


def outcome(model: Model, end: str) -> str | None:
    props = model.end_props[end]
    if "outcome" in props:
        return props["outcome"]
    return "result" if props.get("continues") == "true" or len(model.ends) == 1 else None


def reachable(model: Model, start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for _, target, _ in model.outgoing(todo.pop()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def domain(model: Model, step: str, name: str) -> list[tuple[str, object]]:
    f = model.forms[step][name]
    return [("true", True), ("false", False)] if f.type == "bool" else [(o, o) for o in f.options]


@files
def test_every_end_says_whether_it_gives_the_result(path: Path) -> None:
    model = load(path)
    kinds = {end: outcome(model, end) for end in model.ends}
    assert set(kinds.values()) <= {"result", "refusal"}, kinds
    assert "result" in kinds.values()
    if path.parent.name == "land":  # the law gives every land procedure both refusals
        assert {"refused"} < {e for e, k in kinds.items() if k == "refusal"}


@files
def test_every_refusing_path_is_a_marked_choice_with_a_reason(path: Path) -> None:
    model = load(path)
    results = {e for e in model.ends if outcome(model, e) == "result"}
    refusals = {e for e in model.ends if outcome(model, e) == "refusal"}
    decided: set[tuple[str, str]] = set()
    for p in simple_paths(model):
        if p[-1] not in refusals:
            continue
        flows = path_flows(model, p)
        deciding = [f for f in flows if model.flows[f][2] and model.nodes[model.flows[f][0]] == "exclusiveGateway"]
        assert deciding, f"{path.stem}: {p} reaches {p[-1]} without a gateway"
        fid = deciding[-1]
        gateway, target, condition = model.flows[fid]
        assert condition is not None
        assert not reachable(model, target) & results, f"{fid} still leads to a result"
        (name,) = condition_names(condition)
        step = next(n for n in reversed(p[:p.index(gateway)]) if name in model.forms.get(n, {}))
        values = {w for w, v in domain(model, step, name) if evaluate(condition, {name: v})}
        props = model.steps[step]
        field, _, marked = props.get("refusal", "").partition("=")
        assert (field.strip(), {v.strip() for v in marked.split("|")}) == (name, values), (step, props)
        reason = props.get("refusal_reason", "")
        assert reason in model.forms[step] and model.forms[step][reason].type == "text", (step, reason)
        decided.add((step, name))
    assert (path.parent.name != "land") or len(decided) == 2, decided  # reception, and the check of eligibility


@files
def test_a_marked_choice_never_leads_straight_to_the_result(path: Path) -> None:
    model = load(path)
    results = {e for e in model.ends if outcome(model, e) == "result"}
    marked = {s for s, props in model.steps.items() if props.get("refusal")}
    for step in marked:
        name, _, value = model.steps[step]["refusal"].partition("=")
        after, todo = set(), [t for _, t, _ in model.outgoing(step)]
        while todo:  # the elements between the step and the next steps
            node = todo.pop()
            if node not in after and node not in model.steps:
                after.add(node)
                todo.extend(t for _, t, _ in model.outgoing(node))
        checked = 0
        for fid, (source, target, condition) in model.flows.items():
            if source not in after or not condition or condition_names(condition) != {name}:
                continue
            checked += 1
            if not evaluate(condition, {name: {"true": True, "false": False}.get(value, value)}):
                continue
            # a refusal may loop back, but only to a step that decides again (transitional hand-over)
            seen, todo = {target}, [target]
            while todo:
                node = todo.pop()
                assert node not in results, f"{step}: {name}={value} reaches {node} through {fid}"
                if node not in marked:
                    for _, nxt, _ in model.outgoing(node):
                        if nxt not in seen:
                            seen.add(nxt)
                            todo.append(nxt)
        assert checked, f"{step}: no gateway after it reads {name}"
