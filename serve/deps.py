"""Dependency aliases for the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from serve.auth import require
from serve.engine import ScoringEngine
from serve.metrics import Metrics


# async: FastAPI runs sync dependencies in its thread pool, and each hop cost measurable
# throughput under load (these never block)
async def get_engine(request: Request) -> ScoringEngine:
    return request.app.state.engine


async def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


EngineDep = Annotated[ScoringEngine, Depends(get_engine)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
CheckoutRole = Annotated[str, Depends(require("checkout"))]
AnalystRole = Annotated[str, Depends(require("analyst"))]
AdminRole = Annotated[str, Depends(require())]
