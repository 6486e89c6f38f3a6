"""Batch features of edge-case data sets."""

from __future__ import annotations

import pandas as pd

from features.batch import compute_features
from features.catalog import FEATURE_NAMES
from risk.contract import Order, flatten
from risk.datasets import ORDERS, OUTCOMES, normalise
from tests.builders import make_order


def no_orders() -> pd.DataFrame:
    return normalise(pd.DataFrame([flatten(Order.model_validate(make_order()))]), ORDERS).iloc[:0]


def test_no_orders_give_an_empty_table_with_every_feature_column():
    features = compute_features(no_orders())
    assert list(features.columns) == ["order_id", *FEATURE_NAMES]
    assert len(features) == 0


def test_no_orders_with_outcomes_of_unknown_orders_give_an_empty_table():
    outcomes = normalise(pd.DataFrame({"order_id": ["gone"], "kind": ["fraud_chargeback"],
                                       "reported_at": [pd.Timestamp("2026-01-02", tz="UTC")], "source": ["processor"]}),
                         OUTCOMES)
    features = compute_features(no_orders(), outcomes)
    assert list(features.columns) == ["order_id", *FEATURE_NAMES] and len(features) == 0
