"""Webhook events from the outbox: signed, retried with backoff, never lost or duplicated across a restart."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from serve.reviews.events import SIGNATURE_HEADER, sign, verify_signature
from serve.reviews.webhooks import WebhookSender, deliveries
from tests.serve.reviews.conftest import MakeReviews, score

SECRET = "whsec-test-0001"


class Receiver:
    """A local HTTP endpoint answering 500 to the first `failures` requests, then 204; records what it got."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                failing = len(receiver.requests) <= receiver.failures
                self.send_response(500 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        return [json.loads(body) for headers, body in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()


def test_events_are_signed_so_a_receiver_can_verify_them(make_reviews: MakeReviews, receiver: Receiver) -> None:
    reviews = make_reviews(events=True)
    score(reviews, "o1")
    sender = WebhookSender(reviews.engine.decisions, receiver.url, SECRET, backoff_s=0.01)
    assert sender.deliver_due() == 1

    (headers, body), = receiver.requests
    event = json.loads(body)
    assert event["type"] == "review.opened" and event["data"]["order_id"] == "o1"
    assert headers["X-Risk-Event-Id"] == event["id"]
    assert verify_signature(SECRET, body, headers[SIGNATURE_HEADER])
    assert not verify_signature("another-secret", body, headers[SIGNATURE_HEADER])
    assert not verify_signature(SECRET, body + b" ", headers[SIGNATURE_HEADER])
    stale = sign(SECRET, body, int(time.time()) - 3600)
    assert not verify_signature(SECRET, body, stale)  # a replayed old request


def test_failed_deliveries_are_retried_with_growing_delays_and_their_state_shown(
        make_reviews: MakeReviews, receiver: Receiver) -> None:
    receiver.failures = 2
    reviews = make_reviews(events=True)
    score(reviews, "o1")
    log = reviews.engine.decisions
    sender = WebhookSender(log, receiver.url, SECRET, backoff_s=10, max_backoff_s=25)
    assert [sender.retry_delay(n) for n in (1, 2, 3, 4)] == [10, 20, 25, 25]

    assert sender.deliver_due() == 0
    (pending,) = deliveries(log)
    assert pending.status == "pending" and pending.attempts == 1 and pending.last_status == 500
    assert pending.last_error == "HTTP 500"
    assert timedelta(seconds=9) < pending.next_attempt_at - datetime.now(UTC) <= timedelta(seconds=10)
    assert sender.deliver_due() == 0  # not due yet: nothing sent
    assert len(receiver.requests) == 1
    assert sender.deliver_due(now=datetime.now(UTC) + timedelta(seconds=11)) == 0  # second failure
    second = deliveries(log)[0]
    assert second.attempts == 2 and second.next_attempt_at - datetime.now(UTC) > timedelta(seconds=19)
    assert sender.deliver_due(now=datetime.now(UTC) + timedelta(seconds=21)) == 1
    (done,) = deliveries(log, status="delivered")
    assert done.attempts == 3 and done.last_status == 204 and done.delivered_at is not None
    assert {e["id"] for e in receiver.events()} == {done.event_id}  # one id over its three attempts


def test_a_restart_midway_delivers_every_event_once_per_id(make_reviews: MakeReviews, make_log,
                                                           receiver: Receiver) -> None:
    receiver.failures = 3
    first = make_reviews(events=True)
    for i in range(5):
        score(first, f"o{i}", i)
    first.decide("o0", "ann", "decline")
    sender = WebhookSender(first.engine.decisions, receiver.url, SECRET, backoff_s=0.01, max_backoff_s=0.01)
    sender.deliver_due()  # three fail, the others go
    sender.close()
    first.engine.decisions.close()  # the process stops

    restarted_log = make_log()  # a new process on the same store
    restarted = WebhookSender(restarted_log, receiver.url, SECRET, backoff_s=0.01, max_backoff_s=0.01, poll_s=0.02)
    restarted.job.start()
    deadline = time.monotonic() + 10
    while deliveries(restarted_log, status="pending") and time.monotonic() < deadline:
        time.sleep(0.05)
    restarted.close()
    assert restarted.job.thread is not None and not restarted.job.thread.is_alive()

    stored = deliveries(restarted_log)
    assert len(stored) == 6 and all(d.status == "delivered" for d in stored)
    accepted = receiver.events()[receiver.failures:]  # the first three got 500, every later one 204
    assert sorted(e["id"] for e in accepted) == sorted(d.event_id for d in stored)  # each id accepted once
    assert sorted(e["type"] for e in accepted) == ["review.closed"] + ["review.opened"] * 5
    failed_ids = {e["id"] for e in receiver.events()[:receiver.failures]}
    assert failed_ids <= {e["id"] for e in accepted}  # the failed ones came again, with the same ids


def test_without_a_webhook_url_no_events_are_written(make_reviews: MakeReviews) -> None:
    reviews = make_reviews()
    score(reviews, "o1")
    reviews.decide("o1", "ann", "approve")
    assert deliveries(reviews.engine.decisions) == []


def test_two_senders_never_send_one_event_at_the_same_time(make_reviews: MakeReviews, make_log,
                                                           receiver: Receiver) -> None:
    reviews = make_reviews(events=True)
    for i in range(20):
        score(reviews, f"o{i}", i % 60)
    senders = [WebhookSender(log, receiver.url, SECRET) for log in (reviews.engine.decisions, make_log())]
    threads = [threading.Thread(target=s.deliver_due) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [e["id"] for e in receiver.events()]
    assert len(ids) == 20 and len(set(ids)) == 20


def test_the_service_delivers_review_events_in_the_background_and_shows_their_state(
        review_bundle, tmp_path, receiver: Receiver) -> None:
    from tests.builders import make_order
    from tests.serve.conftest import ANALYST, CHECKOUT
    from tests.serve.reviews.test_routes import review_client

    with review_client(review_bundle, tmp_path, webhook_url=receiver.url, webhook_secret=SECRET,
                       webhook_poll_s=0.05) as client:
        client.post("/v1/orders/score", json=make_order(order_id="o1"), headers=CHECKOUT)
        client.post("/v1/reviews/o1/decision", json={"analyst": "ann", "verdict": "approve"}, headers=ANALYST)
        deadline = time.monotonic() + 10
        shown = []
        while time.monotonic() < deadline:
            shown = client.get("/v1/webhooks/deliveries", headers=ANALYST).json()
            if len(shown) == 2 and all(d["status"] == "delivered" for d in shown):
                break
            time.sleep(0.05)

    assert sorted(e["type"] for e in receiver.events()) == ["review.closed", "review.opened"]
    assert all(verify_signature(SECRET, body, headers[SIGNATURE_HEADER]) for headers, body in receiver.requests)
    assert {d["event_id"] for d in shown} == {e["id"] for e in receiver.events()}
    assert all(d["status"] == "delivered" and d["attempts"] == 1 for d in shown)


def test_a_webhook_url_without_a_secret_is_refused_at_start(review_bundle, tmp_path) -> None:
    from risk.errors import InvalidInput
    from tests.serve.reviews.test_routes import review_client

    with pytest.raises(InvalidInput, match="RISK_WEBHOOK_SECRET"):
        review_client(review_bundle, tmp_path, webhook_url="http://127.0.0.1:9/hooks")
