"""A batch table for rules from the usual frames: orders, their features, and the model's scores."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from features.clock import to_us
from risk.rules.attributes import ATTRIBUTES, MODEL_DECISION, SCORES
from risk.rules.batch import convert


def build_table(orders: pd.DataFrame, features: pd.DataFrame | None = None, scores: pd.DataFrame | None = None
                ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(columns by attribute, at_us) for `RuleSet.evaluate_batch` and `backtest`.

    `orders` in the contract's flat layout; `features` one row per order in the same
    order (as features.batch.compute_features returns them); `scores` with
    fraud_score, regret_score and model_decision, also row-aligned. An order column
    wins over a feature of the same name (`post_category` is the text, not its code).
    Columns are converted once here (times to float seconds, strings with None).
    """
    table: dict[str, np.ndarray] = {}
    frames: list[pd.DataFrame] = [orders] + [f for f in (features, scores) if f is not None]
    for frame in frames:
        if len(frame) != len(orders):
            raise ValueError(f"frames are not row-aligned: {len(frame)} rows vs {len(orders)} orders")
        for column in frame.columns:
            attribute = ATTRIBUTES.get(column)
            if attribute is None or column in table:
                continue
            values: Any = frame[column].reset_index(drop=True)
            table[column] = convert(values, attribute.type)
    if scores is not None and MODEL_DECISION in scores:
        table[MODEL_DECISION] = scores[MODEL_DECISION].to_numpy(dtype=object)
    missing = [name for name in (*SCORES, MODEL_DECISION) if scores is not None and name not in table]
    if missing:
        raise ValueError(f"scores frame lacks {', '.join(missing)}")
    return table, to_us(orders["created_at"].reset_index(drop=True))
