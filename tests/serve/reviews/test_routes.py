"""The review queue's JSON API (serve/routes/reviews.py) as analysts' tools use it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from features.state import EmbeddedState
from models.bundle import ModelBundle
from serve.config import Settings
from serve.decision_log import SQLiteDecisionLog
from serve.engine import ScoringEngine
from serve.main import create_app
from tests.builders import make_order
from tests.serve.conftest import ADMIN, ANALYST, CHECKOUT, KEYS


def review_client(bundle: ModelBundle, tmp_path: Path, **settings) -> TestClient:
    config = Settings(data_dir=tmp_path, api_keys=KEYS, **settings)
    engine = ScoringEngine(bundle, EmbeddedState(), SQLiteDecisionLog(tmp_path / "decisions.sqlite"))
    return TestClient(create_app(config, engine), raise_server_exceptions=False)


@pytest.fixture
def client(review_bundle: ModelBundle, tmp_path: Path):
    with review_client(review_bundle, tmp_path) as test_client:
        for i in range(3):
            order = make_order(order_id=f"o{i}", created_at=f"2026-11-24T10:0{i}:00Z", amount=1000 * (i + 1))
            assert test_client.post("/v1/orders/score", json=order, headers=CHECKOUT).json()["decision"] == "review"
        yield test_client


def test_analysts_work_the_queue_claim_decide_and_see_it_change(client: TestClient) -> None:
    page = client.get("/v1/reviews", params={"sort": "amount", "limit": 2}, headers=ANALYST)
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["total"] == 3 and [i["order_id"] for i in body["items"]] == ["o2", "o1"]

    claim = client.post("/v1/reviews/o2/claim", json={"analyst": "ann"}, headers=ANALYST)
    assert claim.status_code == 200 and claim.json()["held_by"] == "ann"
    taken = client.post("/v1/reviews/o2/claim", json={"analyst": "bob"}, headers=ANALYST)
    assert taken.status_code == 409 and "ann" in taken.json()["message"]
    assert taken.headers["content-type"] == "application/json"
    refused = client.post("/v1/reviews/o2/decision", json={"analyst": "bob", "verdict": "approve"}, headers=ANALYST)
    assert refused.status_code == 409

    decided = client.post("/v1/reviews/o2/decision", json={"analyst": "ann", "verdict": "decline", "note": "ring"},
                          headers=ANALYST)
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "closed" and decided.json()["outcomes"][0]["kind"] == "confirmed_fraud"
    assert client.get("/v1/reviews", headers=ANALYST).json()["total"] == 2
    detail = client.get("/v1/reviews/o2", headers=ANALYST).json()
    assert detail["analyst_decision"]["analyst"] == "ann" and detail["analyst_decision"]["note"] == "ring"


def test_bulk_decisions_by_ids_or_filter(client: TestClient) -> None:
    by_ids = client.post("/v1/reviews/decisions", json={"analyst": "ann", "verdict": "approve",
                                                         "order_ids": ["o0", "nope"]}, headers=ANALYST)
    assert by_ids.status_code == 200 and by_ids.json()["decided"] == ["o0"]
    assert by_ids.json()["skipped"][0]["order_id"] == "nope"
    by_filter = client.post("/v1/reviews/decisions", json={"analyst": "ann", "verdict": "decline",
                                                            "filter": {"min_amount": 3000}}, headers=ANALYST)
    assert by_filter.json()["decided"] == ["o2"]
    both = client.post("/v1/reviews/decisions", json={"analyst": "ann", "verdict": "decline", "order_ids": ["o1"],
                                                       "filter": {}}, headers=ANALYST)
    assert both.status_code == 422


def test_labels_linked_orders_and_errors_answer_as_documented(client: TestClient) -> None:
    label = client.post("/v1/orders/o0/label", json={"analyst": "ann", "kind": "confirmed_legit"}, headers=ANALYST)
    assert label.status_code == 200 and label.json()["kind"] == "confirmed_legit"
    assert client.get("/v1/orders/o0/detail", headers=ANALYST).json()["outcomes"][0]["source"] == "analyst"
    linked = client.get("/v1/orders/o0/linked", headers=ANALYST).json()
    assert {o["order_id"] for o in linked["orders"]} == {"o1", "o2"} and not linked["truncated"]
    assert client.get("/v1/orders/o0/linked", params={"limit": 1}, headers=ANALYST).json()["truncated"]

    assert client.post("/v1/orders/nope/label", json={"analyst": "a", "kind": "confirmed_fraud"},
                       headers=ANALYST).status_code == 404
    bad = client.post("/v1/reviews/o1/decision", json={"analyst": "ann", "verdict": "maybe"}, headers=ANALYST)
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "verdict"
    assert client.get("/v1/reviews/nope", headers=ANALYST).status_code == 404
    assert client.get("/v1/orders/nope/linked", headers=ANALYST).status_code == 404
    overview = client.get("/v1/overview", params={"bucket": "hour"}, headers=ADMIN)
    assert overview.status_code == 200 and overview.json()["backlog"]["open"] == 3
    odd = client.get("/v1/overview", params={"since": "2026-11-24T11:15:02+0100"}, headers=ADMIN)
    assert odd.status_code == 422, odd.text  # the contract's RFC 3339, as for an order's times
    assert odd.json()["problems"][0]["field"] == "query.since" and "RFC 3339" in odd.json()["problems"][0]["reason"]


@pytest.mark.parametrize("method, path, body", [
    ("get", "/v1/reviews", None), ("get", "/v1/reviews/o1", None),
    ("post", "/v1/reviews/o1/claim", {"analyst": "x"}), ("post", "/v1/reviews/o1/release", {"analyst": "x"}),
    ("post", "/v1/reviews/o1/decision", {"analyst": "x", "verdict": "approve"}),
    ("post", "/v1/orders/o1/label", {"analyst": "x", "kind": "confirmed_fraud"}),
    ("get", "/v1/orders/o1/linked", None), ("get", "/v1/webhooks/deliveries", None), ("get", "/v1/overview", None),
])
def test_checkout_keys_may_not_use_the_queue(client: TestClient, method: str, path: str, body) -> None:
    kwargs = {"json": body} if body is not None else {}
    assert getattr(client, method)(path, headers=CHECKOUT, **kwargs).status_code == 403
    assert getattr(client, method)(path, **kwargs).status_code == 401
