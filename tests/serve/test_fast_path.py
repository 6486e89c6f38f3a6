"""The fast scoring path answers exactly as the FastAPI route would, and hands everything else on to it."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.builders import make_order
from tests.serve.conftest import CHECKOUT, make_client


def _burst(i: int) -> dict:
    return make_order(order_id=f"burst-{i}", created_at=f"2026-11-24T10:15:{i:02d}Z",
                      **{"payment.card_fingerprint": f"card-{i}", "session.device_id": "dev-burst"})


def _without_timing(response) -> tuple[int, dict, str | None]:
    body = response.json()
    body.pop("elapsed_ms", None)
    return response.status_code, body, response.headers.get("idempotent-replay")


def test_fast_path_and_route_give_the_same_answers(model_dir, tmp_path):
    requests = [_burst(i) for i in range(12)] + [_burst(3), {**_burst(4), "amount": 999}, make_order(amount=0)]
    answers = {}
    for fast in (True, False):
        with make_client(model_dir, tmp_path / str(fast), fast_path=fast) as client:
            answers[fast] = [_without_timing(client.post("/v1/orders/score", json=body, headers=CHECKOUT))
                             for body in requests]
            metrics = client.get("/metrics").text
            assert "risk_idempotent_replays_total 1.0" in metrics
            assert 'risk_errors_total{status="409"} 1.0' in metrics
    assert answers[True] == answers[False]
    statuses = [status for status, _, _ in answers[True]]
    assert statuses == [200] * 13 + [409, 422]
    assert answers[True][12][2] == "true"  # the repeated order is a replay
    assert {decision["decision"] for _, decision, _ in answers[True][:12]} != {"approve"}


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "analyst-key-1"}, {**CHECKOUT, "content-type": "text/plain"}])
def test_requests_it_does_not_answer_reach_the_route(client, headers):
    response = client.post("/v1/orders/score", content=json.dumps(make_order()).encode(), headers=headers)
    assert response.status_code in (401, 403, 422)
    assert response.json()["error"]


def test_a_body_sent_in_several_chunks_is_scored(client):
    body = json.dumps(make_order()).encode()
    chunks = [body[i:i + 100] for i in range(0, len(body), 100)]
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    sent = []

    async def receive() -> dict:
        return messages.pop(0)

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/orders/score", "headers": [
        (b"content-type", b"application/json"), (b"x-api-key", b"checkout-key-1")], "query_string": b"",
        "root_path": "", "scheme": "http", "server": ("test", 80), "client": ("test", 1), "http_version": "1.1",
        "asgi": {"version": "3.0"}, "raw_path": b"/v1/orders/score", "state": {}}
    asyncio.run(client.app(scope, receive, send))
    assert sent[0]["status"] == 200
    assert json.loads(sent[1]["body"])["order_id"] == "ord_8f2c1a"
