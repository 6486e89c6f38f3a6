"""Evaluation metrics on hand-made cases with known values, and on a small simulated world."""

from __future__ import annotations

import json
import math
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from risk.datasets import ORDERS, OUTCOMES, normalise
from risk.errors import DataError, InvalidInput
from risk.policy import Costs
from training.evaluate import (
    Evaluation,
    compare,
    cost_by_fraud_threshold,
    evaluate,
    json_ready,
    read_predictions,
    recall_at_fpr,
    reliability_table,
    summary_table,
)
from training.simulator import run_simulation

START = pd.Timestamp("2026-01-05T10:00:00Z")  # a Monday
AS_OF = START + timedelta(days=90)  # every order mature


def make_case(rows: list[dict], outcomes: list[dict] | None = None) -> tuple[pd.DataFrame, ...]:
    """Predictions, orders and outcomes from rows of (id, day, amount, fraud, regret, decision, scores).

    Each row may give: day (offset from START), amount, currency, fraud / regret (an outcome reported
    one day after the order), fraud_score, regret_score, decision.
    """
    ids = [f"o{i}" for i in range(len(rows))]
    created = [START + timedelta(days=r.get("day", 0), minutes=i) for i, r in enumerate(rows)]
    orders = pd.DataFrame({"order_id": ids, "created_at": pd.DatetimeIndex(created),
                           "amount": [r.get("amount", 1000) for r in rows],
                           "currency": [r.get("currency", "USD") for r in rows]})
    predictions = pd.DataFrame({
        "order_id": ids,
        "fraud_score": [r.get("fraud_score", 0.01) for r in rows],
        "regret_score": [r.get("regret_score", 0.02) for r in rows],
        "decision": [r.get("decision", "approve") for r in rows],
    })
    reported = list(outcomes or [])
    for order_id, at, row in zip(ids, created, rows, strict=True):
        for risk, kind in (("fraud", "fraud_chargeback"), ("regret", "refund")):
            if row.get(risk):
                reported.append({"order_id": order_id, "kind": kind, "reported_at": at + timedelta(days=1)})
    outcome_frame = pd.DataFrame(reported, columns=["order_id", "kind", "reported_at"])
    outcome_frame["reported_at"] = pd.to_datetime(outcome_frame["reported_at"], utc=True)
    return predictions, orders, outcome_frame


def run_case(rows: list[dict], outcomes: list[dict] | None = None, **kwargs) -> Evaluation:
    predictions, orders, outcome_frame = make_case(rows, outcomes)
    return evaluate(predictions, orders, outcome_frame, as_of=kwargs.pop("as_of", AS_OF), **kwargs)


# Ranking metrics


def test_perfect_ranking_gives_auc_ap_and_recall_of_one() -> None:
    rows = [{"fraud": i < 5, "fraud_score": 0.9 if i < 5 else 0.1 + i / 1000} for i in range(200)]
    fraud = run_case(rows).metrics["fraud"]
    assert (fraud["n"], fraud["positives"]) == (200, 5)
    assert fraud["roc_auc"] == 1.0 and fraud["average_precision"] == 1.0
    assert fraud["recall_at_fpr_0.001"] == 1.0 and fraud["recall_at_fpr_0.01"] == 1.0


def test_reversed_ranking_gives_auc_zero() -> None:
    rows = [{"fraud": i < 5, "fraud_score": 0.1 if i < 5 else 0.9} for i in range(50)]
    assert run_case(rows).metrics["fraud"]["roc_auc"] == 0.0


def test_recall_at_fpr_counts_positives_above_the_allowed_share_of_negatives() -> None:
    # 1000 negatives at 0.000..0.999; 4 positives above all, 3 just below the top 5 negatives, 3 low.
    negatives = np.arange(1000) / 1000
    positives = np.array([2.0] * 4 + [0.9945] * 3 + [0.5] * 3)
    y = np.concatenate([np.zeros(1000, bool), np.ones(10, bool)])
    recall = recall_at_fpr(y, np.concatenate([negatives, positives]))
    assert recall["recall_at_fpr_0.001"] == pytest.approx(0.4)  # one negative allowed: only the top 4
    assert recall["recall_at_fpr_0.01"] == pytest.approx(0.7)  # ten allowed: five negatives sit above 3 more


def test_recall_at_fpr_does_not_split_a_tie_between_positive_and_negatives() -> None:
    y = np.array([True] + [False] * 999)
    assert recall_at_fpr(y, np.full(1000, 0.5))["recall_at_fpr_0.01"] == 0.0


def test_precision_at_capacity_takes_the_top_of_each_day_not_of_the_whole_period() -> None:
    # day 0: 0.9 fraud, 0.8, 0.7, 0.6 genuine; day 1: 0.3, 0.2 fraud, 0.1 genuine; capacity 2 a day.
    day0 = [{"day": 0, "fraud_score": s, "fraud": s == 0.9} for s in (0.9, 0.8, 0.7, 0.6)]
    day1 = [{"day": 1, "fraud_score": s, "fraud": s > 0.15} for s in (0.3, 0.2, 0.1)]
    fraud = run_case(day0 + day1, costs=Costs(review_capacity_per_day=2)).metrics["fraud"]
    assert fraud["flagged_at_capacity"] == 4
    assert fraud["precision_at_capacity"] == pytest.approx(3 / 4)  # the global top 4 would give 1/4
    assert fraud["recall_at_capacity"] == pytest.approx(1.0)


def test_brier_score_is_the_mean_squared_error_of_the_probabilities() -> None:
    rows = [{"fraud": True, "fraud_score": 0.8}, {"fraud_score": 0.2}, {"fraud_score": 0.0}]
    expected = (0.2**2 + 0.2**2 + 0.0) / 3
    assert run_case(rows).metrics["fraud"]["brier"] == pytest.approx(expected)


def test_a_risk_without_positives_gives_nan_ranking_metrics_and_null_json() -> None:
    evaluation = run_case([{"fraud": i == 0, "fraud_score": 0.5 if i == 0 else 0.1} for i in range(20)])
    regret = evaluation.metrics["regret"]
    assert regret["positives"] == 0
    for key in ("roc_auc", "average_precision", "recall_at_fpr_0.01", "precision_at_capacity"):
        assert math.isnan(regret[key]), key
    assert regret["brier"] == pytest.approx(0.02**2)
    assert json.loads(evaluation.to_json())["regret"]["roc_auc"] is None
    assert "n/a" in summary_table(evaluation)


# Calibration


def test_reliability_table_has_ten_equal_count_bins_of_predicted_vs_observed() -> None:
    score = np.linspace(0, 1, 100)
    y = score >= 0.9
    table = reliability_table(y, score)
    assert len(table) == 10 and table["count"].tolist() == [10] * 10
    assert table["mean_predicted"].iloc[0] == pytest.approx(score[:10].mean())
    assert table["observed_rate"].tolist() == [0.0] * 9 + [1.0]


# Labels at as_of


def test_outcomes_reported_after_as_of_are_not_used() -> None:
    as_of = START + timedelta(days=30)
    late = [{"order_id": "o0", "kind": "fraud_chargeback", "reported_at": as_of + timedelta(seconds=1)}]
    rows = [{"day": -61}, {"day": -61, "fraud": True}, {"day": 0}]
    # o0 is mature: its late chargeback is unknown, so it counts as genuine; o2 is young and silent.
    evaluation = run_case(rows, outcomes=late, as_of=as_of)
    assert evaluation.metrics["fraud"]["positives"] == 1
    assert evaluation.metrics["data"]["n_labelled"] == 2
    assert evaluation.metrics["data"]["n_unlabelled"] == 1
    assert list(evaluation.labels["fraud"]) == [False, True]


def test_as_of_defaults_to_the_latest_report() -> None:
    rows = [{"day": 0, "fraud": True}, {"day": 3, "regret": True}, {"day": 5}]
    predictions, orders, outcomes = make_case(rows)
    evaluation = evaluate(predictions, orders, outcomes)
    assert evaluation.as_of == outcomes["reported_at"].max()
    assert evaluation.metrics["data"]["n_labelled"] == 2  # the silent order is not 60 days old


def test_a_shorter_maturity_labels_silent_orders_earlier() -> None:
    rows = [{"day": 0, "fraud": True}, {"day": 0}]
    predictions, orders, outcomes = make_case(rows)
    evaluation = evaluate(predictions, orders, outcomes, maturity=timedelta(hours=1))
    assert evaluation.metrics["data"]["n_labelled"] == 2


def test_no_labelled_order_is_a_data_error() -> None:
    with pytest.raises(DataError, match="no prediction has a known label"):
        run_case([{"day": 0}], as_of=START + timedelta(days=1))


def test_a_naive_as_of_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="no timezone"):
        run_case([{"day": 0}], as_of=pd.Timestamp("2026-06-01T00:00:00"))


# Bad input


def test_unknown_order_ids_are_a_data_error_naming_count_and_example() -> None:
    predictions, orders, outcomes = make_case([{}, {}, {}])
    predictions.loc[[0, 2], "order_id"] = ["ghost-1", "ghost-2"]
    with pytest.raises(DataError, match=r"2 order_id\(s\) not in the orders table, e.g. 'ghost-1'"):
        evaluate(predictions, orders, outcomes, as_of=AS_OF)


def test_missing_prediction_columns_are_a_data_error() -> None:
    predictions, orders, outcomes = make_case([{}])
    with pytest.raises(DataError, match="missing column\\(s\\) regret_score, decision"):
        evaluate(predictions.drop(columns=["regret_score", "decision"]), orders, outcomes, as_of=AS_OF)


def test_missing_order_columns_are_a_data_error() -> None:
    predictions, orders, outcomes = make_case([{}])
    with pytest.raises(DataError, match="orders: missing column\\(s\\) amount"):
        evaluate(predictions, orders.drop(columns=["amount"]), outcomes, as_of=AS_OF)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("decision", "maybe", "not approve, review or decline, e.g. 'maybe'"),
        ("fraud_score", 1.5, "a score must be a probability in 0..1"),
        ("regret_score", None, "a score must be a probability in 0..1"),
        ("order_id", "o1", "1 repeated order_id"),
    ],
)
def test_invalid_predictions_are_a_data_error(column: str, value: object, message: str) -> None:
    predictions, orders, outcomes = make_case([{}, {}])
    predictions[column] = predictions[column].astype(object)
    predictions.loc[0, column] = value
    with pytest.raises(DataError, match=message):
        evaluate(predictions, orders, outcomes, as_of=AS_OF)


def test_read_predictions_reads_csv_and_names_a_missing_file_or_column(tmp_path) -> None:
    predictions, _, _ = make_case([{"decision": "review"}, {}])
    predictions.to_csv(tmp_path / "p.csv", index=False)
    assert read_predictions(tmp_path / "p.csv")["decision"].tolist() == ["review", "approve"]
    with pytest.raises(DataError, match="no such file"):
        read_predictions(tmp_path / "absent.parquet")
    predictions.drop(columns=["fraud_score"]).to_parquet(tmp_path / "q.parquet")
    with pytest.raises(DataError, match="q.parquet: missing column\\(s\\) fraud_score"):
        read_predictions(tmp_path / "q.parquet")


# The policy


def test_policy_cost_of_a_tiny_case_matches_a_hand_computation() -> None:
    rows = [
        {"amount": 10_000, "fraud": True, "decision": "approve"},  # 10000 + 1500 fee
        {"amount": 20_000, "decision": "decline"},  # lost margin 0.15 * 20000
        {"amount": 5_000, "regret": True, "decision": "review"},  # 300 + 800 * (1 - 0.3)
        {"amount": 4_000, "fraud": True, "decision": "decline"},  # nothing
    ]
    policy = run_case(rows).metrics["policy"]
    assert policy["total_cost"] == pytest.approx(11_500 + 3_000 + 860 + 0)
    assert policy["cost_per_order"] == pytest.approx(15_360 / 4)
    assert policy["approve_all_cost"] == pytest.approx(11_500 + 0 + 800 + 5_500)
    assert policy["saving"] == pytest.approx(17_800 - 15_360)
    assert policy["rates"] == {"approve": 0.25, "review": 0.25, "decline": 0.5}
    assert policy["fraud_stopped_rate"] == 0.5 and policy["genuine_declined_rate"] == 0.5


def test_reviews_per_day_count_every_prediction_against_capacity() -> None:
    rows = [{"day": 0, "decision": "review"}] * 3 + [{"day": 1, "decision": "review"}, {"day": 1}]
    rows += [{"day": 70, "decision": "review"}]  # not labelled yet, but still work for analysts
    policy = run_case(rows, costs=Costs(review_capacity_per_day=2)).metrics["policy"]
    assert policy["reviews_per_day_mean"] == pytest.approx(5 / 3)
    assert policy["reviews_per_day_max"] == 3.0
    assert policy["days_over_capacity"] == 1


def test_cost_by_fraud_threshold_spans_approve_all_to_decline_all() -> None:
    rows = [{"amount": 10_000, "fraud": True, "fraud_score": 0.9}, {"amount": 20_000, "fraud_score": 0.1}]
    curve = cost_by_fraud_threshold(run_case(rows), np.array([1.0, 0.5, 0.1]))
    assert curve["declined"].tolist() == [0, 1, 2]
    assert curve["total_cost"].tolist() == pytest.approx([11_500, 0, 3_000])


# Over time and side by side


def test_per_week_groups_by_iso_week() -> None:
    rows = [{"day": d, "fraud": d == 1, "fraud_score": 0.9 if d == 1 else 0.1} for d in (0, 1, 2, 7, 8)]
    weeks = run_case(rows).per_week
    assert weeks["week"].tolist() == ["2026-W02", "2026-W03"]
    assert weeks["n"].tolist() == [3, 2]
    assert weeks["fraud_positives"].tolist() == [1, 0]
    assert weeks["fraud_auc"].iloc[0] == 1.0 and math.isnan(weeks["fraud_auc"].iloc[1])


def test_compare_puts_metrics_side_by_side_with_deltas() -> None:
    good = [{"fraud": i < 2, "fraud_score": 0.9 if i < 2 else 0.1} for i in range(10)]
    bad = [dict(row, fraud_score=0.1 if row["fraud"] else 0.9) for row in good]
    table = compare(run_case(good), run_case(bad))
    assert list(table.columns) == ["ours", "baseline", "delta"]
    assert table.loc["fraud.roc_auc"].tolist() == [1.0, 0.0, 1.0]
    assert not any(name.startswith("costs.") for name in table.index)
    assert "fraud ROC AUC" in summary_table(run_case(good), run_case(bad))


def test_metrics_are_plain_python_and_strict_json() -> None:
    evaluation = run_case([{"fraud": i == 0, "regret": i == 1, "fraud_score": i / 10} for i in range(10)])

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        else:
            assert type(value) in (int, float, str), (value, type(value))

    walk(evaluation.metrics)
    json.dumps(json_ready(evaluation.metrics), allow_nan=False)


# A realistic world


@pytest.fixture(scope="module")
def simulated() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    simulation = run_simulation(3000, 20, 13)
    orders = normalise(simulation.orders, ORDERS)
    outcomes = normalise(simulation.outcomes, OUTCOMES)
    rng = np.random.default_rng(1)
    truth = simulation.truth
    fraud = np.clip(0.005 + 0.6 * truth["is_fraud"].to_numpy() * rng.random(len(orders)), 0, 1)
    regret = np.clip(0.03 + 0.3 * truth["is_regret"].to_numpy() * rng.random(len(orders)), 0, 1)
    decision = np.where(fraud > 0.3, "decline", np.where(regret > 0.2, "review", "approve"))
    predictions = pd.DataFrame({"order_id": orders["order_id"], "fraud_score": fraud, "regret_score": regret,
                                "decision": decision})
    return predictions, orders, outcomes


def test_informative_scores_beat_random_ones_on_a_simulated_world(simulated) -> None:
    predictions, orders, outcomes = simulated
    ours = evaluate(predictions, orders, outcomes)
    noise = predictions.assign(fraud_score=np.random.default_rng(2).random(len(predictions)), decision="approve")
    baseline = evaluate(noise, orders, outcomes, as_of=ours.as_of)
    assert ours.metrics["fraud"]["positives"] > 0 and ours.metrics["regret"]["positives"] > 0
    assert ours.metrics["fraud"]["roc_auc"] > 0.9 > baseline.metrics["fraud"]["roc_auc"]
    assert ours.metrics["policy"]["saving"] > 0
    assert baseline.metrics["policy"]["saving"] == 0.0  # approving everything is the baseline itself
    data = ours.metrics["data"]
    assert data["n_labelled"] + data["n_unlabelled"] == len(predictions)
    assert len(ours.scores["fraud"]) == len(ours.labels["regret"]) == len(ours.decisions) == data["n_labelled"]
    assert ours.per_week["n"].sum() == data["n_labelled"]


# Money: every amount in the reporting currency before any cost


def test_mixed_currencies_are_converted_before_they_are_priced() -> None:
    # approved frauds of 100.00 USD, 100.00 EUR and 10,000 JPY: the loss is their USD value plus the fees
    rows = [{"amount": 10_000, "currency": "USD", "fraud": True}, {"amount": 10_000, "currency": "EUR", "fraud": True},
            {"amount": 10_000, "currency": "JPY", "fraud": True}]
    evaluation = run_case(rows)
    from risk.money import load_rates

    rates = load_rates().per_unit
    expected = 10_000 + 10_000 * rates["EUR"] + 10_000 * rates["JPY"] * 100 + 3 * 1500
    assert evaluation.metrics["policy"]["total_cost"] == pytest.approx(expected)
    assert evaluation.metrics["policy"]["total_cost"] != pytest.approx(30_000 + 3 * 1500)  # never added raw
    assert evaluation.metrics["money"]["orders_by_currency"] == {"USD": 1, "EUR": 1, "JPY": 1}


def test_costs_in_another_reporting_currency_convert_orders_into_it() -> None:
    rows = [{"amount": 10_000, "currency": "USD", "decision": "decline"}]  # genuine: loses 15% margin
    evaluation = run_case(rows, costs=Costs(currency="EUR"))
    from risk.money import load_rates

    assert evaluation.metrics["policy"]["total_cost"] == pytest.approx(0.15 * 10_000 / load_rates().per_unit["EUR"])
    assert "cost per order (EUR)" in summary_table(evaluation)


def test_an_order_currency_the_rates_lack_is_one_clear_error(tmp_path) -> None:
    from risk.money import load_rates

    path = tmp_path / "rates.json"
    path.write_text(json.dumps({"date": "2026-01-01", "base": "USD", "rates": {"USD": 1.0}}))
    with pytest.raises(InvalidInput, match=r"have no rate for GBP \(1 orders\)"):
        run_case([{"currency": "USD"}, {"currency": "GBP"}], rates=load_rates(path))


def test_days_over_capacity_use_the_given_capacity_and_only_days_above_it() -> None:
    # day 0: 4 reviews (over 3), day 1: exactly 3 (at capacity, not over), day 2: 1
    rows = ([{"day": 0, "decision": "review"}] * 4 + [{"day": 1, "decision": "review"}] * 3
            + [{"day": 2, "decision": "review"}, {"day": 2}])
    assert run_case(rows, costs=Costs(review_capacity_per_day=3)).metrics["policy"]["days_over_capacity"] == 1
    assert run_case(rows, costs=Costs(review_capacity_per_day=2)).metrics["policy"]["days_over_capacity"] == 2
    assert run_case(rows).metrics["policy"]["days_over_capacity"] == 0  # the default capacity is 200
