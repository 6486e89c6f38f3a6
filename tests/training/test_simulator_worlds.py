"""Varied worlds: parameters drawn per seed, and each drawn effect visible in the data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from risk.contract import FRAUD_KINDS, ORDER_COLUMNS
from training.simulator import run_simulation, simulate
from training.simulator.params import Delay, WorldParams, varied_params, world_params

N, DAYS = 30_000, 60


def test_varied_worlds_differ_between_seeds_and_repeat_for_one():
    assert varied_params(1) == varied_params(1)
    assert varied_params(1) != varied_params(2)
    first, again = simulate(5_000, 10, 3, world="varied"), simulate(5_000, 10, 3, world="varied")
    pd.testing.assert_frame_equal(first[0], again[0])
    pd.testing.assert_frame_equal(first[1], again[1])


def test_the_fixed_world_is_the_default_and_an_unknown_world_is_refused():
    assert world_params("fixed", 4) == WorldParams()
    with pytest.raises(ValueError, match="fixed, varied"):
        world_params("moon", 4)


def test_a_varied_world_keeps_the_contract_layout_and_its_drawn_fraud_share():
    params = varied_params(5)
    simulation = run_simulation(N, DAYS, 5, world="varied")
    assert list(simulation.orders.columns) == list(ORDER_COLUMNS)
    assert simulation.orders["created_at"].is_monotonic_increasing
    assert simulation.truth["is_fraud"].mean() == pytest.approx(params.fraud_share, rel=0.05)


def world(**changes) -> WorldParams:
    return WorldParams(**{"fraud_share": 0.02, **changes})


def test_friendly_fraud_reports_genuine_regret_as_fraud_chargebacks():
    simulation = run_simulation(N, DAYS, 6, world=world(friendly_fraud=0.5))
    fraud_reports = simulation.outcomes[simulation.outcomes["kind"].isin(FRAUD_KINDS)]
    truth = simulation.truth.set_index("order_id")
    reported_genuine = ~truth.loc[fraud_reports["order_id"], "is_fraud"].to_numpy()
    regretted = truth.loc[fraud_reports["order_id"], "is_regret"].to_numpy()
    assert reported_genuine.mean() > 0.3
    assert regretted[reported_genuine].all()


def test_fraud_drift_moves_fraud_towards_the_end_of_the_window():
    simulation = run_simulation(N, DAYS, 7, world=world(fraud_drift=0.8))
    created = simulation.orders["created_at"]
    late = (created >= created.min() + pd.Timedelta(days=DAYS / 2)).to_numpy()
    fraud = simulation.truth["is_fraud"].to_numpy()
    assert fraud[late].mean() > 1.8 * fraud[~late].mean()


def test_log_normal_delays_have_the_drawn_median():
    delays = {**WorldParams().delays, "refund": Delay("lognormal", 6.0, 0.5)}
    simulation = run_simulation(N, DAYS, 8, world=world(delays=delays))
    refunds = simulation.outcomes[simulation.outcomes["kind"] == "refund"]
    created = simulation.orders.set_index("order_id")["created_at"].reindex(refunds["order_id"])
    days = (refunds["reported_at"].to_numpy() - created.to_numpy()) / np.timedelta64(1, "D")
    assert np.median(days) == pytest.approx(6.0, rel=0.08)


def test_field_noise_drops_devices():
    clean = simulate(N, DAYS, 9, world=world())[0]["session_device_id"].isna().mean()
    noisy = simulate(N, DAYS, 9, world=world(field_noise=0.2))[0]["session_device_id"].isna().mean()
    assert noisy > clean + 0.15
