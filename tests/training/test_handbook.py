"""The handbook's protocol on hand-made frames: known-card removal by day, CP@k with detected cards dropped."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from training.handbook import (
    card_precision_at_k,
    card_precision_day,
    drop_known_compromised,
    evaluate_period,
    known_compromised_cards,
    transactions_frame,
)

D0 = pd.Timestamp("2018-08-08T00:00:00Z")
SINCE = D0 - timedelta(days=14)


def day(offset: int) -> pd.Timestamp:
    return D0 + timedelta(days=offset)


def frame(rows: list[tuple[str, int, int]], scores: list[float] | None = None) -> pd.DataFrame:
    """Transactions from (card, day offset from D0, fraud)."""
    data = pd.DataFrame(rows, columns=["card", "offset", "fraud"])
    data["day"] = [day(o) for o in data.pop("offset")]
    if scores is not None:
        data["score"] = scores
    return data


def test_a_card_is_known_once_its_fraud_is_delay_plus_one_day_old():
    history = frame([("a", -8, 1), ("b", -7, 1), ("c", -8, 0), ("d", -15, 1)])
    assert known_compromised_cards(history, D0, SINCE) == {"a"}  # b is one day too recent, d before SINCE
    assert known_compromised_cards(history, day(1), SINCE) == {"a", "b"}


def test_known_cards_are_removed_per_test_day_not_once_for_the_week():
    transactions = frame([
        ("a", -8, 1),                    # known from the first test day
        ("b", -7, 1),                    # known from the second test day only
        ("a", 0, 0), ("b", 0, 1), ("c", 0, 0),
        ("a", 1, 1), ("b", 1, 0), ("c", 1, 0),
    ])
    kept = drop_known_compromised(transactions, [day(0), day(1)], SINCE)
    assert sorted(zip(kept["card"], kept["day"], strict=True)) == [("b", day(0)), ("c", day(0)), ("c", day(1))]


def test_card_precision_of_a_day_uses_each_cards_max_score_and_max_label_over_k():
    scored = frame([("a", 0, 0), ("a", 0, 1), ("b", 0, 0), ("c", 0, 1)], scores=[0.9, 0.1, 0.8, 0.2])
    precision, detected = card_precision_day(scored, k=2)
    assert precision == 0.5  # top 2 cards: a (max 0.9, fraudulent) and b (genuine)
    assert detected == {"a"}
    assert card_precision_day(scored, k=4)[0] == 0.5  # 2 fraudulent cards of 3, still over k


def test_a_card_detected_on_an_earlier_day_is_dropped_from_later_days():
    scored = frame([
        ("a", 0, 1), ("b", 0, 0),        # day 0: a detected
        ("a", 1, 1), ("b", 1, 0), ("c", 1, 1),
    ], scores=[0.9, 0.1, 0.99, 0.5, 0.4])
    assert card_precision_at_k(scored, k=1) == [1.0, 0.0]  # day 1 without a: b (0.5) beats c (0.4)


def test_a_fraudulent_card_outside_the_top_k_is_not_dropped_later():
    scored = frame([
        ("a", 0, 1), ("b", 0, 0),        # day 0: b ranks first, a is not detected
        ("a", 1, 1), ("b", 1, 0),
    ], scores=[0.1, 0.9, 0.8, 0.2])
    assert card_precision_at_k(scored, k=1) == [0.0, 1.0]


def test_evaluate_period_joins_predictions_after_removing_known_cards():
    start = pd.Timestamp("2018-08-08T00:00:00Z")
    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4"],
        "created_at": pd.to_datetime(["2018-07-30T10:00Z", "2018-08-08T09:00Z", "2018-08-08T10:00Z",
                                      "2018-08-09T11:00Z"], utc=True),
        "payment_card_fingerprint": ["a", "a", "b", "c"],
    })
    outcomes = pd.DataFrame({"order_id": ["o1", "o3"], "kind": ["fraud_chargeback", "fraud_chargeback"]})
    transactions = transactions_frame(orders, outcomes)
    predictions = pd.DataFrame({"order_id": ["o2", "o3", "o4"], "fraud_score": [0.99, 0.7, 0.3]})
    metrics = evaluate_period(transactions, predictions, start, days=2, k=1)
    assert (metrics["transactions"], metrics["frauds"]) == (2, 1)  # o2 dropped: card a known since 07-30
    assert metrics["roc_auc"] == 1.0
    assert metrics["card_precision"] == 0.5  # day 0: b is fraud (1/1); day 1: c is genuine (0/1)


def test_evaluate_period_names_a_test_order_without_prediction():
    orders = pd.DataFrame({
        "order_id": ["o1"], "created_at": pd.to_datetime(["2018-08-08T10:00Z"], utc=True),
        "payment_card_fingerprint": ["a"],
    })
    transactions = transactions_frame(orders, pd.DataFrame({"order_id": [], "kind": []}))
    with pytest.raises(ValueError, match="o1"):
        evaluate_period(transactions, pd.DataFrame({"order_id": [], "fraud_score": []}), D0, days=1)
