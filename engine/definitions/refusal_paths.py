"""The drawing checked against its refusal marks (docs/procedure-conventions.md, "Refusals").

A *refusing flow* leaves an element from which a result end can still be reached for one from which
only refusal ends can. Each must leave an exclusive (or inclusive) gateway on a condition, or as its
default, that reads one field; the steps that fill that field last before the gateway must mark, as
their `refusal`, exactly the values for which the gateway may take a refusing flow. A marked choice
must not lead to a result end unless a step that may refuse decides again on the way.

The work is bounded (a file is supervisor-written, possibly hostile): past MAX_VISITS graph visits or
MAX_EVALUATIONS condition evaluations the check stops with a problem instead of running on.
"""

from __future__ import annotations

import ast
import functools
from collections import defaultdict, deque
from typing import Any

from ..expressions import ExpressionError, check_expression, evaluate
from .forms import FormField
from .model import FlowMeta, ProcedureMeta
from .problems import Problem
from .refusals import RefusalChoice, domain, end_problems, step_properties

DECIDING_GATEWAYS = ("exclusiveGateway", "inclusiveGateway")
MAX_VISITS = 500_000
MAX_EVALUATIONS = 1_000  # well under a second; the bundled library needs about 100


class _TooLarge(Exception):
    pass


def refusal_rules(meta: ProcedureMeta, defaults: dict[str, str], attached: dict[str, str]) -> list[Problem]:
    """Every problem with `outcome`, `refusal` and `refusal_reason`, and every refusing path left unmarked.

    `defaults`: gateway id -> its default flow; `attached`: boundary event id -> the activity it hangs on.
    """
    outcomes, out = end_problems(meta)
    choices = step_properties(meta, out)
    drawing = _Drawing(meta, defaults, attached)
    try:
        drawing.check({e for e, v in outcomes.items() if v == "result"},
                      {e for e, v in outcomes.items() if v == "refusal"}, choices, out)
    except _TooLarge:
        out.append(Problem(meta.key or "process", "flow.refusal",
                           "the procedure is too large to check its refusals (more than "
                           f"{MAX_VISITS} path steps or {MAX_EVALUATIONS} conditions to follow)"))
    return sorted(set(out))


MAX_CONDITION = 2_000  # a condition that decides a refusal reads one field: longer ones are not walked


@functools.lru_cache(maxsize=4096)
def _names(condition: str) -> frozenset[str]:
    """The names a condition reads. Cached (a file repeats its conditions) and bounded: a 2 MB file of
    long conditions cost seconds of `ast.walk` here before (tests/reliability/test_check_cost.py); the
    expression checker refuses or bounds those conditions on its own."""
    if len(condition) > MAX_CONDITION:
        return frozenset()
    try:
        return frozenset(n.id for n in ast.walk(ast.parse(condition, mode="eval")) if isinstance(n, ast.Name))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()


class _Drawing:
    """The flow graph (boundary events hang off their activity) and the bounded walks over it."""

    def __init__(self, meta: ProcedureMeta, defaults: dict[str, str], attached: dict[str, str]):
        self.meta, self.defaults = meta, defaults
        self.pred: dict[str, set[str]] = defaultdict(set)
        self.succ: dict[str, set[str]] = defaultdict(set)
        self.out_flows: dict[str, list[FlowMeta]] = defaultdict(list)
        self.edges: list[tuple[str, str, str]] = []  # (element naming the edge, source, target)
        for f in meta.flows.values():
            if f.source in meta.nodes and f.target in meta.nodes:
                self.edges.append((f.id, f.source, f.target))
                self.out_flows[f.source].append(f)
        for boundary, host in attached.items():
            self.edges.append((boundary, host, boundary))
        for _e, s, t in self.edges:
            self.pred[t].add(s)
            self.succ[s].add(t)
        self.visits = 0
        self.evaluations = 0
        self.fills: dict[str, set[str]] = {}  # field -> the steps whose form has it

    # -- bounded primitives ---------------------------------------------------------------------------
    def walk(self, starts: set[str], links: dict[str, set[str]], stops: frozenset[str] | set[str] = frozenset()
             ) -> set[str]:
        """Every element reached from `starts` along `links`, not going on from `stops` (reached, kept)."""
        seen = set(starts)
        queue = deque(starts)
        while queue:
            node = queue.popleft()
            self.visits += 1
            if self.visits > MAX_VISITS:
                raise _TooLarge
            if node in stops:
                continue
            for n in links[node]:
                if n not in seen:
                    seen.add(n)
                    queue.append(n)
        return seen

    def holds(self, condition: str, name: str, value: Any) -> bool:
        self.evaluations += 1
        if self.evaluations > MAX_EVALUATIONS:
            raise _TooLarge
        try:
            return bool(evaluate(condition, {name: value}))
        except (ExpressionError, TypeError, ValueError, KeyError, NameError, ZeroDivisionError):
            return False

    def conditions(self, flow: FlowMeta) -> tuple[list[str], bool]:
        """The conditions that decide whether the gateway takes `flow`, and whether they are its siblings'
        (a default flow is taken when none of the others holds)."""
        if flow.condition:
            return [flow.condition], False
        if self.defaults.get(flow.source) == flow.id:
            return [f.condition for f in self.out_flows[flow.source] if f.id != flow.id and f.condition], True
        return [], False

    def read_by(self, flow: FlowMeta) -> set[str]:
        conditions, _ = self.conditions(flow)
        return set().union(*(_names(c) for c in conditions)) if conditions else set()

    def values_taking(self, flow: FlowMeta, f: FormField) -> set[str]:
        """The values of `f` for which the gateway may take `flow` (as written: 'false', 'refuse')."""
        conditions, default = self.conditions(flow)
        if not conditions:
            return set()
        return {written for written, value in domain(f)
                if (not any(self.holds(c, f.name, value) for c in conditions) if default
                    else self.holds(conditions[0], f.name, value))}

    # -- the rules ------------------------------------------------------------------------------------
    def check(self, result_ends: set[str], refusal_ends: set[str], choices: dict[str, RefusalChoice],
              out: list[Problem]) -> None:
        to_result = self.walk(result_ends, self.pred)
        to_refusal = self.walk(refusal_ends, self.pred)
        needed: dict[tuple[str, str], set[str]] = defaultdict(set)  # (step, field) -> refusing values
        where: dict[tuple[str, str], set[str]] = defaultdict(set)   # (step, field) -> refusal ends reached
        reached_from: dict[str, list[str]] = {}
        for element, source, target in self.edges:
            if source not in to_result or target in to_result or target not in to_refusal:
                continue
            if target not in reached_from:
                reached_from[target] = sorted(self.walk({target}, self.succ) & refusal_ends)
            self.refusing_flow(element, source, reached_from[target], needed, where, out)
        for (step_id, field), values in needed.items():
            self.check_marked(step_id, field, values, sorted(where[(step_id, field)]), choices, out)
        for step_id, choice in choices.items():
            self.refusal_to_result(step_id, choice, result_ends, set(choices), out)

    def refusing_flow(self, element: str, source: str, reached: list[str], needed: dict[tuple[str, str], set[str]],
                      where: dict[tuple[str, str], set[str]], out: list[Problem]) -> None:
        """Which officer's choice takes this refusing flow; a problem when none can be named."""
        meta = self.meta
        ends = ", ".join(reached)
        flow = meta.flows.get(element)
        if meta.nodes[source].kind not in DECIDING_GATEWAYS or flow is None:
            out.append(Problem(element, "flow.refusal", f"this path ends the dossier without its result ({ends}) "
                                                        "without an officer's choice: let it leave an exclusive "
                                                        "gateway on a choice of a step's form"))
            return
        if any(check_expression(c) for c in self.conditions(flow)[0]):
            return  # an unsafe or broken condition is reported as such (condition.unsafe), once
        names = self.read_by(flow)
        if len(names) != 1:
            out.append(Problem(element, "flow.refusal", f"this path ends the dossier without its result ({ends}): "
                                                        "its condition must read exactly one field of a step's form "
                                                        "(the officer's choice that refuses)"))
            return
        (name,) = names
        deciders = self.deciding_steps(source, name)
        if not deciders:
            out.append(Problem(element, "flow.refusal", f"this path ends the dossier without its result ({ends}) "
                                                        f"on {name!r}, which no step's form before it fills"))
            return
        for step_id in deciders:
            f = next(x for x in meta.steps[step_id].form if x.name == name)
            if f.type not in ("bool", "choice"):
                out.append(Problem(step_id, "step.refusal", f"{name!r} decides a path that ends the dossier "
                                                            f"without its result ({ends}): it must be a bool or "
                                                            "choice field"))
                continue
            needed[(step_id, name)].update(self.values_taking(flow, f))
            where[(step_id, name)].update(reached)

    def deciding_steps(self, gateway: str, name: str) -> list[str]:
        """The user tasks whose form fills `name` last before the gateway (walking back, stopping at them)."""
        if name not in self.fills:
            self.fills[name] = {s.id for s in self.meta.steps.values() if any(f.name == name for f in s.form)}
        fills = self.fills[name]
        before = self.walk(set(self.pred[gateway]), self.pred, stops=fills)
        return sorted(before & fills)

    def check_marked(self, step_id: str, field: str, values: set[str], ends: list[str],
                     choices: dict[str, RefusalChoice], out: list[Problem]) -> None:
        want = RefusalChoice(field, tuple(sorted(values)))
        have = choices.get(step_id)
        if have is None:
            if not self.meta.nodes[step_id].properties.get("refusal", "").strip():  # an unreadable one: reported
                out.append(Problem(step_id, "step.refusal", f"the choice {want.text()} ends the dossier without its "
                                                            f"result ({', '.join(ends)}): mark it (refusal = "
                                                            f"{want.text()}) and name the reason's text field in "
                                                            "refusal_reason"))
            return
        if have.field != field or set(have.values) != values:
            out.append(Problem(step_id, "step.refusal", f"refusal is {have.text()}, but the choice that ends the "
                                                        f"dossier without its result ({', '.join(ends)}) is "
                                                        f"{want.text()}"))

    def refusal_to_result(self, step_id: str, choice: RefusalChoice, result_ends: set[str], marked: set[str],
                          out: list[Problem]) -> None:
        """A refusing choice must not lead to a result end unless a step that may refuse decides again on the
        way (the transitional hand-over loops back to the provincial decision): else the mark is wrong."""
        meta = self.meta
        f = next(x for x in meta.steps[step_id].form if x.name == choice.field)
        after = self.walk(set(self.succ[step_id]), self.succ, stops=set(meta.steps)) - set(meta.steps)
        for gateway in sorted(after):
            if meta.nodes[gateway].kind not in DECIDING_GATEWAYS:
                continue
            for flow in self.out_flows[gateway]:
                if self.read_by(flow) != {choice.field} or not self.values_taking(flow, f) & set(choice.values):
                    continue
                reached = self.walk({flow.target}, self.succ, stops=marked) & result_ends
                if reached:
                    out.append(Problem(step_id, "step.refusal", f"refusal {choice.text()}: that choice takes the "
                                                                f"dossier to the result end "
                                                                f"{', '.join(sorted(reached))} (flow {flow.id})"))
