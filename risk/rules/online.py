"""The online evaluator: a checked tree compiled once into closures over a list of values.

Scoring reads each attribute a rule set uses once per order into a list (`vals`: the
order's moment, the list snapshot, one slot per attribute, one per list membership
asked; risk.rules.layout), and every rule is a
pair of closures over it: "is definitely true" and "is definitely false". Three-valued
logic costs nothing this way: `not x` is true exactly when x is definitely false, and a
comparison with a missing value is neither. No pandas, no per-order allocation beyond
the one list; the common shape `attribute OP constant` is one closure call.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from risk.contract import Order, Verdict
from risk.rules.tree import (
    And,
    Arith,
    Attr,
    Compare,
    Condition,
    Const,
    Contains,
    InList,
    InValues,
    IsMissing,
    Neg,
    Not,
    Or,
    Value,
)

Vals = list[Any]
Test = Callable[[Vals], bool]
Get = Callable[[Vals], Any]


class Slots(Protocol):
    """Where the values a rule reads sit in the values list (risk.rules.layout.Layout)."""

    def slot(self, name: str) -> int: ...
    def probe(self, list_name: str, attribute: str) -> int: ...


AT, LISTS, FIRST_SLOT = 0, 1, 2
NAN = math.nan


@dataclass(frozen=True)
class RuleInputs:
    """One order as rules see it online, built once per request by the engine."""

    order: Order
    features: Sequence[float]        # in features.catalog.FEATURE_NAMES order, NaN = missing
    fraud_score: float
    regret_score: float
    model_decision: Verdict
    at_us: int                       # the order's created_at in microseconds: lists as of this moment


# ---- conditions -------------------------------------------------------------------------------

_COMPLEMENT = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne}

# `slot OP constant`, true only for a known value: NaN fails every comparison but !=, None fails == and !=.
_SLOT_CONST: dict[str, Callable[[int, Any], Test]] = {
    "<": lambda i, c: lambda v: v[i] < c,
    "<=": lambda i, c: lambda v: v[i] <= c,
    ">": lambda i, c: lambda v: v[i] > c,
    ">=": lambda i, c: lambda v: v[i] >= c,
    "==": lambda i, c: lambda v: v[i] == c,
    "!=": lambda i, c: lambda v: (x := v[i]) is not None and x == x and x != c,
}


# `value OP constant` for a computed value (arithmetic, a derived attribute): the same, one call deeper.
_VALUE_CONST: dict[str, Callable[[Get, Any], Test]] = {
    "<": lambda g, c: lambda v: g(v) < c,
    "<=": lambda g, c: lambda v: g(v) <= c,
    ">": lambda g, c: lambda v: g(v) > c,
    ">=": lambda g, c: lambda v: g(v) >= c,
    "==": lambda g, c: lambda v: g(v) == c,
    "!=": lambda g, c: lambda v: (x := g(v)) is not None and x == x and x != c,
}

# `slot OP slot` (two attributes): both must be known.
_SLOT_SLOT: dict[str, Callable[[int, int], Test]] = {
    "<": lambda i, j: lambda v: v[i] < v[j],
    "<=": lambda i, j: lambda v: v[i] <= v[j],
    ">": lambda i, j: lambda v: v[i] > v[j],
    ">=": lambda i, j: lambda v: v[i] >= v[j],
    "==": lambda i, j: lambda v: (x := v[i]) is not None and x == v[j],
    "!=": lambda i, j: lambda v: ((x := v[i]) is not None and x == x and (y := v[j]) is not None and y == y
                                  and x != y),
}


def compile_condition(node: Condition, slots: Slots) -> tuple[Test, Test]:
    """(is definitely true, is definitely false) of a condition."""
    if isinstance(node, Compare):
        return _compare(node, slots)
    if isinstance(node, Not):
        is_true, is_false = compile_condition(node.item, slots)
        return is_false, is_true
    if isinstance(node, And):
        pairs = [compile_condition(item, slots) for item in node.items]
        return _all([t for t, _ in pairs]), _any([f for _, f in pairs])
    if isinstance(node, Or):
        pairs = [compile_condition(item, slots) for item in node.items]
        return _any([t for t, _ in pairs]), _all([f for _, f in pairs])
    if isinstance(node, IsMissing):
        get = compile_value(node.operand, slots)
        return (lambda v: (x := get(v)) is None or x != x), (lambda v: (x := get(v)) is not None and x == x)
    if isinstance(node, InValues):
        get, values = compile_value(node.operand, slots), node.values
        return (lambda v: get(v) in values), (lambda v: (x := get(v)) is not None and x == x and x not in values)
    if isinstance(node, InList):
        return _in_list(node, slots)
    if isinstance(node, Contains):
        get, needle = compile_value(node.operand, slots), node.needle
        return (lambda v: (x := get(v)) is not None and needle in x), \
               (lambda v: (x := get(v)) is not None and needle not in x)
    raise TypeError(f"not a condition: {node!r}")


def _compare(node: Compare, slots: Slots) -> tuple[Test, Test]:
    left, right, op = node.left, node.right, node.op
    if isinstance(left, Const) and isinstance(right, Attr):
        left, right, op = right, left, _MIRROR[op]
    if isinstance(left, Attr) and isinstance(right, Const):
        i = slots.slot(left.name)
        return _SLOT_CONST[op](i, right.value), _SLOT_CONST[_COMPLEMENT[op]](i, right.value)
    if isinstance(left, Attr) and isinstance(right, Attr):
        i, j = slots.slot(left.name), slots.slot(right.name)
        return _SLOT_SLOT[op](i, j), _SLOT_SLOT[_COMPLEMENT[op]](i, j)
    if isinstance(right, Const):
        get = compile_value(left, slots)
        return _VALUE_CONST[op](get, right.value), _VALUE_CONST[_COMPLEMENT[op]](get, right.value)
    get_left, get_right = compile_value(left, slots), compile_value(right, slots)
    return _general(_OPERATORS[op], get_left, get_right), _general(_OPERATORS[_COMPLEMENT[op]], get_left, get_right)


def _general(compare: Callable[[Any, Any], bool], get_left: Get, get_right: Get) -> Test:
    def test(v: Vals) -> bool:
        x, y = get_left(v), get_right(v)
        return x is not None and y is not None and x == x and y == y and compare(x, y)
    return test


def _in_list(node: InList, slots: Slots) -> tuple[Test, Test]:
    k = slots.probe(node.list_name, node.operand.name)  # True / False, None for a missing value
    return (lambda v: v[k] is True), (lambda v: v[k] is False)


def _all(tests: list[Test]) -> Test:
    if len(tests) == 2:
        a, b = tests
        return lambda v: a(v) and b(v)
    if len(tests) == 3:
        a, b, c = tests
        return lambda v: a(v) and b(v) and c(v)

    def test(v: Vals) -> bool:
        return all(t(v) for t in tests)
    return test


def _any(tests: list[Test]) -> Test:
    if len(tests) == 2:
        a, b = tests
        return lambda v: a(v) or b(v)
    if len(tests) == 3:
        a, b, c = tests
        return lambda v: a(v) or b(v) or c(v)

    def test(v: Vals) -> bool:
        return any(t(v) for t in tests)
    return test


# ---- values -----------------------------------------------------------------------------------


def compile_value(node: Value, slots: Slots) -> Get:
    """A value as a closure: float (NaN when missing) or str (None when missing)."""
    if isinstance(node, Attr):
        i = slots.slot(node.name)
        return lambda v: v[i]
    if isinstance(node, Const):
        c = node.value
        return lambda v: c
    if isinstance(node, Neg):
        get = compile_value(node.operand, slots)
        return lambda v: -get(v)
    if isinstance(node, Arith):
        a, b = compile_value(node.left, slots), compile_value(node.right, slots)
        if node.op == "+":
            return lambda v: a(v) + b(v)
        if node.op == "-":
            return lambda v: a(v) - b(v)
        if node.op == "*":
            return lambda v: a(v) * b(v)
        return lambda v: x / y if (y := b(v)) and (x := a(v)) == x else NAN  # x / 0 is missing, as in batch
    raise TypeError(f"not a value: {node!r}")
