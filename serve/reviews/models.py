"""What the review queue answers: the JSON API's bodies and the web app's page data, one set of models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from risk.contract import OutcomeKind, OutcomeSource, Reason, RuleMatch

QueueSort = Literal["due", "amount", "score"]
AnalystVerdict = Literal["approve", "decline"]
LabelKind = Literal["confirmed_fraud", "confirmed_legit"]
ReviewStatus = Literal["open", "closed"]
EntityKind = Literal["card", "device", "ip", "buyer", "seller", "shipping_address"]

MAX_AMOUNT = 2**63 - 1  # what both databases' integer columns hold
VERDICT_OUTCOME: dict[str, LabelKind] = {"decline": "confirmed_fraud", "approve": "confirmed_legit"}
"""The outcome an analyst's verdict records: a declined review was fraud, an approved one genuine."""


class QueueFilter(BaseModel):
    """Which reviews the queue shows; every field optional (None: no condition)."""

    seller: str | None = None
    reason: str | None = None  # a reason code, e.g. FRAUD:CARD_DEVICES_1H
    rule: str | None = None  # a rule_id
    min_amount: int | None = Field(default=None, ge=0, le=MAX_AMOUNT)  # minor units
    max_amount: int | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    country: str | None = None  # the buyer's country
    currency: str | None = None
    status: ReviewStatus | Literal["all"] = "open"

    @field_validator("country", "currency")
    @classmethod
    def _upper(cls, code: str | None) -> str | None:
        """Codes are stored as the contract normalises them (upper case): `fr` finds FR."""
        return None if code is None else code.upper()


class ReviewSummary(BaseModel):
    """One row of the queue."""

    order_id: str
    opened_at: datetime
    due_at: datetime
    waiting_seconds: float
    overdue: bool
    amount: int
    currency: str
    seller_id: str
    buyer_id: str
    country: str | None
    fraud_score: float
    regret_score: float
    reasons: list[Reason]
    rules: list[RuleMatch]
    claimed_by: str | None  # None also when the claim went idle longer than the claim timeout
    status: ReviewStatus


class QueuePage(BaseModel):
    items: list[ReviewSummary]
    total: int  # reviews matching the filter, all pages
    limit: int
    offset: int


class Claim(BaseModel):
    order_id: str
    ok: bool
    held_by: str | None  # who holds it now (the caller when ok)
    claimed_at: datetime | None = None


class AnalystDecision(BaseModel):
    verdict: AnalystVerdict
    note: str
    analyst: str
    decided_at: datetime


class OutcomeEntry(BaseModel):
    """One outcome of the order, as stored; `contradicts` names the other kinds it disagrees with."""

    kind: OutcomeKind
    reported_at: datetime
    source: OutcomeSource | None
    contradicts: list[str] = []


class ActionEntry(BaseModel):
    """One analyst action on the order (a decision or a label), with its note."""

    action: str
    analyst: str
    note: str
    at: datetime


class OrderDetail(BaseModel):
    """A logged order with its decision, outcomes and analyst actions (any order, reviewed or not)."""

    order_id: str
    order: dict[str, Any]
    decision: dict[str, Any]
    model_version: str
    created_at: datetime
    outcomes: list[OutcomeEntry]  # oldest first, every one as reported
    contradictory: bool  # fraud and legit outcomes both stand: shown, never merged
    actions: list[ActionEntry]  # oldest first
    review_status: ReviewStatus | None = None  # None: the order was never in review


class ReviewDetail(OrderDetail):
    """An order in (or once in) the review queue."""

    status: ReviewStatus
    opened_at: datetime
    due_at: datetime
    waiting_seconds: float
    overdue: bool
    claimed_by: str | None
    claimed_at: datetime | None
    analyst_decision: AnalystDecision | None


class BulkSkip(BaseModel):
    order_id: str
    reason: str


class BulkResult(BaseModel):
    decided: list[str]
    skipped: list[BulkSkip]


class LinkedOrder(BaseModel):
    order_id: str
    created_at: datetime
    amount: int | None
    currency: str | None
    shared: list[EntityKind]
    decision: str | None
    fraud_score: float | None
    latest_outcome: str | None  # the kind of its latest outcome
    outcomes: list[str] = []  # every outcome kind, oldest first


class GraphNode(BaseModel):
    id: str  # "order:<order_id>" or "<entity kind>:<value>"
    kind: Literal["order", "card", "device", "ip", "buyer", "seller", "shipping_address"]
    label: str
    center: bool = False
    decision: str | None = None
    latest_outcome: str | None = None


class GraphEdge(BaseModel):
    source: str  # an order node
    target: str  # an entity node


class Graph(BaseModel):
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class LinkedOrders(BaseModel):
    order_id: str
    entities: dict[str, str]  # the order's own entities: kind -> value
    orders: list[LinkedOrder]  # most recent first
    graph: Graph
    truncated: bool  # more linked orders exist than `limit`
    limit: int


class DecisionBucket(BaseModel):
    start: datetime
    counts: dict[str, int]  # approve / review / decline


class Histogram(BaseModel):
    edges: list[float]
    counts: list[int]


class Backlog(BaseModel):
    open: int
    overdue: int
    claimed: int
    oldest_opened_at: datetime | None


class Overview(BaseModel):
    since: datetime
    until: datetime
    bucket: Literal["hour", "day"]
    decisions: list[DecisionBucket]
    fraud_scores: Histogram
    regret_scores: Histogram
    backlog: Backlog
    closed_by_analyst: dict[str, int]
    model_versions: dict[str, int]  # decisions per model version in the period
    sla_minutes: float = Field(description="the review SLA the backlog is measured against")


class Delivery(BaseModel):
    """A webhook event's delivery state (the outbox row without its body)."""

    event_id: str
    event_type: str
    order_id: str
    created_at: datetime
    status: Literal["pending", "delivered"]
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
