"""POST /v1/outcomes: what was learned about orders later (chargebacks, refunds, analyst verdicts)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from risk.contract import Outcome
from serve.deps import OutcomesRole, ServiceDep
from serve.errors import documented

router = APIRouter(tags=["outcomes"])


class OutcomeBatch(BaseModel):
    outcomes: list[Outcome] = Field(min_length=1, max_length=10_000)


class OutcomesStored(BaseModel):
    received: int
    stored: int  # new ones; an outcome sent twice is stored once


@router.post("/v1/outcomes", response_model=OutcomesStored, responses=documented(400, 401, 403, 413, 422))
def record_outcomes(body: Outcome | OutcomeBatch, service: ServiceDep, _: OutcomesRole) -> OutcomesStored:
    """Record one outcome, or a batch as {"outcomes": [...]}; stored durably before the answer."""
    outcomes = body.outcomes if isinstance(body, OutcomeBatch) else [body]
    return OutcomesStored(received=len(outcomes), stored=service.record_outcomes(outcomes))
