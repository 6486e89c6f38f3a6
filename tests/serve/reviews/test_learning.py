"""Analyst verdicts teach the engine: the next order's label-aware features see them, and `risk export` has them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli.main import main
from features.catalog import FEATURE_NAMES
from risk.contract import Order
from risk.datasets import read_outcomes
from serve.decision_log import SQLiteDecisionLog
from tests.builders import make_order
from tests.serve.reviews.conftest import MakeReviews, score

CARD_FRAUD = FEATURE_NAMES.index("fraud_reports_by_card_7d")


def _card_fraud_reports(reviews, order_id: str, minute: int) -> float:
    """The feature the next order on card `card-ring` would be scored with (read only: nothing is written)."""
    order = Order.model_validate(make_order(order_id=order_id, created_at=f"2026-11-24T10:{minute:02d}:00Z",
                                            **{"payment.card_fingerprint": "card-ring"}))
    features, _ = reviews.engine.online.compute(order)
    return float(features[CARD_FRAUD])


@pytest.mark.parametrize("how", ["decide", "label"])
def test_an_analysts_fraud_verdict_changes_the_next_orders_card_features(make_reviews: MakeReviews, how: str) -> None:
    reviews = make_reviews()
    score(reviews, "o1", 0, **{"payment.card_fingerprint": "card-ring"})
    assert _card_fraud_reports(reviews, "o2", 45) == 0

    verdict_at = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
    if how == "decide":
        reviews.decide("o1", "ann", "decline", "stolen card", now=verdict_at)
    else:
        reviews.label("o1", "ann", "confirmed_fraud", now=verdict_at)

    assert _card_fraud_reports(reviews, "o2", 45) == 1  # at once, in this process
    assert _card_fraud_reports(reviews, "o2", 29) == 0  # never before it was reported: no leak from the future


def test_analyst_outcomes_appear_in_risk_export(make_reviews: MakeReviews, tmp_path: Path) -> None:
    log = SQLiteDecisionLog(tmp_path / "data" / "decisions.sqlite")
    reviews = make_reviews(log)
    score(reviews, "o1", 0)
    score(reviews, "o2", 1)
    reviews.decide("o1", "ann", "decline", now=datetime(2026, 11, 24, 11, tzinfo=UTC))
    reviews.label("o2", "bob", "confirmed_legit", now=datetime(2026, 11, 24, 12, tzinfo=UTC))
    log.close()

    assert main(["export", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--format",
                 "csv"]) == 0
    outcomes = read_outcomes(tmp_path / "out" / "outcomes.csv")
    assert outcomes[["order_id", "kind", "source"]].values.tolist() == [
        ["o1", "confirmed_fraud", "analyst"], ["o2", "confirmed_legit", "analyst"]]
    assert str(outcomes["reported_at"].iloc[0]) == "2026-11-24 11:00:00+00:00"


def test_a_restarted_engine_replays_analyst_outcomes_from_the_log(make_reviews: MakeReviews, make_log) -> None:
    reviews = make_reviews()
    score(reviews, "o1", 0, **{"payment.card_fingerprint": "card-ring"})
    reviews.decide("o1", "ann", "decline", now=datetime(2026, 11, 24, 10, 30, tzinfo=UTC))

    restarted = make_reviews(make_log())  # a new process with an empty state, caught up from the log
    orders, outcomes = restarted.engine.decisions.read_since(None)
    restarted.engine.catch_up(orders, outcomes)
    assert _card_fraud_reports(restarted, "o2", 45) == 1
