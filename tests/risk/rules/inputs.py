"""Builders of rule inputs for the rules tests: the contract example order as RuleInputs."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from features.catalog import FEATURE_NAMES
from risk.contract import Order
from risk.rules import RuleInputs
from tests.builders import make_order


def rule_inputs(features: dict[str, float] | None = None, fraud_score: float = 0.1, regret_score: float = 0.05,
                model_decision: str = "approve", **order_overrides: Any) -> RuleInputs:
    """RuleInputs of the example order with dotted overrides; features NaN except those given."""
    order = Order.model_validate(make_order(**order_overrides))
    values = [math.nan] * len(FEATURE_NAMES)
    for name, value in (features or {}).items():
        values[FEATURE_NAMES.index(name)] = value
    at_us = int(order.created_at.timestamp() * 1_000_000)
    return RuleInputs(order, values, fraud_score, regret_score, model_decision, at_us)  # type: ignore[arg-type]


def us(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1_000_000)
