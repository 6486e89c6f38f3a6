"""POST /v1/orders/score: the checkout's question before charging the card."""

from __future__ import annotations

from fastapi import APIRouter, Response

from risk.contract import Decision, Order
from risk.errors import NotFound
from serve.deps import AnalystRole, CheckoutRole, EngineDep, MetricsDep
from serve.fast_path import observe

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
    # reached for what serve.fast_path hands on (or with RISK_FAST_PATH=false); the same steps
    scored = engine.score(order)
    # the engine's serialisation: returning the model would validate it again in another thread-pool hop
    response = Response(scored.json, media_type="application/json")
    if scored.replayed:
        response.headers["Idempotent-Replay"] = "true"
    observe(metrics, scored)
    return response


@router.get("/decisions/{order_id}", response_model=Decision, responses={404: {"description": "Never scored"}})
def get_decision(order_id: str, engine: EngineDep, _: AnalystRole) -> Decision:
    """The decision logged for an order (analysts reviewing flagged orders)."""
    stored = engine.decisions.get(order_id)
    if stored is None:
        raise NotFound(f"no decision for order_id {order_id!r}")
    return Decision.model_validate(stored.decision)
