"""The online evaluator: a checked tree compiled once into closures over a list of values.

Scoring reads each attribute a rule set uses once per order into a list (`vals`: the
order's moment, the list snapshot, then one slot per attribute), and every rule is a
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
from typing import Any

from risk.contract import Order, Verdict
from risk.rules.attributes import MODEL_DECISION, Attribute
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
Slot = Callable[[str], int]

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


# ---- reading attributes from the inputs -------------------------------------------------------


def reader(attribute: Attribute) -> Callable[[RuleInputs], Any]:
    """How to read one attribute from RuleInputs, as the evaluator's value (float with NaN, or str / None)."""
    if attribute.source == "feature":
        index = attribute.feature_index
        return lambda inputs: float(inputs.features[index])
    if attribute.source == "score":
        name = attribute.name
        return lambda inputs: float(getattr(inputs, name))
    if attribute.name == MODEL_DECISION:
        return lambda inputs: inputs.model_decision
    return _order_reader(attribute)


def _order_reader(attribute: Attribute) -> Callable[[RuleInputs], Any]:
    from risk.contract import SECTIONS

    section = next((s for s in SECTIONS if attribute.name.startswith(s + "_")), None)
    field = attribute.name if section is None else attribute.name[len(section) + 1:]
    if section is None:
        def raw(inputs: RuleInputs) -> Any:
            return getattr(inputs.order, field)
    else:
        def raw(inputs: RuleInputs) -> Any:
            part = getattr(inputs.order, section)
            return None if part is None else getattr(part, field)
    if attribute.type == "string":
        return raw
    if attribute.type == "time":
        return lambda inputs: NAN if (t := raw(inputs)) is None else t.timestamp()
    return lambda inputs: NAN if (x := raw(inputs)) is None else float(x)


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


def compile_condition(node: Condition, slot: Slot) -> tuple[Test, Test]:
    """(is definitely true, is definitely false) of a condition."""
    if isinstance(node, Compare):
        return _compare(node, slot)
    if isinstance(node, Not):
        is_true, is_false = compile_condition(node.item, slot)
        return is_false, is_true
    if isinstance(node, And):
        pairs = [compile_condition(item, slot) for item in node.items]
        return _all([t for t, _ in pairs]), _any([f for _, f in pairs])
    if isinstance(node, Or):
        pairs = [compile_condition(item, slot) for item in node.items]
        return _any([t for t, _ in pairs]), _all([f for _, f in pairs])
    if isinstance(node, IsMissing):
        get = compile_value(node.operand, slot)
        return (lambda v: (x := get(v)) is None or x != x), (lambda v: (x := get(v)) is not None and x == x)
    if isinstance(node, InValues):
        get, values = compile_value(node.operand, slot), node.values
        return (lambda v: get(v) in values), (lambda v: (x := get(v)) is not None and x == x and x not in values)
    if isinstance(node, InList):
        return _in_list(node, slot)
    if isinstance(node, Contains):
        get, needle = compile_value(node.operand, slot), node.needle
        return (lambda v: (x := get(v)) is not None and needle in x), \
               (lambda v: (x := get(v)) is not None and needle not in x)
    raise TypeError(f"not a condition: {node!r}")


def _compare(node: Compare, slot: Slot) -> tuple[Test, Test]:
    left, right, op = node.left, node.right, node.op
    if isinstance(left, Const) and isinstance(right, Attr):
        left, right, op = right, left, _MIRROR[op]
    if isinstance(left, Attr) and isinstance(right, Const):
        i = slot(left.name)
        return _SLOT_CONST[op](i, right.value), _SLOT_CONST[_COMPLEMENT[op]](i, right.value)
    get_left, get_right = compile_value(left, slot), compile_value(right, slot)
    return _general(_OPERATORS[op], get_left, get_right), _general(_OPERATORS[_COMPLEMENT[op]], get_left, get_right)


def _general(compare: Callable[[Any, Any], bool], get_left: Get, get_right: Get) -> Test:
    def test(v: Vals) -> bool:
        x, y = get_left(v), get_right(v)
        return x is not None and y is not None and x == x and y == y and compare(x, y)
    return test


def _in_list(node: InList, slot: Slot) -> tuple[Test, Test]:
    i, name = slot(node.operand.name), node.list_name

    def is_true(v: Vals) -> bool:
        return bool(v[LISTS].contains(name, v[i], v[AT]))

    def is_false(v: Vals) -> bool:
        return v[i] is not None and not v[LISTS].contains(name, v[i], v[AT])

    return is_true, is_false


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


def compile_value(node: Value, slot: Slot) -> Get:
    """A value as a closure: float (NaN when missing) or str (None when missing)."""
    if isinstance(node, Attr):
        i = slot(node.name)
        return lambda v: v[i]
    if isinstance(node, Const):
        c = node.value
        return lambda v: c
    if isinstance(node, Neg):
        get = compile_value(node.operand, slot)
        return lambda v: -get(v)
    if isinstance(node, Arith):
        a, b = compile_value(node.left, slot), compile_value(node.right, slot)
        if node.op == "+":
            return lambda v: a(v) + b(v)
        if node.op == "-":
            return lambda v: a(v) - b(v)
        if node.op == "*":
            return lambda v: a(v) * b(v)
        return lambda v: x / y if (y := b(v)) and (x := a(v)) == x else NAN  # x / 0 is missing, as in batch
    raise TypeError(f"not a value: {node!r}")
