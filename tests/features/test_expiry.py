"""Expiry forgets the history no read can see any more, and no feature changes because of it."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from features.loading import History, load_history
from features.online import OnlineFeatures
from features.replay import _clean
from features.state import EmbeddedState
from features.state.expiry import expire
from risk.contract import unflatten
from risk.datasets import ORDERS, OUTCOMES, normalise
from tests.features.test_loading import contents
from training.simulator import simulate

FRESH = 60


@pytest.fixture(scope="module")
def world() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """200 days of orders; a card and a device used on the first day only (their fraud reported), and
    again by some of the fresh orders scored afterwards. Returns (orders, outcomes, fresh orders)."""
    orders, outcomes = simulate(2_000, 200, 3)
    orders, outcomes = normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
    early = orders.index[:4]
    orders.loc[early, "payment_card_fingerprint"] = "quiet-card"
    orders.loc[early, "session_device_id"] = "quiet-device"
    reported = orders.loc[early[0], "created_at"] + pd.Timedelta(days=2)
    outcomes = pd.concat([outcomes, pd.DataFrame({"order_id": [orders.loc[early[0], "order_id"]],
                                                  "kind": ["fraud_chargeback"], "reported_at": [reported],
                                                  "source": ["processor"]})], ignore_index=True)
    fresh = orders.tail(FRESH).copy()
    fresh.loc[fresh.index[::3], "payment_card_fingerprint"] = "quiet-card"
    fresh.loc[fresh.index[1::3], "session_device_id"] = "quiet-device"
    orders = orders.iloc[:-FRESH]
    return orders, normalise(outcomes[outcomes["order_id"].isin(set(orders["order_id"]))], OUTCOMES), fresh


def loaded(orders: pd.DataFrame, outcomes: pd.DataFrame) -> EmbeddedState:
    state = EmbeddedState()
    load_history(History.from_frames(orders, outcomes), state)
    return state


def test_history_older_than_the_longest_window_is_forgotten(world):
    orders, outcomes, _ = world
    state = loaded(orders, outcomes)
    first_order = orders["order_id"].iloc[0]
    old_keys = ["orders:card:quiet-card", "labels:card:quiet-card", "orders:device:quiet-device"]
    assert all(key in state.logs for key in old_keys)
    assert "pairs_card:device:quiet-device" in state.sets and (first_order, 0) in state.labelled
    recent_logs = {key for key, log in state.logs.items() if log.times[-1] > state.newest_us - 30 * 86_400_000_000}
    expired = expire(state)
    assert expired.orders > 0 and expired.logs > 0 and expired.sets > 0
    assert not any(key in state.logs for key in old_keys)
    assert "pairs_card:device:quiet-device" not in state.sets
    assert first_order not in state.orders and (first_order, 0) not in state.labelled
    assert "seen:card:quiet-card" in state.seen_at  # first sightings have no window: they stay
    assert recent_logs <= set(state.logs)  # what a window can still see stays
    assert expire(state).total == 0  # nothing more to forget until time moves on


def test_features_do_not_change_when_history_is_forgotten(world):
    orders, outcomes, fresh = world
    kept, expired = loaded(orders, outcomes), loaded(orders, outcomes)
    assert expired.expire() > 0
    on_kept, on_expired = OnlineFeatures(kept), OnlineFeatures(expired)
    for row in fresh.to_dict("records"):
        order = unflatten(_clean(row))
        expected, writes = on_kept.compute(order)
        got, expired_writes = on_expired.compute(order)
        assert [_same(value) for value in got] == [_same(value) for value in expected]
        kept.apply(writes)
        expired.apply(expired_writes)
    # the quiet card was read: first seen long ago, though its velocity logs are gone
    assert kept.seen_at["seen:card:quiet-card"][1] > orders["created_at"].max().value // 1000


def test_expiring_an_empty_state_forgets_nothing():
    state = EmbeddedState()
    assert state.expire() == 0
    assert contents(state) == contents(EmbeddedState())


def _same(value: float) -> object:
    return "nan" if isinstance(value, float) and math.isnan(value) else value
