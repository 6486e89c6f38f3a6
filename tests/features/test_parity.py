"""Online and batch give the same value for every feature of every order of a replayed data set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.batch import compute_features
from features.online import OnlineFeatures
from features.replay import replay
from features.state import EmbeddedState
from risk.datasets import ORDERS, OUTCOMES, normalise
from training.simulator import simulate


@pytest.fixture(scope="module")
def simulated() -> tuple[pd.DataFrame, pd.DataFrame]:
    orders, outcomes = simulate(20_000, 30, 11)
    return normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)


def assert_same_features(batch: pd.DataFrame, online: pd.DataFrame) -> None:
    assert list(batch["order_id"]) == list(online["order_id"])
    b = batch.drop(columns="order_id").to_numpy()
    o = online.drop(columns="order_id").to_numpy()
    same = np.isclose(b, o, rtol=1e-9, atol=0.0) | (np.isnan(b) & np.isnan(o))
    if not same.all():
        rows, cols = np.nonzero(~same)
        names = batch.columns[1:]
        pairs = zip(rows[:5], cols[:5], strict=True)
        examples = [(batch["order_id"].iat[r], names[c], b[r, c], o[r, c]) for r, c in pairs]
        pytest.fail(f"{len(rows)} values differ, e.g. (order, feature, batch, online): {examples}")


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
