"""The safe expression language for gateway conditions, script tasks and DMN rules.

Supervisor-written text must never reach Python's `eval`/`exec`: a condition is a string anyone with
the supervisor role can deploy. We parse it with `ast`, check every node against a small whitelist,
and interpret the tree ourselves. Nothing is compiled, so there is no code object to escape from.

Accepted: literals (str, int, float, bool, None, tuples/lists/dicts/sets of literals), names,
comparisons (`== != < <= > >= in not in is is not`), `and`/`or`/`not`, arithmetic
(`+ - * / // % **` with bounded operands), unary `- +`, conditional expressions, subscripts
(`parcel['area']`, `xs[0]`), and calls of whitelisted functions. Scripts are a sequence of plain
assignments (`x = expr`), optionally with `if`/`else` blocks and `pass`.
Refused: attributes, imports, lambdas, comprehensions, f-strings, starred args, keyword args,
walrus, loops, function definitions, names starting with `_`.

Evaluation is bounded, not only checked: every value produced is measured (integers up to 256 bits,
strings up to 10,000 characters, containers up to 10,000 elements and 100,000 characters of text
counted through every level of nesting, shared references each time), results that could only be
too large are refused from their operands' sizes before they are built, and every step spends a
work budget (engine/expression_cost.py), so `str(['a'*10000]*10000)` or ten levels of lists of the
same list cannot make one gateway cost minutes and gigabytes. The parts of a text that involve no
names (`9**9**9`, `[0]*10**9`, `round(1, -10**9)`) are evaluated when the file is checked, under a
budget shared by the whole file, so a condition that can only ever fail is refused at deploy rather
than on the first dossier, and checking a 2 MB file stays a fraction of a second.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .expression_cost import (
    CHECK_WORK,
    MAX_INT_BITS,
    MAX_STR,
    MAX_WORK,
    Budget,
    ExpressionError,
    WorkExhausted,
    before_binop,
    before_text,
    check_number,
    measure,
)

__all__ = ["CHECK_WORK", "Budget", "ExpressionError", "check_expression", "check_script", "evaluate", "execute"]
MAX_SOURCE = 4_000          # characters in one expression or script
MAX_NODES = 400             # AST nodes in one expression or script
MAX_ROUND_DIGITS = 20
_TEXT_FUNCTIONS = frozenset({"str", "lower", "upper"})  # build text from any value: sized first


def _lower(s: object) -> str:
    return str(s).lower()


def _upper(s: object) -> str:
    return str(s).upper()


def _sum(values: Any, start: Any = 0) -> Any:
    """Numbers only: `sum` of lists or strings would concatenate, in quadratic time."""
    total = start
    for v in [start, *values]:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError("sum adds numbers only")
    for v in values:
        total = check_number(total + v)
    return total


def _round(number: Any, ndigits: Any = None) -> Any:
    """`round(1, -10**9)` would compute 10**(10**9)."""
    if ndigits is None:
        return round(number)
    if isinstance(ndigits, bool) or not isinstance(ndigits, int) or abs(ndigits) > MAX_ROUND_DIGITS:
        raise ValueError(f"round to at most {MAX_ROUND_DIGITS} digits")
    return round(number, ndigits)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "min": min,
    "max": max,
    "abs": abs,
    "round": _round,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "sum": _sum,
    "any": any,
    "all": all,
    "lower": _lower,
    "upper": _upper,
}

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_CMPOPS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_UNARY: dict[type, Callable[[Any], Any]] = {
    ast.Not: operator.not_,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}

_SIGN = {ast.USub: "-", ast.UAdd: "+"}

_EXPR_NODES = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.Store, ast.BoolOp, ast.And, ast.Or,
    ast.UnaryOp, ast.BinOp, ast.Compare, ast.IfExp, ast.Subscript, ast.Slice, ast.Call,
    ast.Tuple, ast.List, ast.Dict, ast.Set, *_BINOPS, *_CMPOPS, *_UNARY,
)
_STMT_NODES = (ast.Module, ast.Assign, ast.If, ast.Pass, ast.Expr)


@dataclass(frozen=True)
class Problem:
    """Why a text is refused, as a sentence a supervisor can act on."""

    message: str


_Children = dict[int, list[ast.AST]]


def _nodes(tree: ast.AST) -> tuple[list[ast.AST], _Children] | None:
    """The nodes breadth-first and each one's children, in one walk; None past MAX_NODES (a
    4,000-character `1+1+…` has 4,000 nodes: the walk stops at the limit, not at the end)."""
    order: list[ast.AST] = [tree]
    children: _Children = {}
    i = 0
    while i < len(order):
        node = order[i]
        i += 1
        kids = list(ast.iter_child_nodes(node))
        children[id(node)] = kids
        order.extend(kids)
        if len(order) > MAX_NODES:
            return None
    return order, children


def _check(tree: ast.AST, allowed: tuple[type, ...], budget: Budget | None = None) -> list[str]:
    problems: list[str] = []
    walked = _nodes(tree)
    if walked is None:
        return [f"too complex (more than {MAX_NODES} nodes)"]
    order, children = walked
    for node in order:
        if not isinstance(node, allowed):
            problems.append(f"{type(node).__name__} is not allowed")
            continue
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            problems.append(f"name {node.id!r} is not allowed (names may not start with '_')")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                what = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
                problems.append(f"call of {what!r} is not allowed")
            if node.keywords:
                problems.append("keyword arguments are not allowed")
            if any(isinstance(a, ast.Starred) for a in node.args):
                problems.append("starred arguments are not allowed")
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if not isinstance(target, ast.Name):
                    problems.append("only plain names can be assigned")
        if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):
            problems.append("a script line must be an assignment")
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (bytes, complex)) or node.value is Ellipsis:
                problems.append(f"literal {type(node.value).__name__} is not allowed")
            if isinstance(node.value, str) and len(node.value) > MAX_STR:
                problems.append("string literal too long")
            if isinstance(node.value, int) and node.value.bit_length() > MAX_INT_BITS:
                problems.append("integer literal too large")
    if not problems:
        problems += _constant_problems(_constant_parts(tree, order, children), budget)
    return sorted(set(problems))


_CONSTANT_NAMES = frozenset({"True", "False", "None"})
_FOLDED = (ast.BinOp, ast.UnaryOp, ast.Call, ast.Compare, ast.BoolOp, ast.Subscript, ast.IfExp)


def _constant_parts(tree: ast.AST, order: list[ast.AST], children: _Children) -> list[ast.AST]:
    """The largest parts with no names below (but True/False/None and called functions): the same
    value for every dossier. One pass bottom-up, so a long chain `a + 1 + 1 + …` costs linear time."""
    constant: dict[int, bool] = {}
    for node in reversed(order):  # breadth-first, reversed: children before parents
        if isinstance(node, ast.Name):
            constant[id(node)] = node.id in _CONSTANT_NAMES
        else:
            below = node.args if isinstance(node, ast.Call) else children[id(node)]
            constant[id(node)] = all(constant[id(child)] for child in below)
    parts: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, _FOLDED) and constant[id(node)]:
            parts.append(node)
        elif isinstance(node, ast.Assign) and constant.get(id(node.value)):
            parts.append(node)  # a constant value assigned: it must also be storable (engine/expressions.storable)
        else:
            stack.extend(children[id(node)])
    return parts


def _constant_problems(parts: list[ast.AST], budget: Budget | None) -> list[str]:
    """Evaluate the largest name-free parts of an (already whitelisted) text with the bounded
    interpreter: a part that breaks a limit fails for every dossier, so the file is refused now.
    `budget` is the whole file's (CHECK_WORK), when a file is being checked: once it is spent the
    remaining parts are not evaluated, and the element where it ran out says so, once."""
    problems: list[str] = []
    for part in parts:
        if budget is not None and budget.exhausted:
            if not budget.reported:
                budget.reported = True
                problems.append(f"not checked: the constant parts of this file's expressions take more than "
                                f"{budget.units} steps of work in all; simplify them")
            break
        try:
            interpreter = _Interpreter({}, Budget(MAX_WORK, budget))
            if isinstance(part, ast.Assign):
                storable(interpreter.eval(part.value))
            else:
                interpreter.eval(part)
        except WorkExhausted as err:
            if err.budget is budget:
                budget.reported = True
                problems.append(f"{ast.unparse(part)[:60]!r} not checked: the constant parts of this file's "
                                f"expressions take more than {budget.units} steps of work in all; simplify them")
                break
            problems.append(f"{ast.unparse(part)[:60]!r} always fails: {err}")
        except ExpressionError as err:
            problems.append(f"{ast.unparse(part)[:60]!r} always fails: {err}")
    return problems


def _parse(text: str, mode: str) -> ast.AST:
    if not isinstance(text, str):
        raise ExpressionError("expression must be text")
    if len(text) > MAX_SOURCE:
        raise ExpressionError(f"too long ({len(text)} characters, at most {MAX_SOURCE})")
    if "\x00" in text:
        raise ExpressionError("contains a NUL character")
    try:
        return ast.parse(text.strip() if mode == "eval" else text, mode=mode)
    except SyntaxError as err:
        raise ExpressionError(f"syntax error: {err.msg}") from None
    except (ValueError, RecursionError, MemoryError) as err:
        raise ExpressionError(f"cannot be parsed: {type(err).__name__}") from None


def check_expression(text: str, budget: Budget | None = None) -> list[str]:
    """Every reason the condition is refused; empty when it is accepted. `budget`: the work its
    constant parts may spend, shared by a whole file (Budget(CHECK_WORK)) when a file is checked."""
    skipped = budget.parse(text) if budget is not None and isinstance(text, str) else None
    if skipped is not None:
        return skipped
    try:
        tree = _parse(text, "eval")
    except ExpressionError as err:
        return [str(err)]
    return _check(tree, _EXPR_NODES, budget)


def check_script(text: str, budget: Budget | None = None) -> list[str]:
    skipped = budget.parse(text) if budget is not None and isinstance(text, str) else None
    if skipped is not None:
        return skipped
    try:
        tree = _parse(text, "exec")
    except ExpressionError as err:
        return [str(err)]
    return _check(tree, _EXPR_NODES + _STMT_NODES, budget)


def storable(value: Any) -> Any:
    """`value`, if it goes into a dossier's workflow data unchanged: JSON holds no set, and a dict key that
    is not text would come back from a snapshot as text (`{1: 'a'}[1]` would then fail). Refused else."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (set, frozenset, complex)):
            raise ExpressionError(f"a {type(item).__name__} cannot be stored in the dossier's data")
        if isinstance(item, dict):
            for key in item:
                if not isinstance(key, str):
                    raise ExpressionError(f"a key of data must be text, not {type(key).__name__}")
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return value


class _Interpreter:
    def __init__(self, names: Mapping[str, Any], budget: Budget | None = None):
        self.names = names
        self.budget = budget if budget is not None else Budget(MAX_WORK)

    def eval(self, node: ast.AST) -> Any:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise ExpressionError(f"{type(node).__name__} is not allowed")
        self.budget.spend(1)
        try:
            value = method(node)
        except ExpressionError:
            raise
        except (ArithmeticError, LookupError, TypeError, ValueError, RecursionError) as err:
            # the net under the cases handled above: whatever Python raises, the caller gets ExpressionError
            raise ExpressionError(f"{type(err).__name__}: {err}") from None
        measure(value, self.budget)
        return value

    def _Expression(self, node: ast.Expression) -> Any:
        return self.eval(node.body)

    def _Constant(self, node: ast.Constant) -> Any:
        return node.value

    def _Name(self, node: ast.Name) -> Any:
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        if node.id in self.names:
            return self.names[node.id]
        if node.id in FUNCTIONS:
            raise ExpressionError(f"function {node.id!r} can only be called")
        raise ExpressionError(f"name {node.id!r} is not defined")

    def _BoolOp(self, node: ast.BoolOp) -> Any:
        result: Any = None
        for value in node.values:
            result = self.eval(value)
            if isinstance(node.op, ast.And) and not result:
                return result
            if isinstance(node.op, ast.Or) and result:
                return result
        return result

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        operand = self.eval(node.operand)
        try:
            return _UNARY[type(node.op)](operand)
        except TypeError:
            raise ExpressionError(f"bad operand type for unary {_SIGN.get(type(node.op), 'not')}: "
                                  f"{type(operand).__name__}") from None

    def _BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.eval(node.left), self.eval(node.right)
        before_binop(node.op, left, right, self.budget)
        if isinstance(node.op, ast.Mod) and isinstance(left, str):
            raise ExpressionError("string formatting is not allowed")
        try:
            return _BINOPS[type(node.op)](left, right)
        except (ArithmeticError, TypeError, ValueError) as err:
            raise ExpressionError(f"{type(err).__name__}: {err}") from None

    def _Compare(self, node: ast.Compare) -> bool:
        left = self.eval(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.eval(comparator)
            try:
                ok = _CMPOPS[type(op)](left, right)
            except TypeError as err:
                raise ExpressionError(f"cannot compare: {err}") from None
            if not ok:
                return False
            left = right
        return True

    def _IfExp(self, node: ast.IfExp) -> Any:
        return self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse)

    def _Subscript(self, node: ast.Subscript) -> Any:
        container = self.eval(node.value)
        if not isinstance(container, (dict, list, tuple, str)):
            raise ExpressionError(f"cannot subscript {type(container).__name__}")
        if isinstance(node.slice, ast.Slice):
            s = node.slice
            parts = [None if p is None else self.eval(p) for p in (s.lower, s.upper, s.step)]
            if isinstance(container, dict) or any(p is not None and not isinstance(p, int) for p in parts):
                raise ExpressionError(f"cannot slice {type(container).__name__} with "
                                      f"{', '.join(type(p).__name__ for p in parts if p is not None)}")
            if parts[2] == 0:
                raise ExpressionError("slice step cannot be zero")
            return container[slice(*parts)]
        key = self.eval(node.slice)
        try:
            return container[key]
        except (KeyError, IndexError, TypeError) as err:
            raise ExpressionError(f"no item {key!r}: {type(err).__name__}") from None

    def _Call(self, node: ast.Call) -> Any:
        assert isinstance(node.func, ast.Name)
        fn = FUNCTIONS.get(node.func.id)
        if fn is None or node.keywords:
            raise ExpressionError(f"call of {node.func.id!r} is not allowed")
        args = [self.eval(a) for a in node.args]
        if node.func.id in _TEXT_FUNCTIONS and args:
            before_text(args[0], self.budget)
        try:
            return fn(*args)
        except (TypeError, ValueError, OverflowError) as err:
            raise ExpressionError(f"{node.func.id}(): {err}") from None

    def _Tuple(self, node: ast.Tuple) -> tuple[Any, ...]:
        return tuple(self.eval(e) for e in node.elts)

    def _List(self, node: ast.List) -> list[Any]:
        return [self.eval(e) for e in node.elts]

    def _Set(self, node: ast.Set) -> set[Any]:
        try:
            return {self.eval(e) for e in node.elts}
        except TypeError as err:
            raise ExpressionError(str(err)) from None

    def _Dict(self, node: ast.Dict) -> dict[Any, Any]:
        if any(k is None for k in node.keys):
            raise ExpressionError("dict unpacking is not allowed")
        try:
            return {self.eval(k): self.eval(v) for k, v in zip(node.keys, node.values, strict=True)}  # type: ignore[arg-type]
        except TypeError as err:
            raise ExpressionError(str(err)) from None


def evaluate(text: str, names: Mapping[str, Any]) -> Any:
    """Evaluate a condition against the dossier's data. Raises ExpressionError."""
    tree = _parse(text, "eval")
    problems = _check(tree, _EXPR_NODES)
    if problems:
        raise ExpressionError("; ".join(problems))
    return _Interpreter(names).eval(tree)


def execute(text: str, names: dict[str, Any]) -> dict[str, Any]:
    """Run a script of assignments; returns the names it assigned (and updates `names`)."""
    tree = _parse(text, "exec")
    problems = _check(tree, _EXPR_NODES + _STMT_NODES)
    if problems:
        raise ExpressionError("; ".join(problems))
    assigned: dict[str, Any] = {}
    interp = _Interpreter(names)

    def run(body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.Assign):
                value = storable(interp.eval(stmt.value))
                for target in stmt.targets:
                    assert isinstance(target, ast.Name)
                    names[target.id] = value
                    assigned[target.id] = value
            elif isinstance(stmt, ast.If):
                run(stmt.body if interp.eval(stmt.test) else stmt.orelse)
            elif isinstance(stmt, (ast.Pass, ast.Expr)):
                continue
            else:  # pragma: no cover - _check refuses everything else
                raise ExpressionError(f"{type(stmt).__name__} is not allowed")

    run(tree.body)  # type: ignore[attr-defined]
    return assigned


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow's script environment, replaced: conditions, scripts and DMN rules come here.

    The default TaskDataEnvironment calls `eval`/`exec`; this one interprets the checked tree.
    `extra` holds read-only names the engine adds (dossier fields) without storing them in task data.
    """

    def __init__(self) -> None:
        super().__init__({})

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        names = dict(external_context or {})
        names.update(context)
        return storable(evaluate(expression, names))  # a DMN output goes into the data

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        names = dict(external_context or {})
        names.update(context)
        assigned = execute(script, names)
        context.update(assigned)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise ExpressionError("service calls are not allowed")


class SafeScriptEngine(PythonScriptEngine):
    """PythonScriptEngine whose `validate` uses our checker instead of `ast.parse` alone."""

    def __init__(self) -> None:
        super().__init__(environment=SafeEnvironment())

    def validate(self, expression: str) -> None:
        problems = check_expression(expression)
        if problems:
            raise SyntaxError("; ".join(problems))
