"""The batch evaluator: the same checked tree, over whole columns with numpy.

Each condition gives two boolean arrays, definitely true and definitely false, with
the same three-valued semantics as the online closures (risk.rules.online); a test
replays simulated orders through both and checks they agree on every order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from risk.errors import DataError
from risk.rules.attributes import ATTRIBUTES, AttrType
from risk.rules.lists import ListSnapshot
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

Masks = tuple[np.ndarray, np.ndarray]

_OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal,
        "!=": np.not_equal}


class Columns:
    """A table's columns as the evaluator reads them, converted once and shared by every rule.

    Numbers and flags become float64 with NaN for missing; times float seconds since the
    epoch; strings object arrays with None for missing. `table` may be a dict of arrays
    or a DataFrame, columns named by canonical attribute (risk.rules.attributes).
    """

    def __init__(self, table: Mapping[str, Any] | pd.DataFrame, lists: ListSnapshot, at_us: np.ndarray) -> None:
        self.table, self.lists = table, lists
        self.at_us = np.asarray(at_us, dtype="int64")
        self.size = len(self.at_us)
        self.cache: dict[str, np.ndarray] = {}

    def column(self, name: str, kind: AttrType) -> np.ndarray:
        if name not in self.cache:
            if name not in self.table:
                raise DataError(f"the rules read attribute '{name}', which the table has no column for")
            values = self.table[name]
            if len(values) != self.size:
                raise DataError(f"column '{name}' has {len(values)} rows, at_us has {self.size}")
            column = convert(values, kind)
            default = ATTRIBUTES[name].default if name in ATTRIBUTES else None
            if default is not None:  # a missing quantity is the contract's one item, as the order model reads it
                column = np.where(np.isnan(column), default, column)
            self.cache[name] = column
        return self.cache[name]


def convert(values: Any, kind: AttrType) -> np.ndarray:
    """One column in the evaluator's form (see Columns); already converted columns pass through cheaply.

    Object arrays are not wrapped in a pandas Series: pandas would infer an Arrow string
    column and convert it back (about 0.25 s per million values, measured).
    """
    if isinstance(values, pd.Series | pd.Index):
        if kind == "time" and not pd.api.types.is_numeric_dtype(values.dtype):
            return _seconds(pd.to_datetime(values, utc=True))
        if kind == "string":
            values = values.to_numpy(dtype=object)
        elif values.dtype.kind in "biuf":
            values = values.to_numpy(dtype="float64")
        else:
            return values.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    array = np.asarray(values)
    if kind == "string":
        array = array.astype(object)
        missing = pd.isna(array)
        if missing.any():
            array = array.copy()
            array[missing] = None
        return array
    if array.dtype.kind in "biuf":
        return array.astype("float64")
    if kind == "time":
        return _seconds(pd.to_datetime(pd.Series(array, dtype=object), utc=True))
    return pd.Series(array, dtype=object).astype("Float64").to_numpy(dtype="float64", na_value=np.nan)


def _seconds(times: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    ns = np.asarray(times.to_numpy(dtype="datetime64[ns]")).view("int64")
    return np.where(np.asarray(pd.isna(times)), np.nan, ns / 1e9)


def evaluate(node: Condition, columns: Columns) -> Masks:
    """(definitely true, definitely false) for every row."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        true, false = _condition(node, columns)
    return _full(true, columns.size), _full(false, columns.size)


def _condition(node: Condition, columns: Columns) -> Masks:
    if isinstance(node, Compare):
        x, y = value(node.left, columns), value(node.right, columns)
        known = _known(x) & _known(y)
        result = np.asarray(_OPS[node.op](x, y), dtype=bool)
        return known & result, known & ~result
    if isinstance(node, Not):
        true, false = _condition(node.item, columns)
        return false, true
    if isinstance(node, And | Or):
        pairs = [_condition(item, columns) for item in node.items]
        trues, falses = [t for t, _ in pairs], [f for _, f in pairs]
        if isinstance(node, And):
            return np.logical_and.reduce(trues), np.logical_or.reduce(falses)
        return np.logical_or.reduce(trues), np.logical_and.reduce(falses)
    if isinstance(node, IsMissing):
        known = _full(_known(value(node.operand, columns)), columns.size)
        return ~known, known
    if isinstance(node, InValues):
        x = _full(value(node.operand, columns), columns.size)
        known = _known(x)
        if x.dtype == object:
            found = pd.Series(x).isin(node.values).to_numpy()
        else:
            found = np.isin(x, np.array(sorted(node.values), dtype="float64"))
        return known & found, known & ~found
    if isinstance(node, InList):
        x = columns.column(node.operand.name, node.operand.type)
        found = columns.lists.contains_many(node.list_name, x, columns.at_us)
        return found, _known(x) & ~found
    if isinstance(node, Contains):
        x = _full(value(node.operand, columns), columns.size)
        needle = node.needle
        known = _known(x)
        found = np.fromiter((s is not None and needle in s for s in x), dtype=bool, count=len(x))
        return found, known & ~found
    raise TypeError(f"not a condition: {node!r}")


def value(node: Value, columns: Columns) -> Any:
    """A value over all rows: an array (or a scalar for a constant), NaN / None for missing."""
    if isinstance(node, Attr):
        return columns.column(node.name, node.type)
    if isinstance(node, Const):
        return node.value
    if isinstance(node, Neg):
        return -np.asarray(value(node.operand, columns), dtype="float64")
    if isinstance(node, Arith):
        x = np.asarray(value(node.left, columns), dtype="float64")
        y = np.asarray(value(node.right, columns), dtype="float64")
        if node.op == "+":
            return x + y
        if node.op == "-":
            return x - y
        if node.op == "*":
            return x * y
        x, y = np.broadcast_arrays(x, y)
        return np.divide(x, y, out=np.full(x.shape, np.nan), where=y != 0)  # x / 0 is missing, as online
    raise TypeError(f"not a value: {node!r}")


def _known(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return ~pd.isna(x) if x.dtype == object else ~np.isnan(x)
    return not (x is None or x != x)


def _full(mask: Any, size: int) -> np.ndarray:
    array = np.asarray(mask)
    return np.broadcast_to(array, (size,)).copy() if array.shape != (size,) else array
