"""Opening a review for an order decided `review`: the row (and webhook event) stored with its decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from risk.contract import Decision, Order
from serve.decision_log.schema import EventRow, ReviewRow
from serve.reviews.events import REVIEW_OPENED, event_row
from serve.reviews.models import MAX_AMOUNT


def codes(values: list[str]) -> str:
    """Codes as stored for a whole-word LIKE filter: space-separated, a space at each end."""
    return f" {' '.join(values)} " if values else " "


@dataclass(frozen=True)
class ReviewOpener:
    """What the engine asks when it logs a decision; `sla` sets the due time, `events` the review.opened event."""

    sla: timedelta = timedelta(minutes=240)
    events: bool = False  # webhooks configured: write review.opened into the outbox

    def open(self, order: Order, decision: Decision, now: datetime) -> tuple[ReviewRow | None, tuple[EventRow, ...]]:
        """The review (and its event) to store with this decision; none unless the final decision is review."""
        if decision.decision != "review":
            return None, ()
        row = ReviewRow(
            order_id=order.order_id, opened_at=now, due_at=now + self.sla, status="open",
            amount=min(order.amount, MAX_AMOUNT), currency=order.currency, seller_id=order.seller.account_id,
            buyer_id=order.buyer.account_id, country=order.buyer.country,
            fraud_score=decision.fraud_score, regret_score=decision.regret_score,
            reason_codes=codes([reason.code for reason in decision.reasons]),
            rule_ids=codes([rule.rule_id for rule in decision.rules]),
        )
        if not self.events:
            return row, ()
        data = {"order_id": order.order_id, "opened_at": now.isoformat(), "due_at": row.due_at.isoformat(),
                "amount": order.amount, "currency": order.currency, "fraud_score": decision.fraud_score,
                "regret_score": decision.regret_score, "reasons": [reason.code for reason in decision.reasons],
                "rules": [rule.rule_id for rule in decision.rules]}
        return row, (event_row(REVIEW_OPENED, order.order_id, data, now),)
