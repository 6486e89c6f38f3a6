"""Online and batch give the same value for every feature of every order of a replayed data set."""

from __future__ import annotations

import pandas as pd
import pytest

from features.batch import compute_features
from features.online import OnlineFeatures
from features.replay import replay
from features.state import EmbeddedState
from risk.datasets import ORDERS, OUTCOMES, normalise
from tests.features.parity import assert_same_features
from training.simulator import simulate


@pytest.fixture(scope="module")
def simulated() -> tuple[pd.DataFrame, pd.DataFrame]:
    orders, outcomes = simulate(20_000, 30, 11)
    return normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)


@pytest.mark.slow
def test_online_embedded_equals_batch_on_every_order(simulated):
    orders, outcomes = simulated
    assert len(orders) >= 20_000 and outcomes["kind"].isin(["fraud_chargeback", "refund"]).any()
    batch = compute_features(orders, outcomes)
    online = replay(orders, outcomes, OnlineFeatures(EmbeddedState()))
    assert_same_features(batch, online)
    # the comparison is not vacuous: history features carry signal on this data
    assert (batch["order_count_by_card_24h"] > 0).mean() > 0.05
    assert (batch["fraud_reports_by_seller_90d"] > 0).any()


@pytest.mark.slow
def test_snapshot_and_reload_lose_nothing(simulated, tmp_path):
    orders, outcomes = simulated
    half = len(orders) // 2
    first, second = orders.iloc[:half], orders.iloc[half:]
    state = EmbeddedState()
    early_outcomes = outcomes[outcomes["reported_at"] < second["created_at"].min()]
    replay(first, early_outcomes, OnlineFeatures(state))
    state.snapshot(tmp_path / "state.pkl")
    restored = EmbeddedState.load(tmp_path / "state.pkl")
    continued = replay(second, None, OnlineFeatures(restored))
    uninterrupted = replay(second, None, OnlineFeatures(state))
    assert_same_features(continued, uninterrupted)
