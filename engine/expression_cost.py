"""What one evaluation of the safe expression language may cost, decided before a value is built.

The evaluator (engine/expressions.py) asks here before every operation that could build something
large, and measures every value it produces:

- a value holds at most MAX_COLLECTION elements through every level of nesting (shared references
  counted each time), at most MAX_CHARS characters of text in all, and no string longer than
  MAX_STR nor integer wider than MAX_INT_BITS;
- repetition (`*`), concatenation (`+`), powers and `str()` are refused from their operands' sizes,
  *before* Python builds the result: `str(['a' * 10000] * 10000)` is refused from a lower bound of its
  length, not after 100 MB were written;
- every step (a node evaluated, an element walked, 64 characters of text measured) spends one unit
  of a work budget: MAX_WORK per evaluation, and, when a file is checked, CHECK_WORK shared by the
  constant parts of all its expressions. Operations Python runs in C (comparisons, `in`, `min`) touch
  only values already measured, so their cost is bounded by the units those measurements spent.

docs/decisions/0028-expression-cost.md says why the checker keeps evaluating constant parts under
a budget rather than not evaluating them at all.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Any

MAX_STR = 10_000            # length of a string produced by evaluation
MAX_INT_BITS = 256          # size of an integer produced by evaluation
MAX_POWER_EXPONENT = 64
MAX_COLLECTION = 10_000     # elements of a value, counted through every level of nesting
MAX_CHARS = 100_000         # characters of text in one value, through every level of nesting
MAX_NESTING = 16
MAX_WORK = 200_000          # work units of one evaluation (a condition, a script, a DMN entry)
CHECK_WORK = 500_000        # work units the constant parts of one file's expressions may spend in all
CHECK_SOURCE = 64_000       # characters of expressions and scripts parsed when one file is checked
TEXT_UNIT = 64              # characters measured per work unit
_CONTAINERS = (list, tuple, dict, set, frozenset)


class ExpressionError(ValueError):
    """The text is not in the safe language, or its evaluation broke a limit."""


class WorkExhausted(ExpressionError):
    """A work budget ran out; `budget` says which one (an evaluation's, or a whole file's check)."""

    def __init__(self, message: str, budget: Budget):
        super().__init__(message)
        self.budget = budget


class Budget:
    """Work units left; `parent` (a file's check) is charged for everything charged here too."""

    def __init__(self, units: int, parent: Budget | None = None, what: str = "this expression",
                 source: int = CHECK_SOURCE):
        self.units, self.left, self.parent, self.what = units, units, parent, what
        self.source_left = source  # a file's check: characters of expression text it may still parse
        self.reported = False  # a file's budget is reported once, on the element where it ran out

    def spend(self, n: int) -> None:
        if self.parent is not None:
            self.parent.spend(n)
        self.left -= n
        if self.left < 0:
            raise WorkExhausted(f"too much work: {self.what} may take at most {self.units} steps", self)

    @property
    def exhausted(self) -> bool:
        return self.left <= 0

    def parse(self, text: str) -> list[str] | None:
        """Before a file's check parses `text`: None to go on; else the problems to report instead (the
        first time the file's expressions pass CHECK_SOURCE characters in all, then none: not parsed)."""
        self.source_left -= len(text)
        if self.source_left >= 0:
            return None
        if self.reported:
            return []
        self.reported = True
        return [f"not checked: this file's expressions and scripts hold more than {CHECK_SOURCE} characters in all"]


@dataclass(frozen=True)
class Size:
    elements: int
    chars: int


def check_number(value: Any) -> Any:
    """Numbers only (cheap): the int width and finiteness limits."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise ExpressionError("integer result too large")
    if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
        raise ExpressionError("number result is not finite")
    if isinstance(value, complex):  # (-1) ** 0.5: no JSON number can hold it
        raise ExpressionError("number result is complex")
    return value


def measure(value: Any, budget: Budget) -> Size:
    """Elements and characters of `value`, raising ExpressionError over any limit. The walk stops at
    the first limit passed, so it costs at most about MAX_COLLECTION steps, each charged to `budget`
    (and runs mostly in C: each container's items are sorted by type, then checked kind by kind)."""
    if isinstance(value, str):
        if len(value) > MAX_STR:
            raise ExpressionError("string result too long")
        budget.spend(1 + len(value) // TEXT_UNIT)
        return Size(0, len(value))
    if not isinstance(value, _CONTAINERS):
        budget.spend(1)
        check_number(value)
        return Size(0, 0)
    count = chars = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            raise ExpressionError("collection result nested too deeply")
        n = 2 * len(node) if isinstance(node, dict) else len(node)
        if count + n > MAX_COLLECTION:
            raise ExpressionError("collection result too large")
        count += n
        budget.spend(1 + n)
        items = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        kinds = set(map(type, items))
        for kind in kinds:
            of_kind = items if len(kinds) == 1 else [x for x in items if type(x) is kind]
            if issubclass(kind, str):
                if max(map(len, of_kind)) > MAX_STR:
                    raise ExpressionError("string result too long")
                chars += sum(map(len, of_kind))
                if chars > MAX_CHARS:
                    raise ExpressionError("collection result holds too much text")
            elif kind is int:
                if max(map(int.bit_length, of_kind)) > MAX_INT_BITS:
                    raise ExpressionError("integer result too large")
            elif kind is float:
                if not all(map(math.isfinite, of_kind)):
                    raise ExpressionError("number result is not finite")
            elif issubclass(kind, _CONTAINERS):
                stack.extend((x, depth + 1) for x in of_kind)
            elif kind is not bool and kind is not type(None):
                for x in of_kind:
                    check_number(x)
    budget.spend(chars // TEXT_UNIT)
    if chars > MAX_CHARS:
        raise ExpressionError("collection result holds too much text")
    return Size(count, chars)


def text_floor(value: Any, budget: Budget) -> int:
    """A lower bound of `len(str(value))`, found without building the text; the walk stops as soon
    as the bound passes MAX_STR. (The real text is at most a few times longer: escapes, float digits.)"""
    total = 0
    stack: list[tuple[Any, bool]] = [(value, True)]
    while stack and total <= MAX_STR:
        item, top = stack.pop()
        budget.spend(1)
        if isinstance(item, str):
            total += len(item) + (0 if top else 2)
        elif isinstance(item, bool) or item is None:
            total += 4
        elif isinstance(item, int):
            bits = abs(item).bit_length()
            total += 1 + (bits - 1) * 3 // 10 if bits else 1
        elif isinstance(item, float):
            total += 3
        elif isinstance(item, dict):
            total += 2 + 4 * len(item) - 2 if item else 2
            stack.extend((k, False) for k in item)
            stack.extend((v, False) for v in item.values())
        elif isinstance(item, _CONTAINERS):
            total += 2 + 2 * len(item) - 2 if item else 2
            stack.extend((x, False) for x in item)
        else:
            total += 1
    return total


def before_text(value: Any, budget: Budget) -> None:
    """`str(value)` (and lower/upper, which call it): refused when the text could only be too long."""
    if not isinstance(value, str) and text_floor(value, budget) > MAX_STR:
        raise ExpressionError("string result too long")


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def before_binop(op: ast.operator, left: Any, right: Any, budget: Budget) -> None:
    """Refuse `left op right` from the operands' sizes when the result could only break a limit."""
    if isinstance(op, ast.Pow) and isinstance(right, (int, float)) and not isinstance(right, bool):
        if abs(right) > MAX_POWER_EXPONENT:
            raise ExpressionError("exponent too large")
        if isinstance(left, int) and isinstance(right, int) and right > 0 \
                and (abs(left).bit_length() - 1) * right > MAX_INT_BITS:
            raise ExpressionError("integer result too large")
    if isinstance(op, ast.Mult):
        for seq, n in ((left, _count(right)), (right, _count(left))):
            if n <= 0:
                continue
            if isinstance(seq, str) and len(seq) * n > MAX_STR:
                raise ExpressionError("repetition too large")
            if isinstance(seq, (list, tuple)):
                size = measure(seq, budget)
                if size.elements * n > MAX_COLLECTION or size.chars * n > MAX_CHARS:
                    raise ExpressionError("repetition too large")
    if isinstance(op, ast.Add):
        if isinstance(left, str) and isinstance(right, str) and len(left) + len(right) > MAX_STR:
            raise ExpressionError("string result too long")
        if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
            a, b = measure(left, budget), measure(right, budget)
            if a.elements + b.elements > MAX_COLLECTION:
                raise ExpressionError("collection result too large")
            if a.chars + b.chars > MAX_CHARS:
                raise ExpressionError("collection result holds too much text")
