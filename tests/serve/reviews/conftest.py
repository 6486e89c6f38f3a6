"""A review service over a real engine whose policy sends every order to review, on both backends."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from features.state import EmbeddedState
from models.bundle import ModelBundle, load_bundle
from risk.contract import Order
from risk.policy import Policy
from serve.decision_log import DecisionLog
from serve.engine import ScoringEngine
from serve.reviews import ReviewService
from tests.builders import make_order
from tests.serve.conftest import MakeLog

ALWAYS_REVIEW = Policy(decline_fraud=2.0, review_fraud=0.0, review_regret=0.0)  # every order decided review

MakeReviews = Callable[..., ReviewService]


@pytest.fixture(scope="session")
def review_bundle(model_dir: Path) -> ModelBundle:
    return dataclasses.replace(load_bundle(model_dir), policy=ALWAYS_REVIEW)


@pytest.fixture
def make_reviews(make_log: MakeLog, review_bundle: ModelBundle) -> MakeReviews:
    """A review service on a fresh engine over a log of the shared store (call twice: two processes)."""

    def make(log: DecisionLog | None = None, **options) -> ReviewService:
        engine = ScoringEngine(review_bundle, EmbeddedState(), log or make_log())
        options.setdefault("claim_idle", timedelta(minutes=15))
        return ReviewService(engine, **options)

    return make


def score(reviews: ReviewService, order_id: str, minute: int = 0, **overrides) -> None:
    """Score one order (created 2026-11-24T10:MM) through the service's engine."""
    order = make_order(order_id=order_id, created_at=f"2026-11-24T10:{minute:02d}:00Z", **overrides)
    reviews.engine.score(Order.model_validate(order))
