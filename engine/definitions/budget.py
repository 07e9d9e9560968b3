"""The time budget: along every path from the start to an end, the steps whose clock runs must fit the
procedure's statutory limit (docs/procedure-conventions.md, "Budgets"; decision 0138).

A path's limit is the process `sla`, or the longest `sla_<field>` whose field may be true on it: the
path takes a flow whose condition says the field is true (`remeasured == True`), or, where no
condition tests the field, the path passes a step whose form asks it. A path that takes a flow saying
the field is false (`not remeasured`) keeps the ordinary limit.

Paths are walked on the diagram without its loops (a flow back to an earlier step counts once: going
round again is a return, whose time the law does not budget). Parallel branches are walked one at a
time, which is their critical path. A working day is 8 working hours here (the civil service's day,
and the bundled procedures' convention); the engine's deadlines use the configured office hours.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from ..calendar import DurationError, WorkDuration, parse_duration
from .model import ProcedureMeta
from .problems import Problem
from .subprocess import is_top, through

DAY_MINUTES = 8 * 60
MAX_PATHS = 20_000  # beyond this many paths, the rest are not walked (reported once)


def minutes(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return parse_duration(text).total_minutes(DAY_MINUTES)
    except DurationError:
        return None  # already a problem of its own


def as_duration(total: int) -> str:
    return str(WorkDuration(*divmod(total, DAY_MINUTES)))


def _says(condition: str | None, field: str) -> bool | None:
    """True when the condition holds only if `field` is true, False when only if it is false, None when
    it says nothing of it (or too much to tell)."""
    if not condition:
        return None
    try:
        tree = ast.parse(condition.strip(), mode="eval").body
    except SyntaxError:
        return None
    return _polarity(tree, field)


def _polarity(node: ast.expr, field: str) -> bool | None:
    if isinstance(node, ast.Name) and node.id == field:
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _polarity(node.operand, field)
        return None if inner is None else not inner
    if (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.left, ast.Name)
            and node.left.id == field and isinstance(node.comparators[0], ast.Constant)
            and isinstance(node.comparators[0].value, bool)):
        value = node.comparators[0].value
        if isinstance(node.ops[0], ast.Eq | ast.Is):
            return value
        if isinstance(node.ops[0], ast.NotEq | ast.IsNot):
            return not value
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        said = {p for p in (_polarity(v, field) for v in node.values) if p is not None}
        return said.pop() if len(said) == 1 else None
    return None


@dataclass(frozen=True)
class Limit:
    name: str  # "sla" or "sla_<field>"
    minutes: int
    field: str | None = None


def _limits(meta: ProcedureMeta) -> tuple[Limit | None, list[Limit]]:
    base = minutes(meta.sla)
    ordinary = Limit("sla", base) if base is not None else None
    conditional = []
    for name, value in meta.properties.items():
        if name.startswith("sla_") and name != "sla_setting":
            m = minutes(value)
            if m is not None:
                conditional.append(Limit(name, m, name.removeprefix("sla_")))
    return ordinary, conditional


def _graph(meta: ProcedureMeta, attached: dict[str, str]) -> dict[str, list[tuple[str, str | None]]]:
    """node -> [(next node, flow id)], loops removed (the flows a depth-first walk from the start finds
    going back to a node still on its path)."""
    succ: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for f in meta.flows.values():
        if f.source in meta.nodes and f.target in meta.nodes:
            succ[f.source].append((f.target, f.id))
    for boundary, activity in attached.items():
        succ[activity].append((boundary, None))
    through(meta, succ)  # a path through a sub-process is the path through its content
    starts = [n.id for n in meta.nodes.values() if n.kind == "startEvent" and is_top(meta, n.id)]
    back: set[tuple[str, str | None]] = set()
    state: dict[str, int] = {}  # 1 on the path, 2 done
    for start in starts:
        stack: list[tuple[str, Iterator[tuple[str, str | None]]]] = [(start, iter(succ[start]))]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                continue
            target, _flow = nxt
            if state.get(target) == 1:
                back.add((node, _flow))
            elif target not in state:
                state[target] = 1
                stack.append((target, iter(succ[target])))
    return {n: [(t, f) for t, f in nxt if (n, f) not in back] for n, nxt in succ.items()}


def budget_rules(meta: ProcedureMeta, attached: dict[str, str], calls: dict[str, int] | None = None) -> list[Problem]:
    """`calls`: call activity -> running-clock minutes of its fragment's longest path (fragments.py)."""
    ordinary, conditional = _limits(meta)
    if ordinary is None:
        return []  # the missing or malformed limit is a problem of its own
    tested = {lim.field: any(_says(f.condition, lim.field or "") is not None for f in meta.flows.values())
              for lim in conditional}
    asked_by = {lim.field: {s.id for s in meta.steps.values() if any(x.name == lim.field for x in s.form)}
                for lim in conditional}
    cost = {s.id: (minutes(s.sla) or 0) if s.clock == "run" else 0 for s in meta.steps.values()}
    cost.update(calls or {})
    succ = _graph(meta, attached)
    starts = [n.id for n in meta.nodes.values() if n.kind == "startEvent" and is_top(meta, n.id)]
    worst: dict[tuple[str, str], tuple[int, Limit, list[str]]] = {}
    walked = 0
    stack: list[tuple[str, list[str], list[str | None]]] = [(s, [s], []) for s in starts]
    while stack:
        node, path, flows = stack.pop()
        nexts = succ.get(node, [])
        if nexts:
            for target, flow in nexts:
                if target not in path:
                    stack.append((target, [*path, target], [*flows, flow]))
            continue
        walked += 1
        if walked > MAX_PATHS:
            return [Problem(meta.key, "budget.paths", f"more than {MAX_PATHS} paths from the start: the time "
                                                      "budget was checked on the first ones only")]
        if meta.nodes[node].kind != "endEvent":
            continue  # a dead end is a problem of its own
        limit = ordinary
        conditions = [meta.flows[f].condition for f in flows if f is not None]
        for lim in conditional:
            said = {_says(c, lim.field or "") for c in conditions} - {None}
            may_be_true = said == {True} or (not tested[lim.field] and bool(asked_by[lim.field] & set(path)))
            if may_be_true and lim.minutes > limit.minutes:
                limit = lim
        total = 0
        for step in path:
            total += cost.get(step, 0)
            if total > limit.minutes:
                key = (step, limit.name)
                spent = sum(cost.get(s, 0) for s in path)
                if key not in worst or spent > worst[key][0]:
                    worst[key] = (spent, limit, path)
                break
    out = []
    for (step, _name), (spent, limit, path) in sorted(worst.items()):
        steps = [s for s in path if cost.get(s)]
        sla = {s: meta.steps[s].sla if s in meta.steps else as_duration(cost[s]) for s in steps}
        parts = " + ".join(f"{s} {sla[s]}" for s in steps)
        value = meta.sla if limit.name == "sla" else meta.properties.get(limit.name)
        out.append(Problem(step, "budget.path",
                           f"on the path {' → '.join(path)} the running-clock steps take {as_duration(spent)} "
                           f"({parts}), more than the procedure's limit {limit.name} = {value}: shorten a step, "
                           "pause a clock the law excludes, or correct the limit",
                           (("path", " → ".join(path)), ("spent", as_duration(spent)), ("limit_name", limit.name),
                            ("limit", value or ""),
                            ("steps", "|".join(f"{s}:{sla[s]}" for s in steps)))))
    return out
