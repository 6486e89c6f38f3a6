"""The review queue's rules (serve/reviews/service.py) on both backends."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from serve.reviews import ClaimConflict, InvalidDecision, QueueFilter, ReviewDetail, ReviewNotFound
from tests.serve.reviews.conftest import MakeReviews, score

T0 = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


def test_an_order_decided_review_opens_a_review_due_after_the_sla(make_reviews: MakeReviews) -> None:
    reviews = make_reviews(sla=timedelta(minutes=60))
    before = datetime.now(UTC)
    score(reviews, "o1")

    page = reviews.queue()
    assert page.total == 1 and [item.order_id for item in page.items] == ["o1"]
    item = page.items[0]
    assert before <= item.opened_at <= datetime.now(UTC)
    assert item.due_at - item.opened_at == timedelta(minutes=60)
    assert item.amount == 4999 and item.currency == "USD" and item.status == "open" and item.claimed_by is None
    assert item.reasons and item.fraud_score == pytest.approx(reviews.engine.decision("o1").fraud_score)
    assert not reviews.queue(now=item.opened_at + timedelta(minutes=59)).items[0].overdue
    assert reviews.queue(now=item.opened_at + timedelta(minutes=61)).items[0].overdue


def test_the_queue_sorts_by_due_amount_or_score_and_filters(make_reviews: MakeReviews) -> None:
    reviews = make_reviews()
    score(reviews, "small", 0, amount=500, **{"seller.account_id": "s1"})
    score(reviews, "large", 1, amount=90000, **{"seller.account_id": "s2", "buyer.country": "FR"})
    score(reviews, "middle", 2, amount=7000, **{"seller.account_id": "s1", "currency": "EUR"})

    assert [i.order_id for i in reviews.queue().items] == ["small", "large", "middle"]  # opened (due) first
    assert [i.order_id for i in reviews.queue(sort="amount").items] == ["large", "middle", "small"]
    by_score = [i.fraud_score for i in reviews.queue(sort="score").items]
    assert by_score == sorted(by_score, reverse=True)
    assert {i.order_id for i in reviews.queue(filters=QueueFilter(seller="s1")).items} == {"small", "middle"}
    assert [i.order_id for i in reviews.queue(filters=QueueFilter(min_amount=1000, max_amount=10000)).items] == [
        "middle"]
    assert [i.order_id for i in reviews.queue(filters=QueueFilter(country="fr")).items] == ["large"]
    assert [i.order_id for i in reviews.queue(filters=QueueFilter(currency="EUR")).items] == ["middle"]
    code = reviews.queue().items[0].reasons[0].code
    matching = reviews.queue(filters=QueueFilter(reason=code))
    assert matching.total >= 1 and all(code in [r.code for r in i.reasons] for i in matching.items)
    assert reviews.queue(filters=QueueFilter(reason=code[:-1])).total == 0  # whole codes only
    assert reviews.queue(filters=QueueFilter(rule="no-such-rule")).total == 0
    page = reviews.queue(limit=2, offset=1)
    assert page.total == 3 and [i.order_id for i in page.items] == ["large", "middle"]


def test_two_analysts_claiming_one_review_at_once_get_one_claim(make_reviews: MakeReviews) -> None:
    first = make_reviews()
    second = make_reviews()  # its own log connection: like another process
    score(first, "o1")
    barrier = threading.Barrier(2)
    claims = {}

    def claim(service, analyst: str) -> None:
        barrier.wait()
        claims[analyst] = service.claim("o1", analyst)

    threads = [threading.Thread(target=claim, args=(s, a)) for s, a in ((first, "ann"), (second, "bob"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [a for a, c in claims.items() if c.ok]
    assert len(winners) == 1
    loser = "bob" if winners == ["ann"] else "ann"
    assert claims[loser].held_by == winners[0]
    assert first.queue().items[0].claimed_by == winners[0]
    with pytest.raises(ClaimConflict, match=winners[0]):
        first.decide("o1", loser, "approve")


def test_a_claim_idle_longer_than_the_timeout_is_released(make_reviews: MakeReviews) -> None:
    reviews = make_reviews(claim_idle=timedelta(minutes=15))
    score(reviews, "o1")
    assert reviews.claim("o1", "ann", now=T0).ok
    assert not reviews.claim("o1", "bob", now=T0 + timedelta(minutes=14)).ok
    assert reviews.queue(now=T0 + timedelta(minutes=14)).items[0].claimed_by == "ann"
    assert reviews.queue(now=T0 + timedelta(minutes=16)).items[0].claimed_by is None

    taken = reviews.claim("o1", "bob", now=T0 + timedelta(minutes=16))
    assert taken.ok and taken.held_by == "bob"
    assert reviews.release("o1", "ann") is False  # ann's claim lapsed: she cannot drop bob's
    assert reviews.release("o1", "bob") is True
    assert reviews.claim("o1", "ann", now=T0 + timedelta(minutes=17)).ok


def test_stale_claims_are_cleared_in_bulk(make_reviews: MakeReviews) -> None:
    reviews = make_reviews(claim_idle=timedelta(minutes=15))
    score(reviews, "o1")
    score(reviews, "o2", 1)
    reviews.claim("o1", "ann", now=T0)
    reviews.claim("o2", "ann", now=T0 + timedelta(minutes=10))
    assert reviews.release_stale(now=T0 + timedelta(minutes=20)) == 1
    assert reviews.review("o1", now=T0).claimed_by is None
    assert reviews.review("o2", now=T0 + timedelta(minutes=11)).claimed_by == "ann"


def test_a_decision_closes_the_review_with_who_when_and_note_and_becomes_an_outcome(make_reviews: MakeReviews) -> None:
    reviews = make_reviews()
    score(reviews, "o1")
    reviews.claim("o1", "ann", now=T0)
    detail = reviews.decide("o1", "ann", "decline", "card testing ring", now=T0 + timedelta(minutes=1))

    assert isinstance(detail, ReviewDetail) and detail.status == "closed" and detail.claimed_by is None
    assert detail.analyst_decision.verdict == "decline" and detail.analyst_decision.analyst == "ann"
    assert detail.analyst_decision.note == "card testing ring"
    assert detail.analyst_decision.decided_at == T0 + timedelta(minutes=1)
    assert [(o.kind, o.source) for o in detail.outcomes] == [("confirmed_fraud", "analyst")]
    assert [(a.action, a.analyst, a.note) for a in detail.actions] == [("decline", "ann", "card testing ring")]
    assert reviews.queue().total == 0 and reviews.queue(filters=QueueFilter(status="closed")).total == 1
    _, outcomes = reviews.engine.decisions.read_since(None)
    assert [(o.order_id, o.kind, o.source) for o in outcomes] == [("o1", "confirmed_fraud", "analyst")]
    with pytest.raises(ClaimConflict, match="closed already by ann"):
        reviews.decide("o1", "bob", "approve")


def test_an_unclaimed_review_may_be_decided_directly(make_reviews: MakeReviews) -> None:
    reviews = make_reviews()
    score(reviews, "o1")
    assert reviews.decide("o1", "ann", "approve").outcomes[0].kind == "confirmed_legit"


def test_bad_verdicts_unknown_reviews_and_missing_names_are_refused(make_reviews: MakeReviews) -> None:
    reviews = make_reviews()
    score(reviews, "o1")
    with pytest.raises(InvalidDecision, match="verdict"):
        reviews.decide("o1", "ann", "maybe")
    with pytest.raises(InvalidDecision, match="analyst"):
        reviews.claim("o1", "  ")
    with pytest.raises(ReviewNotFound):
        reviews.claim("nope", "ann")
    with pytest.raises(ReviewNotFound):
        reviews.decide("nope", "ann", "approve")
    with pytest.raises(ReviewNotFound):
        reviews.label("nope", "ann", "confirmed_fraud")
    with pytest.raises(InvalidDecision, match="kind"):
        reviews.label("o1", "ann", "refund")
    assert reviews.review("nope") is None and reviews.order("nope") is None


def test_bulk_decisions_decide_what_they_can_and_say_why_not_the_rest(make_reviews: MakeReviews) -> None:
    reviews = make_reviews()
    for i in range(4):
        score(reviews, f"o{i}", i, **{"seller.account_id": "ring" if i < 3 else "other"})
    reviews.claim("o1", "bob")

    result = reviews.decide_matching(QueueFilter(seller="ring"), "ann", "decline", "one ring")
    assert result.decided == ["o0", "o2"]
    assert [(s.order_id, "bob" in s.reason) for s in result.skipped] == [("o1", True)]
    again = reviews.decide_many(["o0", "o3", "missing"], "ann", "approve")
    assert again.decided == ["o3"] and {s.order_id for s in again.skipped} == {"o0", "missing"}
    assert [i.order_id for i in reviews.queue().items] == ["o1"]


def test_contradictory_outcomes_are_all_shown_and_flagged(make_reviews: MakeReviews) -> None:
    reviews = make_reviews()
    score(reviews, "o1")
    reviews.engine.record_outcomes([])  # nothing: no error
    from risk.contract import Outcome

    reviews.engine.record_outcomes([Outcome(order_id="o1", kind="fraud_chargeback", reported_at=T0,
                                            source="processor")])
    assert not reviews.order("o1").contradictory
    reviews.label("o1", "ann", "confirmed_legit", "buyer sent ID", now=T0 + timedelta(days=1))

    detail = reviews.order("o1")
    assert detail.contradictory
    assert [(o.kind, o.source, o.contradicts) for o in detail.outcomes] == [
        ("fraud_chargeback", "processor", ["confirmed_legit"]),
        ("confirmed_legit", "analyst", ["fraud_chargeback"])]


def test_any_logged_order_can_be_labelled_and_its_detail_read_without_a_review(make_log, model_dir) -> None:
    from features.state import EmbeddedState
    from models.bundle import load_bundle
    from risk.contract import Order
    from serve.engine import ScoringEngine
    from serve.reviews import ReviewService
    from tests.builders import make_order

    bundle = load_bundle(model_dir)
    import dataclasses

    from risk.policy import Policy
    engine = ScoringEngine(dataclasses.replace(bundle, policy=Policy(2.0, 2.0, 2.0)), EmbeddedState(), make_log())
    reviews = ReviewService(engine)
    engine.score(Order.model_validate(make_order(order_id="approved")))
    assert engine.decision("approved").decision == "approve" and reviews.queue().total == 0
    assert reviews.review("approved") is None

    reviews.label("approved", "ann", "confirmed_fraud", "seller confirmed", now=T0)
    detail = reviews.order("approved")
    assert detail.review_status is None and [o.kind for o in detail.outcomes] == ["confirmed_fraud"]
    assert [(a.action, a.analyst, a.note, a.at) for a in detail.actions] == [
        ("confirmed_fraud", "ann", "seller confirmed", T0)]


def test_the_overview_counts_decisions_scores_backlog_and_analysts(make_reviews: MakeReviews) -> None:
    reviews = make_reviews(sla=timedelta(minutes=60))
    for i in range(4):
        score(reviews, f"o{i}", i)
    reviews.decide("o0", "ann", "approve")
    reviews.decide("o1", "ann", "decline")
    reviews.decide("o2", "bob", "decline")
    reviews.claim("o3", "bob")
    now = datetime.now(UTC)

    hourly = reviews.stats(since=now - timedelta(hours=1), until=now + timedelta(minutes=1), bucket="hour")
    assert sum(b.counts["review"] for b in hourly.decisions) == 4
    assert all(b.start.minute == 0 and b.start.tzinfo is not None for b in hourly.decisions)
    assert sum(hourly.fraud_scores.counts) == 4 and sum(hourly.regret_scores.counts) == 4
    assert len(hourly.fraud_scores.edges) == len(hourly.fraud_scores.counts) + 1
    assert hourly.backlog.open == 1 and hourly.backlog.claimed == 1 and hourly.backlog.overdue == 0
    assert hourly.closed_by_analyst == {"ann": 2, "bob": 1}
    assert sum(hourly.model_versions.values()) == 4 and hourly.sla_minutes == 60
    later = reviews.stats(since=now - timedelta(days=1), until=now + timedelta(days=1), bucket="day",
                          now=now + timedelta(hours=2))
    assert later.backlog.overdue == 1 and later.backlog.claimed == 0  # due after 60 min; the claim went idle
    empty = reviews.stats(since=now - timedelta(days=9), until=now - timedelta(days=8), bucket="day")
    assert empty.decisions == [] and sum(empty.fraud_scores.counts) == 0


def test_an_amount_beyond_what_an_integer_column_holds_still_opens_its_review(make_reviews: MakeReviews) -> None:
    reviews = make_reviews()
    score(reviews, "huge", amount=196441124086387597901824)  # the contract sets no maximum
    (item,) = reviews.queue().items
    assert item.amount == 2**63 - 1  # the queue's sort key is capped
    assert reviews.review("huge").order["amount"] == 196441124086387597901824  # the order itself is exact
