"""The bulk load builds exactly the embedded state that loading (and scoring) the orders one by one builds."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from features.clock import DAY
from features.loading import History, load_history
from features.online import OnlineFeatures
from features.replay import _clean
from features.state import EmbeddedState, bulk_load
from risk.contract import unflatten
from risk.datasets import ORDERS, OUTCOMES, normalise
from tests.features.test_loading import contents
from training.simulator import simulate

FRESH = 150  # the newest orders: scored on each state after the load, not loaded


@pytest.fixture(scope="module")
def world() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """200 days of orders with what a real history has and the simulator lacks: busy keys (logs and set logs
    trim), orders of the same instant, outcomes out of order, repeated, late, early, for
    unknown orders, and not labels. Returns (orders to load, their outcomes, fresh orders)."""
    orders, outcomes = simulate(3_000, 200, 8)
    orders, outcomes = normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
    rng = np.random.default_rng(5)
    orders.loc[orders.index[::5], "session_device_id"] = "busy-device"  # ~3 a day: its set logs trim
    orders.loc[orders.index[::6], "buyer_account_id"] = "busy-buyer"  # its 90-day logs trim too
    orders.loc[orders.index[1::9], "created_at"] = orders["created_at"].shift(1).iloc[1::9]  # same instant
    fresh = orders.tail(FRESH)
    orders = orders.iloc[:-FRESH]
    outcomes = outcomes[outcomes["order_id"].isin(set(orders["order_id"]))]
    created = orders.set_index("order_id")["created_at"]
    twin = {"fraud_chargeback": "confirmed_fraud", "confirmed_fraud": "fraud_chargeback", "refund": "dispute",
            "dispute": "refund", "confirmed_legit": "confirmed_legit"}
    again = outcomes.sample(40, random_state=1).assign(kind=lambda f: f["kind"].map(twin))
    again["reported_at"] = again["reported_at"] + pd.to_timedelta(rng.integers(-5, 5, len(again)), unit="D")
    some = orders.sample(6, random_state=2)["order_id"]
    odd = pd.DataFrame({
        "order_id": [*some, "no-such-order"],
        "kind": ["fraud_chargeback", "refund", "confirmed_fraud", "dispute", "refund", "fraud_chargeback",
                 "confirmed_fraud"],
        "reported_at": [created[some.iloc[0]] + pd.Timedelta(days=190),  # past the order's retention
                        created[some.iloc[1]] - pd.Timedelta(hours=1),  # before its order: counts just after it
                        created[some.iloc[2]], created[some.iloc[3]] + pd.Timedelta(days=1),
                        created[some.iloc[4]] + pd.Timedelta(days=2), created[some.iloc[5]] + pd.Timedelta(days=3),
                        created.max()],
        "source": "processor"})
    outcomes = pd.concat([outcomes, again, outcomes.head(10), odd], ignore_index=True)  # head: exact repeats
    shuffled_orders = orders.sample(frac=1.0, random_state=3).reset_index(drop=True)
    shuffled_outcomes = outcomes.sample(frac=1.0, random_state=4).reset_index(drop=True)
    return shuffled_orders, normalise(shuffled_outcomes, OUTCOMES), fresh


def both_ways(orders: pd.DataFrame, outcomes: pd.DataFrame) -> tuple[EmbeddedState, EmbeddedState, tuple, tuple]:
    """(state loaded one order at a time, state built in bulk, their load counts)."""
    history = History.from_frames(orders, outcomes)
    per_order, bulk = EmbeddedState(), EmbeddedState()
    counted_one_by_one = load_history(history, per_order)
    assert bulk_load.can_build(history, bulk)
    counted_in_bulk = load_history(history, bulk, exclusive=True)
    return per_order, bulk, counted_one_by_one, counted_in_bulk


def test_the_bulk_load_builds_the_structures_the_per_order_load_builds(world):
    orders, outcomes, _ = world
    per_order, bulk, counted_one_by_one, counted_in_bulk = both_ways(orders, outcomes)
    assert contents(bulk) == contents(per_order)
    assert counted_in_bulk == counted_one_by_one
    assert counted_in_bulk.skipped > 0  # repeated labels of an order counted once
    # not vacuous: logs and set logs trimmed, outcomes counted for several entities
    assert per_order.logs["orders:buyer:busy-buyer"].base != (0, 0)
    busy_cards = per_order.sets["pairs_card:device:busy-device"]
    assert busy_cards.times[0] > orders["created_at"].min().value // 1000 + 8 * DAY
    assert sum(1 for key in per_order.logs if key.startswith("labels:")) > 100


def test_fresh_orders_score_the_same_on_either_state(world):
    orders, outcomes, fresh = world
    per_order, bulk, _, _ = both_ways(orders, outcomes)
    one_by_one, in_bulk = OnlineFeatures(per_order), OnlineFeatures(bulk)
    known = 0
    for row in fresh.to_dict("records"):
        order = unflatten(_clean(row))
        expected, writes = one_by_one.compute(order)
        got, bulk_writes = in_bulk.compute(order)
        assert [_same(a) for a in got] == [_same(b) for b in expected]
        per_order.apply(writes)
        bulk.apply(bulk_writes)
        known += sum(1 for value in got if value == value and value != 0)
    assert known > FRESH * 10  # history features were read, not all unknown
    assert contents(bulk) == contents(per_order)


def test_loading_again_after_a_bulk_load_skips_everything(world):
    orders, outcomes, _ = world
    history = History.from_frames(orders, outcomes)
    state = EmbeddedState()
    first = load_history(history, state, exclusive=True)
    before = contents(state)
    assert not bulk_load.can_build(history, state)  # no longer empty: the per-order path, which skips
    again = load_history(history, state, exclusive=True)
    assert (again.orders, again.outcomes, again.skipped) == (0, 0, first.orders + first.outcomes + first.skipped)
    assert contents(state) == before


def test_the_bulk_load_applies_only_to_an_empty_embedded_state_with_unique_ids(world, monkeypatch):
    orders, outcomes, _ = world
    history = History.from_frames(orders.head(300), None)
    assert bulk_load.can_build(history, EmbeddedState())
    repeated = History.from_frames(pd.concat([orders.head(300), orders.head(1)]), None)
    assert not bulk_load.can_build(repeated, EmbeddedState())

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("bulk load used by a caller that did not say it holds the state alone")

    monkeypatch.setattr(bulk_load, "build", refuse)
    load_history(history, EmbeddedState())  # not exclusive: one order at a time
    load_history(repeated, EmbeddedState(), exclusive=True)


def test_an_empty_history_builds_an_empty_state():
    empty = History([], [], [], {column: [] for column in History.from_frames(
        normalise(simulate(5, 1, 1)[0], ORDERS), None).entities})
    state = EmbeddedState()
    assert load_history(empty, state, exclusive=True).orders == 0
    assert contents(state) == contents(EmbeddedState())


def _same(value: float) -> object:
    """A feature value comparable with ==, NaN included."""
    return "nan" if isinstance(value, float) and math.isnan(value) else value
