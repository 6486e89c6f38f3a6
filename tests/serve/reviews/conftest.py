"""A review service over a real engine whose policy sends every order to review, on both backends."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from features.state import EmbeddedState
from models.bundle import ModelBundle, load_bundle
from risk.contract import Order
from risk.policy import Policy
from serve.decision_log import DecisionLog, PostgresDecisionLog, SQLiteDecisionLog
from serve.engine import ScoringEngine
from serve.reviews import ReviewService
from tests.builders import make_order

DATABASE_URL = os.environ.get("RISK_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
ALWAYS_REVIEW = Policy(decline_fraud=2.0, review_fraud=0.0, review_regret=0.0)  # every order decided review

MakeLog = Callable[[], DecisionLog]
MakeReviews = Callable[..., ReviewService]


def reachable(url: str) -> None:
    """Skip (or fail, when services are required) unless PostgreSQL answers at `url`."""
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=2).close()
    except psycopg.Error as exc:
        if os.environ.get("RISK_REQUIRE_SERVICES"):
            pytest.fail(f"PostgreSQL not reachable at {url} ({exc}) and RISK_REQUIRE_SERVICES is set")
        pytest.skip(f"PostgreSQL not reachable at {url}: start it to run these tests")


@pytest.fixture(scope="session")
def review_bundle(model_dir: Path) -> ModelBundle:
    return dataclasses.replace(load_bundle(model_dir), policy=ALWAYS_REVIEW)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def make_log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeLog]:
    """Opens logs on one store (one SQLite file, or one table prefix); several are like several processes."""
    opened: list[DecisionLog] = []
    if request.param == "postgres":
        reachable(DATABASE_URL)
        prefix = f"test_{uuid.uuid4().hex[:12]}_"

        def make() -> DecisionLog:
            opened.append(PostgresDecisionLog(DATABASE_URL, table_prefix=prefix))
            return opened[-1]
    else:

        def make() -> DecisionLog:
            opened.append(SQLiteDecisionLog(tmp_path / "log" / "decisions.db"))
            return opened[-1]

    yield make
    if request.param == "postgres" and opened:
        cleanup = PostgresDecisionLog(DATABASE_URL, table_prefix=opened[0].table_prefix)
        cleanup.drop_tables()
        cleanup.close()
    for log in opened:
        log.close()


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
