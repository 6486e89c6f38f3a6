"""POST /v1/orders/score: the checkout's question before charging the card; and the logged decision."""

from __future__ import annotations

from fastapi import APIRouter, Response

from risk.contract import Decision, Order
from serve.deps import DecisionsRole, ScoringRole, ServiceDep
from serve.engine import Scored
from serve.errors import documented

router = APIRouter(tags=["orders"])
SCORE_PATH = "/v1/orders/score"  # also what serve.fast_path answers


def decision_response(scored: Scored) -> Response:
    """The answer to a scored order, for the route and the fast path alike.

    The body is the engine's serialisation: returning the model would validate it again
    in another thread-pool hop.
    """
    headers = {"Idempotent-Replay": "true"} if scored.replayed else None
    return Response(scored.json, media_type="application/json", headers=headers)


@router.post(SCORE_PATH, response_model=Decision, responses=documented(400, 401, 403, 409, 413, 422))
def score_order(order: Order, service: ServiceDep, _: ScoringRole) -> Response:
    """Score an order before it is charged: approve, review or decline, with calibrated scores and reasons.

    Idempotent on `order_id`: the same body again returns the stored decision (header
    `Idempotent-Replay: true`) and changes nothing; another body for it is refused with 409.
    """
    # reached for what serve.fast_path hands on (or with RISK_FAST_PATH=false)
    return decision_response(service.score(order))


@router.get("/v1/decisions/{order_id}", response_model=Decision, responses=documented(401, 403, 404, 422))
def get_decision(order_id: str, service: ServiceDep, _: DecisionsRole) -> Decision:
    """The decision logged for an order (analysts reviewing flagged orders); 404 if it was never scored."""
    return service.decision(order_id)
