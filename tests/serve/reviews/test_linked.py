"""Linked orders on a small built history, and logs made before the entity columns gaining them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import NamedTuple

from serve.decision_log import PostgresDecisionLog, SQLiteDecisionLog
from serve.decision_log.schema import JsonText, Table
from serve.decision_log.sql import POSTGRES, SQLITE, create_table, insert
from serve.reviews import ReviewService
from tests.builders import DATABASE_URL, make_order, require_postgres
from tests.serve.reviews.conftest import MakeReviews, score


def _history(reviews) -> None:
    """o0 the center; o1 shares its card, o2 its device and IP, o3 its shipping address, o4 nothing, o5 its buyer."""
    base = {"payment.card_fingerprint": "card-A", "session.device_id": "dev-A", "session.ip": "10.0.0.1",
            "buyer.account_id": "buyer-A", "seller.account_id": "seller-A", "shipping.address_hash": "addr-A"}
    other = {"payment.card_fingerprint": "card-X", "session.device_id": "dev-X", "session.ip": "10.9.9.9",
             "buyer.account_id": "buyer-X", "seller.account_id": "seller-X", "shipping.address_hash": "addr-X"}
    score(reviews, "o0", 0, **base)
    score(reviews, "o1", 1, **{**other, "payment.card_fingerprint": "card-A"})
    score(reviews, "o2", 2, **{**other, "session.device_id": "dev-A", "session.ip": "10.0.0.1"})
    score(reviews, "o3", 3, **{**other, "shipping.address_hash": "addr-A"})
    score(reviews, "o4", 4, **other)
    score(reviews, "o5", 5, **{**other, "buyer.account_id": "buyer-A"})


def test_linked_orders_name_what_each_shares_with_decisions_and_outcomes(make_reviews: MakeReviews) -> None:
    reviews = make_reviews()
    _history(reviews)
    reviews.decide("o1", "ann", "decline", now=datetime(2026, 11, 24, 11, tzinfo=UTC))

    linked = reviews.linked("o0")
    shared = {o.order_id: o.shared for o in linked.orders}
    assert shared == {"o1": ["card"], "o2": ["device", "ip"], "o3": ["shipping_address"], "o5": ["buyer"]}
    assert [o.order_id for o in linked.orders] == ["o5", "o3", "o2", "o1"]  # most recent first
    o1 = next(o for o in linked.orders if o.order_id == "o1")
    assert o1.decision == "review" and o1.latest_outcome == "confirmed_fraud" and o1.amount == 4999
    assert o1.currency == "USD" and o1.fraud_score is not None
    assert linked.entities["card"] == "card-A" and not linked.truncated

    edges = {(e.source, e.target) for e in linked.graph.edges}
    assert ("order:o1", "card:card-A") in edges and ("order:o2", "ip:10.0.0.1") in edges
    assert ("order:o0", "seller:seller-A") not in edges  # no other order shares the seller: not drawn
    assert {n.id for n in linked.graph.nodes if n.kind == "order"} == {"order:o0", "order:o1", "order:o2",
                                                                       "order:o3", "order:o5"}


def test_linked_orders_are_capped_with_a_truncated_flag(make_reviews: MakeReviews) -> None:
    reviews = make_reviews()
    for i in range(6):
        score(reviews, f"o{i}", i, **{"payment.card_fingerprint": "card-A"})
    capped = reviews.linked("o0", limit=3)
    assert capped.truncated and [o.order_id for o in capped.orders] == ["o5", "o4", "o3"]
    assert not reviews.linked("o0", limit=5).truncated


class DecisionRowV1(NamedTuple):
    """The decisions table as the first version of the log made it (before the entity columns)."""

    order_id: str
    body_hash: str
    created_at: datetime
    recorded_at: datetime
    model_version: str
    order_json: JsonText
    features_json: str | None
    decision_json: JsonText
    shadow_json: JsonText | None


V1 = Table("decisions", DecisionRowV1, unique=("order_id",), primary_key=True)


def _old_rows() -> list[DecisionRowV1]:
    moment = datetime(2026, 11, 24, 10, tzinfo=UTC)
    rows = []
    for i, card in enumerate(["card-A", "card-A", "card-B"]):
        order = make_order(order_id=f"old{i}", **{"payment.card_fingerprint": card})
        decision = {"order_id": f"old{i}", "decision": "approve", "fraud_score": 0.1, "regret_score": 0.1,
                    "model_version": "m0"}
        rows.append(DecisionRowV1(f"old{i}", "h", moment.replace(minute=i), moment, "m0", json.dumps(order), None,
                                  json.dumps(decision), None))
    return rows


def test_an_sqlite_log_made_before_the_entity_columns_gains_and_fills_them(tmp_path, review_bundle) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(create_table(V1, SQLITE))
        conn.executemany(insert(V1, SQLITE), [SQLITE.values(V1, row) for row in _old_rows()])

    _check_upgraded(SQLiteDecisionLog(path), review_bundle)


def test_a_postgres_log_made_before_the_entity_columns_gains_and_fills_them(review_bundle) -> None:
    require_postgres(DATABASE_URL)
    import uuid

    import psycopg

    prefix = f"test_{uuid.uuid4().hex[:12]}_"
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute(create_table(V1, POSTGRES, prefix))
        for row in _old_rows():
            conn.execute(insert(V1, POSTGRES, prefix), POSTGRES.values(V1, row))
    try:
        _check_upgraded(PostgresDecisionLog(DATABASE_URL, table_prefix=prefix), review_bundle)
    finally:
        cleanup = PostgresDecisionLog(DATABASE_URL, table_prefix=prefix)
        cleanup.drop_tables()
        cleanup.close()


def _check_upgraded(log, bundle) -> None:
    from features.state import EmbeddedState
    from serve.engine import ScoringEngine

    reviews = ReviewService(ScoringEngine(bundle, EmbeddedState(), log))
    on_card = {o.order_id: "card" in o.shared for o in reviews.linked("old0").orders}
    assert on_card == {"old1": True, "old2": False}  # old2 shares the example's device, IP... but not the card
    score(reviews, "new", 30, **{"payment.card_fingerprint": "card-A"})  # written with the new columns
    assert [o.order_id for o in reviews.linked("old0").orders if "card" in o.shared] == ["new", "old1"]
    assert reviews.queue().total == 1  # the review tables were created too
    log.close()
