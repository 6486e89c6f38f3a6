"""Builders of contract test data: `make_order(**overrides)` from the contract example."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "contract"
if not CONTRACT.exists():  # CI clones beside shared/; elsewhere use the copy kept in tests
    CONTRACT = Path(__file__).resolve().parent / "fixtures" / "contract"
EXAMPLES = CONTRACT / "examples"


def example_order() -> dict[str, Any]:
    return json.loads((EXAMPLES / "order.json").read_text())


def make_order(**overrides: Any) -> dict[str, Any]:
    """The contract's example order, with dotted-path overrides: `make_order(**{"buyer.country": "FR"})`.

    A value of `...` deletes the field.
    """
    order = copy.deepcopy(example_order())
    for path, value in overrides.items():
        *parents, leaf = path.split(".")
        node = order
        for part in parents:
            node = node.setdefault(part, {})
        if value is ...:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return order
