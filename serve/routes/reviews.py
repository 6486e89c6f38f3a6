"""The review queue's JSON API: /v1/reviews (queue, detail, claim, release, decide, bulk), labels,
linked orders, the overview and the webhook delivery state.

Analyst keys carry a role, not a person: the analyst's name comes in the request
(`analyst`, in the body of every action), and is what the queue records and shows
(claims, decisions, labels). The web app passes its logged-in user's name instead.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, model_validator

from risk.contract import Time
from serve.deps import DecideRole, ReviewsRole, ServiceDep, WebhooksRole
from serve.errors import documented
from serve.reviews import (
    BulkResult,
    Claim,
    ClaimConflict,
    LinkedOrders,
    OrderDetail,
    Overview,
    QueueFilter,
    QueuePage,
    ReviewDetail,
    ReviewNotFound,
)
from serve.reviews.models import MAX_AMOUNT, AnalystVerdict, Delivery, LabelKind, QueueSort, ReviewStatus
from serve.reviews.service import MAX_BULK, MAX_LINKED, MAX_PAGE
from serve.reviews.webhooks import deliveries

router = APIRouter(tags=["reviews"])
POSTED = (400, 413)  # a body that is not UTF-8 JSON, or over the size limit
AnalystName = Annotated[str, Field(min_length=1, max_length=128, pattern=r"\S")]
Note = Annotated[str, Field(max_length=4000)]


class AnalystIn(BaseModel):
    analyst: AnalystName


class DecisionIn(AnalystIn):
    verdict: AnalystVerdict
    note: Note = ""


class BulkDecisionIn(DecisionIn):
    """Decide many open reviews alike: either `order_ids`, or a queue `filter` (at most `limit` by due time)."""

    order_ids: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        default=None, min_length=1, max_length=MAX_BULK)
    filter: QueueFilter | None = None
    limit: int = Field(default=MAX_BULK, ge=1, le=MAX_BULK)

    @model_validator(mode="after")
    def _one_selection(self) -> BulkDecisionIn:
        if (self.order_ids is None) == (self.filter is None):
            raise ValueError("give either order_ids or filter")
        return self


class LabelIn(AnalystIn):
    kind: LabelKind
    note: Note = ""


class LabelRecorded(BaseModel):
    order_id: str
    kind: LabelKind
    analyst: str
    reported_at: datetime


class Released(BaseModel):
    order_id: str
    released: bool


@router.get("/v1/reviews", response_model=QueuePage, responses=documented(401, 403, 422))
def list_reviews(
    service: ServiceDep, _: ReviewsRole, sort: QueueSort = "due",
    seller: Annotated[str | None, Query(max_length=128)] = None,
    reason: Annotated[str | None, Query(max_length=200)] = None,
    rule: Annotated[str | None, Query(max_length=200)] = None,
    min_amount: Annotated[int | None, Query(ge=0, le=MAX_AMOUNT)] = None,
    max_amount: Annotated[int | None, Query(ge=0, le=MAX_AMOUNT)] = None,
    country: Annotated[str | None, Query(max_length=2)] = None,
    currency: Annotated[str | None, Query(max_length=3)] = None,
    status: ReviewStatus | Literal["all"] = "open",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> QueuePage:
    """The review queue: open reviews by due time (or amount, or fraud score), filtered, one page."""
    filters = QueueFilter(seller=seller, reason=reason, rule=rule, min_amount=min_amount, max_amount=max_amount,
                          country=country, currency=currency, status=status)
    return service.reviews.queue(sort=sort, filters=filters, limit=limit, offset=offset)


@router.post("/v1/reviews/decisions", response_model=BulkResult, responses=documented(*POSTED, 401, 403, 422))
def decide_reviews(body: BulkDecisionIn, service: ServiceDep, _: DecideRole) -> BulkResult:
    """Decide many open reviews of one pattern alike (a list of order_ids or a queue filter).

    Each review is decided in its own transaction; those claimed by another analyst,
    closed already or unknown are listed in `skipped` with why.
    """
    reviews = service.reviews
    if body.order_ids is not None:
        return reviews.decide_many(body.order_ids, body.analyst, body.verdict, body.note)
    assert body.filter is not None  # checked by the model
    return reviews.decide_matching(body.filter, body.analyst, body.verdict, body.note, limit=body.limit)


@router.get("/v1/reviews/{order_id}", response_model=ReviewDetail, responses=documented(401, 403, 404, 422))
def get_review(order_id: str, service: ServiceDep, _: ReviewsRole) -> ReviewDetail:
    """A review: the order, its decision, claim, due time, the analyst's decision and the outcome timeline."""
    detail = service.reviews.review(order_id)
    if detail is None:
        raise ReviewNotFound(f"no review for order_id {order_id!r}")
    return detail


@router.post("/v1/reviews/{order_id}/claim", response_model=Claim,
             responses=documented(*POSTED, 401, 403, 404, 409, 422))
def claim_review(order_id: str, body: AnalystIn, service: ServiceDep, _: DecideRole) -> Claim:
    """Claim a review (again: refresh the claim); 409 names the analyst holding it."""
    claim = service.reviews.claim(order_id, body.analyst)
    if not claim.ok:
        raise ClaimConflict(f"review {order_id!r} is claimed by {claim.held_by}", claim.held_by)
    return claim


@router.post("/v1/reviews/{order_id}/release", response_model=Released,
             responses=documented(*POSTED, 401, 403, 404, 422))
def release_review(order_id: str, body: AnalystIn, service: ServiceDep, _: DecideRole) -> Released:
    """Give back a claim; `released` is false when this analyst did not hold it."""
    return Released(order_id=order_id, released=service.reviews.release(order_id, body.analyst))


@router.post("/v1/reviews/{order_id}/decision", response_model=ReviewDetail,
             responses=documented(*POSTED, 401, 403, 404, 409, 422))
def decide_review(order_id: str, body: DecisionIn, service: ServiceDep, _: DecideRole) -> ReviewDetail:
    """Approve or decline a review with a note; it becomes an outcome (confirmed_legit / confirmed_fraud)."""
    return service.reviews.decide(order_id, body.analyst, body.verdict, body.note)


@router.post("/v1/orders/{order_id}/label", response_model=LabelRecorded,
             responses=documented(*POSTED, 401, 403, 404, 422))
def label_order(order_id: str, body: LabelIn, service: ServiceDep, _: DecideRole) -> LabelRecorded:
    """Mark any scored order (approved ones included) as confirmed_fraud or confirmed_legit."""
    now = datetime.now(UTC)
    service.reviews.label(order_id, body.analyst, body.kind, body.note, now=now)
    return LabelRecorded(order_id=order_id, kind=body.kind, analyst=body.analyst, reported_at=now)


@router.get("/v1/orders/{order_id}/detail", response_model=OrderDetail, responses=documented(401, 403, 404, 422))
def get_order(order_id: str, service: ServiceDep, _: ReviewsRole) -> OrderDetail:
    """A scored order: its fields, decision, outcomes (contradictions flagged) and analyst actions."""
    detail = service.reviews.order(order_id)
    if detail is None:
        raise ReviewNotFound(f"no decision logged for order_id {order_id!r}")
    return detail


@router.get("/v1/orders/{order_id}/linked", response_model=LinkedOrders, responses=documented(401, 403, 404, 422))
def get_linked_orders(order_id: str, service: ServiceDep, _: ReviewsRole,
                      limit: Annotated[int, Query(ge=1, le=MAX_LINKED)] = 1000) -> LinkedOrders:
    """The other orders sharing the order's card, device, IP, buyer, seller or shipping address, and their graph."""
    return service.reviews.linked(order_id, limit=limit)


@router.get("/v1/overview", response_model=Overview, responses=documented(401, 403, 422))
def get_overview(service: ServiceDep, _: ReviewsRole, since: Time | None = None,
                 until: Time | None = None, bucket: Literal["hour", "day"] = "day") -> Overview:
    """Decision rates over time, score distributions, review backlog against the SLA, analyst throughput."""
    until = until or datetime.now(UTC)
    since = since or until - timedelta(days=7)
    return service.reviews.stats(since=since, until=until, bucket=bucket)


@router.get("/v1/webhooks/deliveries", response_model=list[Delivery], responses=documented(401, 403, 422))
def list_webhook_deliveries(service: ServiceDep, _: WebhooksRole,
                            status: Literal["pending", "delivered"] | None = None,
                            limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[Delivery]:
    """Webhook events and their delivery state (attempts, next attempt, last error), newest first."""
    return deliveries(service.engine.decisions, status=status, limit=limit)
