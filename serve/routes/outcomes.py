"""POST /v1/outcomes: what was learned about orders later (chargebacks, refunds, analyst verdicts)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from risk.contract import Outcome
from serve.deps import CheckoutRole, EngineDep

router = APIRouter(prefix="/v1", tags=["outcomes"])


class OutcomeBatch(BaseModel):
    outcomes: list[Outcome] = Field(min_length=1, max_length=10_000)


class OutcomesStored(BaseModel):
    received: int
    stored: int  # new ones; an outcome sent twice is stored once


@router.post("/outcomes", response_model=OutcomesStored, responses={
    401: {"description": "Missing or unknown API key"}, 403: {"description": "Role may not send outcomes"},
    422: {"description": "The body breaks the data contract"}})
def record_outcomes(body: Outcome | OutcomeBatch, engine: EngineDep, _: CheckoutRole) -> OutcomesStored:
    """Record one outcome, or a batch as {"outcomes": [...]}; stored durably before the answer."""
    outcomes = body.outcomes if isinstance(body, OutcomeBatch) else [body]
    return OutcomesStored(received=len(outcomes), stored=engine.record_outcomes(outcomes))
