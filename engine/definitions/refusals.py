"""Refusals drawn in a procedure: which end events leave a dossier without its result, and which
officer's choice sends it there.

A dossier can end without what the applicant asked for (refused at reception, not eligible, returned):
that end is an act of responsibility (Directive 04/CT-UBND), so the choice that leads to it must carry
a reason and leave a `returned` signal, like the engine's `return` command (docs/decisions/0040).
The file says so in three properties, and lint checks that they match the drawing:

- end event `outcome`: `result` (the dossier ends with its result) or `refusal` (it ends without it).
  Required when the process has more than one end event; a lone end event, or one that `continues`
  the dossier in another procedure, is a result end.
- step `refusal`: the choice of the step's own form that refuses, `field=value` (`decision=refuse`,
  `eligible=false`; several values of a choice field as `a|b`). Only that choice is a refusal: an
  "eligible" completion of the same step is not.
- step `refusal_reason`: the text field of the step's form that must then hold the reason.

A *refusing flow* is a flow that leaves an element from which a result end can still be reached for
an element from which none can, only refusal ends. Each must leave an exclusive gateway on a
condition that reads one bool or choice field, filled by the user task(s) before it; those tasks must
mark exactly the values that take a refusing flow as their `refusal`.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

from ..expressions import ExpressionError, evaluate
from .forms import FormField
from .model import FlowMeta, ProcedureMeta, StepMeta
from .problems import Problem

OUTCOMES = ("result", "refusal")
DECIDING_GATEWAYS = ("exclusiveGateway", "inclusiveGateway")
_CHOICE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*={1,2}\s*(\S(?:.*\S)?)\s*$")


@dataclass(frozen=True)
class RefusalChoice:
    """`field=value|value`: the values of one form field that refuse the dossier."""

    field: str
    values: tuple[str, ...]  # as written, lower-cased for bools ('true' / 'false')

    def typed(self, form_field: FormField) -> set[Any]:
        """The values as the cleaned form holds them (bools as True/False)."""
        if form_field.type == "bool":
            return {v == "true" for v in self.values}
        return set(self.values)

    def text(self) -> str:
        return f"{self.field}={'|'.join(self.values)}"


def parse_choice(text: str) -> RefusalChoice | None:
    """`decision=refuse`, `eligible = false`, `kind == a|b`; None when the text is not of that form."""
    m = _CHOICE.match(text or "")
    if not m:
        return None
    values = tuple(v.strip().strip("'\"").strip() for v in m[2].split("|"))
    if not values or any(not v for v in values):
        return None
    values = tuple(v.lower() if v.lower() in ("true", "false") else v for v in values)
    return RefusalChoice(m[1], values)


def step_choice(meta: ProcedureMeta, step: StepMeta) -> tuple[RefusalChoice | None, str]:
    """The step's `refusal` as a choice (None when absent or unreadable) and its raw text."""
    node = meta.nodes.get(step.id)
    raw = node.properties.get("refusal", "").strip() if node else ""
    return (parse_choice(raw) if raw else None), raw


def end_outcome(meta: ProcedureMeta, end_id: str) -> str | None:
    """`result`, `refusal`, or None when the file does not say and the drawing cannot tell."""
    ends = meta.end_events()
    node = ends.get(end_id)
    if node is None:
        return None
    value = node.properties.get("outcome", "").strip().lower()
    if value in OUTCOMES:
        return value
    if value:
        return None
    if node.properties.get("continues", "").strip().lower() == "true" or len(ends) == 1:
        return "result"
    return None


def _domain(f: FormField) -> list[tuple[str, Any]]:
    """Every value a bool or choice field can take: (as written, as the form holds it)."""
    if f.type == "bool":
        return [("true", True), ("false", False)]
    return [(c, c) for c in f.choices]


def _names(condition: str) -> set[str]:
    try:
        return {n.id for n in ast.walk(ast.parse(condition, mode="eval")) if isinstance(n, ast.Name)}
    except SyntaxError:
        return set()


def _holds(condition: str, name: str, value: Any) -> bool:
    try:
        return bool(evaluate(condition, {name: value}))
    except (ExpressionError, TypeError, ValueError, KeyError, NameError, ZeroDivisionError):
        return False


def _reaching(targets: set[str], pred: dict[str, set[str]]) -> set[str]:
    """Every element from which one of `targets` can be reached (the targets included)."""
    seen = set(targets)
    queue = deque(targets)
    while queue:
        for p in pred[queue.popleft()]:
            if p not in seen:
                seen.add(p)
                queue.append(p)
    return seen


def refusal_rules(meta: ProcedureMeta, defaults: dict[str, str], attached: dict[str, str]) -> list[Problem]:
    """Every problem with `outcome`, `refusal` and `refusal_reason`, and every refusing path left unmarked.

    `defaults`: gateway id -> its default flow; `attached`: boundary event id -> the activity it hangs on.
    """
    out: list[Problem] = []
    ends = meta.end_events()
    outcomes: dict[str, str | None] = {}
    for eid, node in ends.items():
        value = node.properties.get("outcome", "").strip().lower()
        if value and value not in OUTCOMES:
            out.append(Problem(eid, "end.outcome", "outcome is 'result' (the dossier ends with its result) or "
                                                   "'refusal' (it ends without it)"))
        outcomes[eid] = end_outcome(meta, eid)
        if outcomes[eid] is None and not value:
            out.append(Problem(eid, "end.outcome", "the process has several end events: say whether the dossier "
                                                   "ends here with its result (outcome = result) or without it "
                                                   "(outcome = refusal)"))
        if value == "refusal" and node.properties.get("continues", "").strip().lower() == "true":
            out.append(Problem(eid, "end.outcome", "an end event that continues the dossier is not a refusal"))
    if ends and not any(v == "result" for v in outcomes.values()) and all(v is not None for v in outcomes.values()):
        out.append(Problem(meta.key or "process", "end.outcome", "no end event gives the dossier its result "
                                                                 "(outcome = result)"))
    choices = _step_properties(meta, out)
    refusal_ends = {e for e, v in outcomes.items() if v == "refusal"}
    result_ends = {e for e, v in outcomes.items() if v == "result"}
    pred: dict[str, set[str]] = defaultdict(set)
    edges: list[tuple[str, str, str]] = []  # (element naming the edge, source, target)
    for f in meta.flows.values():
        if f.source in meta.nodes and f.target in meta.nodes:
            pred[f.target].add(f.source)
            edges.append((f.id, f.source, f.target))
    for boundary, host in attached.items():
        pred[boundary].add(host)
        edges.append((boundary, host, boundary))
    succ = _successors(edges)
    to_result = _reaching(result_ends, pred)
    to_refusal = _reaching(refusal_ends, pred)
    needed: dict[tuple[str, str], set[str]] = defaultdict(set)  # (step, field) -> refusing values
    where: dict[tuple[str, str], set[str]] = defaultdict(set)   # (step, field) -> refusal ends reached
    for element, source, target in edges:
        if source not in to_result or target in to_result or target not in to_refusal:
            continue
        reached = sorted(_reaching({target}, succ) & refusal_ends)
        _refusing_flow(meta, element, source, reached, defaults, pred, needed, where, out)
    for (step_id, field), values in needed.items():
        _check_marked(meta, step_id, field, values, sorted(where[(step_id, field)]), choices, out)
    for step_id, choice in choices.items():
        _refusal_to_result(meta, step_id, choice, result_ends, set(choices), defaults, succ, out)
    return sorted(set(out))


def _successors(edges: list[tuple[str, str, str]]) -> dict[str, set[str]]:
    """The reverse of the reverse: `_reaching` on this map walks forward."""
    succ: dict[str, set[str]] = defaultdict(set)
    for _e, s, t in edges:
        succ[s].add(t)
    return succ


def _step_properties(meta: ProcedureMeta, out: list[Problem]) -> dict[str, RefusalChoice]:
    """The steps' readable `refusal` choices; problems for what cannot be read or names nothing."""
    choices: dict[str, RefusalChoice] = {}
    for step in meta.steps.values():
        props = meta.nodes[step.id].properties
        own = {f.name: f for f in step.form}
        choice, raw = step_choice(meta, step)
        reason = props.get("refusal_reason", "").strip()
        if reason and (reason not in own or own[reason].type != "text"):
            out.append(Problem(step.id, "step.refusal", f"refusal_reason {reason!r} is not a text field of this step"))
        if not raw:
            if reason:
                out.append(Problem(step.id, "step.refusal", "refusal_reason without refusal: say which choice of "
                                                            "the form refuses the dossier (refusal = field=value)"))
            continue
        if choice is None:
            out.append(Problem(step.id, "step.refusal", f"refusal {raw[:80]!r} is not a choice of the form: write "
                                                        "field=value, e.g. 'decision=refuse' or 'eligible=false'"))
            continue
        f = own.get(choice.field)
        if f is None or f.type not in ("bool", "choice"):
            out.append(Problem(step.id, "step.refusal", f"refusal reads {choice.field!r}, which is not a bool or "
                                                        "choice field of this step"))
            continue
        allowed = [w for w, _v in _domain(f)]
        bad = [v for v in choice.values if v not in allowed]
        if bad:
            out.append(Problem(step.id, "step.refusal", f"refusal: {', '.join(bad)} is not a value of "
                                                        f"{choice.field} ({'|'.join(allowed)})"))
            continue
        if set(choice.values) >= set(allowed):
            out.append(Problem(step.id, "step.refusal", f"refusal {choice.text()}: every completion would be a "
                                                        "refusal"))
            continue
        if not reason:
            out.append(Problem(step.id, "step.refusal", "a refusal needs a reason: name the text field that holds "
                                                        "it in refusal_reason"))
        choices[step.id] = choice
    return choices


def _refusing_flow(meta: ProcedureMeta, element: str, source: str, reached: list[str], defaults: dict[str, str],
                   pred: dict[str, set[str]], needed: dict[tuple[str, str], set[str]],
                   where: dict[tuple[str, str], set[str]], out: list[Problem]) -> None:
    """Which officer's choice takes this refusing flow; a problem when none can be named."""
    ends = ", ".join(reached)
    gateway = meta.nodes[source]
    flow = meta.flows.get(element)
    if gateway.kind not in DECIDING_GATEWAYS or flow is None:
        out.append(Problem(element, "flow.refusal", f"this path ends the dossier without its result ({ends}) "
                                                    "without an officer's choice: let it leave an exclusive "
                                                    "gateway on a choice of a step's form"))
        return
    names = _read_by(meta, flow, defaults)
    if len(names) != 1:
        out.append(Problem(element, "flow.refusal", f"this path ends the dossier without its result ({ends}): its "
                                                    "condition must read exactly one field of a step's form (the "
                                                    "officer's choice that refuses)"))
        return
    (name,) = names
    deciders = _deciding_steps(meta, source, name, pred)
    if not deciders:
        out.append(Problem(element, "flow.refusal", f"this path ends the dossier without its result ({ends}) on "
                                                    f"{name!r}, which no step's form before it fills"))
        return
    for step_id in deciders:
        f = next(x for x in meta.steps[step_id].form if x.name == name)
        if f.type not in ("bool", "choice"):
            out.append(Problem(step_id, "step.refusal", f"{name!r} decides a path that ends the dossier without "
                                                        f"its result ({ends}): it must be a bool or choice field"))
            continue
        needed[(step_id, name)].update(_values_taking(meta, flow, f, defaults))
        where[(step_id, name)].update(reached)


def _conditions(meta: ProcedureMeta, flow: FlowMeta, defaults: dict[str, str]) -> tuple[list[str], bool]:
    """The conditions that decide whether the gateway takes `flow`, and whether they are its siblings'
    (a default flow is taken when none of the others holds)."""
    if flow.condition:
        return [flow.condition], False
    if defaults.get(flow.source) == flow.id:
        return [f.condition for f in meta.flows.values() if f.source == flow.source and f.id != flow.id
                and f.condition], True
    return [], False


def _read_by(meta: ProcedureMeta, flow: FlowMeta, defaults: dict[str, str]) -> set[str]:
    conditions, _ = _conditions(meta, flow, defaults)
    return set().union(*(_names(c) for c in conditions)) if conditions else set()


def _values_taking(meta: ProcedureMeta, flow: FlowMeta, f: FormField, defaults: dict[str, str]) -> set[str]:
    """The values of `f` for which the gateway may take `flow` (as written: 'false', 'refuse')."""
    conditions, default = _conditions(meta, flow, defaults)
    if not conditions:
        return set()
    return {written for written, value in _domain(f)
            if (not any(_holds(c, f.name, value) for c in conditions) if default
                else _holds(conditions[0], f.name, value))}


def _refusal_to_result(meta: ProcedureMeta, step_id: str, choice: RefusalChoice, result_ends: set[str],
                       marked: set[str], defaults: dict[str, str], succ: dict[str, set[str]],
                       out: list[Problem]) -> None:
    """A refusing choice must not lead to a result end unless a step that may refuse decides again on the
    way (the transitional hand-over loops back to the provincial decision): else the refusal is a lie."""
    f = next(x for x in meta.steps[step_id].form if x.name == choice.field)
    gateways: set[str] = set()
    seen = {step_id}
    queue = deque(succ[step_id])
    while queue:  # the gateways right after the step (before any other step)
        node = queue.popleft()
        if node in seen or node in meta.steps:
            continue
        seen.add(node)
        if meta.nodes[node].kind in DECIDING_GATEWAYS:
            gateways.add(node)
        queue.extend(succ[node])
    for flow in meta.flows.values():
        if flow.source not in gateways or _read_by(meta, flow, defaults) != {choice.field}:
            continue
        if not _values_taking(meta, flow, f, defaults) & set(choice.values):
            continue
        reached = _forward(flow.target, succ, marked) & result_ends
        if reached:
            out.append(Problem(step_id, "step.refusal", f"refusal {choice.text()}: that choice takes the dossier "
                                                        f"to the result end {', '.join(sorted(reached))} (flow "
                                                        f"{flow.id})"))


def _forward(start: str, succ: dict[str, set[str]], stops: set[str]) -> set[str]:
    """Every element reachable from `start` without passing through one of `stops`."""
    seen = {start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node in stops:
            continue
        for n in succ[node]:
            if n not in seen:
                seen.add(n)
                queue.append(n)
    return seen


def _deciding_steps(meta: ProcedureMeta, gateway: str, name: str, pred: dict[str, set[str]]) -> list[str]:
    """The user tasks whose form fills `name` last before the gateway (walking back, stopping at them)."""
    found: set[str] = set()
    seen = {gateway}
    queue = deque(pred[gateway])
    while queue:
        node = queue.popleft()
        if node in seen:
            continue
        seen.add(node)
        step = meta.steps.get(node)
        if step is not None and any(f.name == name for f in step.form):
            found.add(node)
            continue
        queue.extend(pred[node])
    return sorted(found)


def _check_marked(meta: ProcedureMeta, step_id: str, field: str, values: set[str], ends: list[str],
                  choices: dict[str, RefusalChoice], out: list[Problem]) -> None:
    want = RefusalChoice(field, tuple(sorted(values)))
    have = choices.get(step_id)
    raw = meta.nodes[step_id].properties.get("refusal", "").strip()
    if have is None:
        if not raw:  # an unreadable one is reported already
            out.append(Problem(step_id, "step.refusal", f"the choice {want.text()} ends the dossier without its "
                                                        f"result ({', '.join(ends)}): mark it (refusal = "
                                                        f"{want.text()}) and name the reason's text field in "
                                                        "refusal_reason"))
        return
    if have.field != field or set(have.values) != values:
        out.append(Problem(step_id, "step.refusal", f"refusal is {have.text()}, but the choice that ends the dossier "
                                                    f"without its result ({', '.join(ends)}) is {want.text()}"))

