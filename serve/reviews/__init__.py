"""The review queue: orders decided `review` wait for an analyst, whose verdicts become outcomes.

- `opening.py`: the review (and webhook event) the engine stores with a `review` decision;
- `service.py`: `ReviewService`, the queue's rules for the JSON API and the web app;
- `store.py`: its SQL over the decision log (both backends); `linked.py`: linked orders;
- `events.py` and `webhooks.py`: signed webhook events from an outbox, delivered with retries;
- `stats.py`: the overview (decision rates, scores, backlog against the SLA, throughput).
"""

from serve.reviews.errors import ClaimConflict, InvalidDecision, ReviewNotFound
from serve.reviews.models import (
    BulkResult,
    Claim,
    LinkedOrders,
    OrderDetail,
    Overview,
    QueueFilter,
    QueuePage,
    ReviewDetail,
    ReviewSummary,
)
from serve.reviews.service import ReviewService

__all__ = [
    "BulkResult",
    "Claim",
    "ClaimConflict",
    "InvalidDecision",
    "LinkedOrders",
    "OrderDetail",
    "Overview",
    "QueueFilter",
    "QueuePage",
    "ReviewDetail",
    "ReviewNotFound",
    "ReviewService",
    "ReviewSummary",
]
