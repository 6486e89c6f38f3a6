"""Row operations on entity tables (frozen dataclasses whose fields are equal-length arrays)."""

from dataclasses import fields, replace
from typing import Any, TypeVar

import numpy as np

Table = TypeVar("Table", bound=Any)


def take_rows(table: Table, index: np.ndarray) -> Table:
    """The rows `index` of a table, in that order."""
    return replace(table, **{f.name: getattr(table, f.name)[index] for f in fields(table)})


def blend(mask: np.ndarray, a: Table, b: Table) -> Table:
    """Rows of `a` where `mask`, rows of `b` elsewhere."""
    return replace(a, **{f.name: np.where(mask, getattr(a, f.name), getattr(b, f.name)) for f in fields(a)})


def copy_rows(table: Table, source: np.ndarray, target: np.ndarray) -> Table:
    """A copy of the table with rows `target` overwritten by rows `source`."""
    copied = {}
    for f in fields(table):
        values = getattr(table, f.name).copy()
        values[target] = values[source]
        copied[f.name] = values
    return replace(table, **copied)
