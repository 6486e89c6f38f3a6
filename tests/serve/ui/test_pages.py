"""The pages over the review queue: queue, order (claim, decide, label, linked), bulk decisions, overview."""

from __future__ import annotations

import re

import pytest

from tests.serve.ui.conftest import csrf_of, log_in, score_all, scored_orders


@pytest.fixture
def queue_client(ui_client):
    """Nine orders in review (every third shares card_ring / dev_ring), alice logged in."""
    score_all(ui_client, scored_orders(9))
    log_in(ui_client, "alice")
    return ui_client


def queue_ids(html: str) -> list[str]:
    return re.findall(r'data-order="([^"]+)"', html)


def test_the_queue_lists_open_reviews_due_first_and_sorts_by_amount(queue_client) -> None:
    by_due = queue_ids(queue_client.get("/ui/queue").text)
    by_amount = queue_ids(queue_client.get("/ui/queue?sort=amount").text)

    assert by_due == [f"ord_ui_{i:03d}" for i in range(9)]  # opened a minute apart, same SLA
    assert by_amount == [f"ord_ui_{i:03d}" for i in reversed(range(9))]  # amounts grow with i


def test_the_queue_filters_by_amount_in_major_units_and_by_seller(queue_client) -> None:
    cheap = queue_ids(queue_client.get("/ui/queue?max_amount=14.00").text)  # 10.00, 11.37, 12.74 (then 14.11)
    nobody = queue_client.get("/ui/queue?seller=acct_nobody").text

    assert cheap == ["ord_ui_000", "ord_ui_001", "ord_ui_002"]
    assert queue_ids(queue_client.get("/ui/queue?seller=seller_4").text) == ["ord_ui_004"]
    assert "No open review matches" in nobody
    assert queue_client.get("/ui/queue?min_amount=abc").status_code == 422


def test_opening_an_order_claims_it_and_another_analyst_sees_who_holds_it(queue_client, ui_client) -> None:
    mine = queue_client.get("/ui/orders/ord_ui_004")
    assert "You hold this review" in mine.text and 'value="approve"' in mine.text

    queue_client.cookies.clear()
    log_in(queue_client, "bob")
    theirs = queue_client.get("/ui/orders/ord_ui_004")

    assert 'class="held-by">alice<' in theirs.text and 'value="approve"' not in theirs.text
    assert "alice" in queue_client.get("/ui/queue").text  # the queue's claimed-by column


def test_deciding_closes_the_review_records_the_outcome_and_leaves_the_queue(queue_client) -> None:
    page = queue_client.get("/ui/orders/ord_ui_002")

    answer = queue_client.post("/ui/decide", data={"csrf_token": csrf_of(page.text), "order_id": "ord_ui_002",
                                                   "verdict": "decline", "note": "card testing pattern"})

    assert answer.status_code == 200 and "ord_ui_002: declined" in answer.text
    assert "confirmed_fraud" in answer.text and "card testing pattern" in answer.text
    assert "ord_ui_002" not in queue_ids(queue_client.get("/ui/queue").text)


def test_a_decision_without_the_csrf_token_is_refused_and_changes_nothing(queue_client) -> None:
    queue_client.get("/ui/orders/ord_ui_002")

    answer = queue_client.post("/ui/decide", data={"order_id": "ord_ui_002", "verdict": "approve"})

    assert answer.status_code == 403
    assert "ord_ui_002" in queue_ids(queue_client.get("/ui/queue").text)


def test_bulk_decisions_decide_every_ticked_order(queue_client) -> None:
    token = csrf_of(queue_client.get("/ui/queue").text)

    answer = queue_client.post("/ui/queue/decide", data={"csrf_token": token, "verdict": "approve", "note": "ok",
                                                        "order_ids": ["ord_ui_001", "ord_ui_005"]})

    assert "2 approved" in answer.text
    remaining = queue_ids(answer.text)
    assert "ord_ui_001" not in remaining and "ord_ui_005" not in remaining and len(remaining) == 7


def test_an_order_page_lists_and_draws_the_orders_sharing_its_card_and_device(queue_client) -> None:
    page = queue_client.get("/ui/orders/ord_ui_003").text

    linked = page[page.index('id="linked"'):]
    for other in ("ord_ui_000", "ord_ui_006"):
        assert f'href="/ui/orders/{other}"' in linked
    assert "ord_ui_004" not in linked
    assert "<svg" in linked and "card" in linked


def test_any_order_can_be_labelled_and_contradictions_are_shown(queue_client) -> None:
    token = csrf_of(queue_client.get("/ui/orders/ord_ui_007").text)
    queue_client.post("/ui/decide", data={"csrf_token": token, "order_id": "ord_ui_007", "verdict": "approve"})

    answer = queue_client.post("/ui/label", data={"csrf_token": token, "order_id": "ord_ui_007",
                                                  "kind": "confirmed_fraud", "note": "chargeback came in"})

    assert "labelled confirmed fraud" in answer.text
    assert "contradictory outcomes" in answer.text and "chargeback came in" in answer.text


def test_the_overview_draws_its_charts(queue_client) -> None:
    page = queue_client.get("/ui/overview?window=24h")

    assert page.status_code == 200
    assert page.text.count("<svg") >= 4
    assert "Model versions" in page.text


def test_an_unknown_order_is_a_404_page(queue_client) -> None:
    answer = queue_client.get("/ui/orders/no_such_order")

    assert answer.status_code == 404 and "<html" in answer.text


def test_an_order_page_lists_the_first_linked_orders_and_all_of_them_on_request(queue_client, monkeypatch) -> None:
    from serve.ui.pages import orders

    monkeypatch.setattr(orders, "LINKED_SHOWN", 1)
    first = queue_client.get("/ui/orders/ord_ui_003").text
    every = queue_client.get("/ui/orders/ord_ui_003?linked=all").text

    assert "1+ sharing an entity" in first and 'href="/ui/orders/ord_ui_003?linked=all#linked"' in first
    assert "2 sharing an entity" in every and "list up to" not in every
