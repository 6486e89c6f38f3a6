"""Labels derived from outcomes, as the contract defines them, at a given moment.

The only rule that matters here: an outcome exists for a consumer standing at `as_of`
iff it was reported at or before `as_of`. Everything else (fraud beats regret, silence
means genuine only once the order is older than the maturity window) follows the
contract's section 2.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from risk.contract import FRAUD_KINDS, REGRET_KINDS

DEFAULT_MATURITY = timedelta(days=60)


def label_known(reported_at: pd.Series | pd.Timestamp, as_of: pd.Timestamp) -> pd.Series | bool:
    """An outcome may be used at `as_of` iff it was reported at or before it."""
    return reported_at <= as_of


def labels_as_of(
    orders: pd.DataFrame,
    outcomes: pd.DataFrame,
    as_of: pd.Timestamp,
    maturity: timedelta = DEFAULT_MATURITY,
) -> pd.DataFrame:
    """Fraud and regret labels of `orders` as they were known at `as_of`.

    Returns one row per order, in the order of `orders`: `order_id`, `fraud` and
    `regret` (nullable Int8: 1, 0, or NA while unknown) and `labelled` (bool).
    An order is labelled when an outcome about it was reported by `as_of`, or when it
    has none and is at least `maturity` old (presumed genuine). Fraud outcomes win
    over regret ones: a fraudster's refund is not a genuine buyer's regret.
    """
    as_of = pd.Timestamp(as_of)
    visible = outcomes[label_known(outcomes["reported_at"], as_of)]
    fraud_ids = visible.loc[visible["kind"].isin(FRAUD_KINDS), "order_id"]
    regret_ids = visible.loc[visible["kind"].isin(REGRET_KINDS), "order_id"]
    order_ids = orders["order_id"]
    is_fraud = order_ids.isin(fraud_ids).to_numpy()
    is_regret = order_ids.isin(regret_ids).to_numpy() & ~is_fraud
    has_outcome = order_ids.isin(visible["order_id"]).to_numpy()
    mature = (orders["created_at"] <= as_of - maturity).to_numpy()
    labelled = has_outcome | mature
    return pd.DataFrame(
        {
            "order_id": order_ids.to_numpy(),
            "fraud": _masked(is_fraud, labelled),
            "regret": _masked(is_regret, labelled),
            "labelled": labelled,
        }
    )


def _masked(values: np.ndarray, known: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(values.astype("int8"), ~known)
