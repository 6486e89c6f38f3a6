"""The keys under which an order's history is kept: its entities and entity pairs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from features.history import ENTITY_COLUMNS, PAIRS

PAIR_SEPARATOR = "|"


def entity_key_columns(orders: pd.DataFrame) -> dict[str, pd.Series]:
    """Every entity's and pair's key per order, missing where any part is unknown."""
    keys = {name: orders[column] for name, column in ENTITY_COLUMNS.items()}
    for name, (left, right) in PAIRS.items():
        keys[name] = keys[left].astype("str") + PAIR_SEPARATOR + keys[right].astype("str")
        keys[name] = keys[name].where(keys[left].notna() & keys[right].notna(), None)
    return keys


def entity_keys(row: Mapping[str, Any]) -> dict[str, str | None]:
    """The same keys for one order (a flat row with None for unknown)."""
    keys: dict[str, str | None] = {name: row[column] for name, column in ENTITY_COLUMNS.items()}
    for name, (left, right) in PAIRS.items():
        a, b = keys[left], keys[right]
        keys[name] = None if a is None or b is None else f"{a}{PAIR_SEPARATOR}{b}"
    return keys
