"""The independent world (bench/world2): deterministic, contract-valid, causal in time, and an informative oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from bench.world2 import draw_world, generate
from bench.world2.baseline import distinct_so_far, prior_counts, simple_features
from risk.contract import FRAUD_KINDS, ORDER_COLUMNS, REGRET_KINDS
from risk.datasets import read_orders, read_outcomes, write_orders, write_outcomes


@pytest.fixture(scope="module")
def small_world():
    return generate(11, 30_000, 60)


def test_one_seed_gives_the_same_world_and_another_seed_a_different_one():
    first, again, other = generate(5, 3_000, 15), generate(5, 3_000, 15), generate(6, 3_000, 15)
    pd.testing.assert_frame_equal(first.orders, again.orders)
    pd.testing.assert_frame_equal(first.outcomes, again.outcomes)
    pd.testing.assert_frame_equal(first.truth, again.truth)
    assert draw_world(5) != draw_world(6)
    assert not first.orders["order_id"].isin(other.orders["order_id"]).any()


def test_the_world_is_contract_data_the_project_reads_back(small_world, tmp_path):
    assert list(small_world.orders.columns) == list(ORDER_COLUMNS)
    for suffix in ("parquet", "csv"):
        write_orders(small_world.orders, tmp_path / f"orders.{suffix}")
        write_outcomes(small_world.outcomes, tmp_path / f"outcomes.{suffix}")
        orders, outcomes = read_orders(tmp_path / f"orders.{suffix}"), read_outcomes(tmp_path / f"outcomes.{suffix}")
        assert len(orders) == len(small_world.orders) and len(outcomes) == len(small_world.outcomes)
        assert orders["order_id"].is_unique and outcomes["order_id"].isin(orders["order_id"]).all()
    assert "p_fraud" not in orders and "p_fraud" not in outcomes  # the truth stays in its side table


def test_every_outcome_is_reported_after_its_order(small_world):
    created = small_world.orders.set_index("order_id")["created_at"]
    outcomes = small_world.outcomes
    delay = outcomes["reported_at"] - created.loc[outcomes["order_id"]].reset_index(drop=True)
    assert (delay > pd.Timedelta(0)).all()
    delay = delay.dt.days
    kind = outcomes["kind"]
    assert delay[kind == "refund"].median() < delay[kind == "fraud_chargeback"].median()
    assert delay[kind == "fraud_chargeback"].max() > 60  # a long tail, beyond any short history


def test_what_an_order_refers_to_existed_before_it(small_world):
    orders = small_world.orders
    created = orders["created_at"]
    for column in ("buyer_created_at", "seller_created_at", "post_created_at", "session_post_viewed_at"):
        assert not (orders[column] > created).any(), column
    assert not (orders["session_post_viewed_at"] < orders["post_created_at"]).any()


def test_rates_are_those_of_a_social_commerce_platform(small_world):
    fate = small_world.truth["fate"]
    assert 0.003 < (fate == "fraud").mean() < 0.02
    assert 0.02 < (fate == "regret").mean() < 0.07
    assert set(small_world.truth["pattern"]) >= {"genuine", "account_takeover", "stolen_cards", "card_testing",
                                                 "ring"}


def test_the_generators_probabilities_are_informative_about_what_is_reported(small_world):
    ids = small_world.truth["order_id"]
    outcomes = small_world.outcomes
    fraud = ids.isin(outcomes.loc[outcomes["kind"].isin(FRAUD_KINDS), "order_id"])
    regret = ids.isin(outcomes.loc[outcomes["kind"].isin(REGRET_KINDS), "order_id"]) & ~fraud
    assert roc_auc_score(fraud, small_world.truth["p_fraud"]) > 0.85
    assert roc_auc_score(regret, small_world.truth["p_regret"]) > 0.7
    # calibrated: the expected count of each fate is what happened, within sampling noise
    for risk, y in (("fraud", fraud), ("regret", regret)):
        expected = small_world.truth[f"p_{risk}"].sum()
        assert abs(y.sum() - expected) < 4 * np.sqrt(expected)


def test_plain_counts_see_only_earlier_orders():
    key = np.array([0, 0, 1, 0, -1, 0])
    seconds = np.array([0, 10, 10, 3_700, 5, 3_700])
    np.testing.assert_array_equal(prior_counts(key, seconds, 3_600), [0, 1, 0, 0, np.nan, 1])
    np.testing.assert_array_equal(prior_counts(key, seconds, None), [0, 1, 0, 2, np.nan, 3])
    np.testing.assert_array_equal(distinct_so_far(key, np.array([5, 6, 5, 5, 1, 7]), seconds), [1, 2, 1, 2, np.nan, 3])


def test_plain_features_of_an_order_do_not_change_when_later_orders_are_added(small_world):
    orders = small_world.orders
    cut = len(orders) // 2
    whole, head = simple_features(orders), simple_features(orders.iloc[:cut].reset_index(drop=True))
    pd.testing.assert_frame_equal(whole.iloc[:cut].reset_index(drop=True), head)
