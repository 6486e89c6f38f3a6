"""POST /v1/orders/score: the checkout's question before charging the card."""

from __future__ import annotations

from fastapi import APIRouter, Response

from risk.contract import Decision, Order
from risk.errors import NotFound
from serve.deps import AnalystRole, CheckoutRole, EngineDep, MetricsDep

router = APIRouter(prefix="/v1", tags=["orders"])

_ERRORS = {
    401: {"description": "Missing or unknown API key"},
    403: {"description": "The key's role may not score orders"},
    409: {"description": "This order_id was already scored with a different body"},
    413: {"description": "Request body too large"},
    422: {"description": "The body breaks the data contract; `problems` names each field and reason"},
}


@router.post("/orders/score", response_model=Decision, responses=_ERRORS)
def score_order(order: Order, engine: EngineDep, metrics: MetricsDep, _: CheckoutRole) -> Response:
    """Score an order before it is charged: approve, review or decline, with calibrated scores and reasons.

    Idempotent on `order_id`: the same body again returns the stored decision (header
    `Idempotent-Replay: true`) and changes nothing; another body for it is refused with 409.
    """
    scored = engine.score(order)
    decision = scored.decision
    # serialised here: returning the model would validate it again in another thread-pool hop
    response = Response(decision.model_dump_json(), media_type="application/json")
    if scored.replayed:
        response.headers["Idempotent-Replay"] = "true"
        metrics.replays.inc()
        return response
    metrics.latency.observe((decision.elapsed_ms or 0.0) / 1000)
    metrics.decisions.labels(decision=decision.decision).inc()
    metrics.scores.labels(risk="fraud").observe(decision.fraud_score)
    metrics.scores.labels(risk="regret").observe(decision.regret_score)
    if decision.degraded:
        metrics.degraded.inc()
    return response


@router.get("/decisions/{order_id}", response_model=Decision, responses={404: {"description": "Never scored"}})
def get_decision(order_id: str, engine: EngineDep, _: AnalystRole) -> Decision:
    """The decision logged for an order (analysts reviewing flagged orders)."""
    stored = engine.decisions.get(order_id)
    if stored is None:
        raise NotFound(f"no decision for order_id {order_id!r}")
    return Decision.model_validate(stored.decision)
