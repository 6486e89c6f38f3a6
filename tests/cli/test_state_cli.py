"""`risk state load|rebuild`: the service's feature state filled from a data set or from the decision log."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cli.main import main
from features.loading import History, load_history
from features.online import OnlineFeatures, to_us
from features.state import EmbeddedState
from risk.contract import Order, Outcome
from risk.datasets import ORDERS, OUTCOMES, normalise
from serve.decision_log import SQLiteDecisionLog
from tests.features.test_loading import contents
from tests.serve.servers import T0, card_order
from training.simulator import simulate


@pytest.fixture(scope="module")
def data_set(tmp_path_factory) -> tuple[Path, Path, pd.DataFrame, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("data")
    orders, outcomes = simulate(3_000, 40, 2)
    orders, outcomes = normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
    orders.to_parquet(folder / "orders.parquet", index=False)
    outcomes.to_parquet(folder / "outcomes.parquet", index=False)
    return folder / "orders.parquet", folder / "outcomes.parquet", orders, outcomes


def test_load_writes_the_snapshot_the_service_restores(data_set, tmp_path, capsys):
    orders_path, outcomes_path, orders, outcomes = data_set
    args = ["state", "load", "--orders", str(orders_path), "--outcomes", str(outcomes_path),
            "--data-dir", str(tmp_path)]
    assert main(args) == 0
    assert "done: 3,000 orders" in capsys.readouterr().err
    expected = EmbeddedState()
    load_history(History.from_frames(orders, outcomes), expected)
    assert expected.expire() > 0  # 40 days: set logs of keys not seen in the last 8 days are forgotten
    assert contents(EmbeddedState.load(tmp_path / "state.pkl")) == contents(expected)
    assert main(args) == 0  # again: everything already held, nothing changes
    assert "0 orders and 0 outcomes written" in capsys.readouterr().err
    assert contents(EmbeddedState.load(tmp_path / "state.pkl")) == contents(expected)


def test_rebuild_refills_the_state_from_the_decision_log(tmp_path, capsys):
    """The log holds 40 scored orders (recorded out of time order) and an outcome; the rebuilt state is
    the one scoring them in time order built."""
    orders = [Order.model_validate(card_order(f"b{i}", minute=i, card=f"card-{i % 3}")) for i in range(40)]
    outcome = Outcome(order_id="b5", kind="fraud_chargeback", reported_at=T0.replace(hour=20))
    with SQLiteDecisionLog(tmp_path / "decisions.sqlite") as log:
        for order in reversed(orders):
            log.record(order.order_id, "hash", order.created_at, order.model_dump(mode="json"), None,
                       {"decision": "approve"}, "v1")
        log.record_outcomes([outcome])
    expected = EmbeddedState()
    online = OnlineFeatures(expected)
    for order in orders:
        expected.apply(online.compute(order)[1])
    expected.apply(online.outcome_writes("b5", outcome.kind, to_us(outcome.reported_at)))
    assert main(["state", "rebuild", "--data-dir", str(tmp_path)]) == 0
    assert "done: 40 orders and 1 outcomes written" in capsys.readouterr().err
    assert contents(EmbeddedState.load(tmp_path / "state.pkl")) == contents(expected)
    assert len(expected.labelled) == 1


def test_a_missing_data_set_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["state", "load", "--orders", str(tmp_path / "nope.parquet"), "--data-dir", str(tmp_path)]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("risk: error: ")]
    assert len(errors) == 1 and "nope.parquet" in errors[0]
