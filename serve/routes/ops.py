"""Health, readiness, metrics and model reload."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from serve.deps import ReloadRole, ServiceDep
from serve.errors import Problem, documented
from serve.metrics import TEXT_FORMAT
from serve.service import Readiness

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: Literal["ok"]


class ModelReloaded(BaseModel):
    model_version: str


@router.get("/healthz", response_model=Health)
def check_health() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "Not ready: the decision log does not answer"}})
def check_readiness(service: ServiceDep) -> JSONResponse:
    """Ready to score: a model is loaded and the decision log answers (the feature state may be degraded)."""
    readiness = service.readiness()
    return JSONResponse(readiness.model_dump(), status_code=200 if readiness.ready else 503)


@router.get("/metrics", response_class=Response,
            responses={200: {"description": "Prometheus metrics, text exposition format",
                             "content": {"text/plain": {"schema": {"type": "string"}}}}})
def read_metrics(service: ServiceDep) -> Response:
    """Prometheus metrics."""
    return Response(service.metrics_text(), media_type=TEXT_FORMAT)


REFUSED: dict[int | str, dict[str, Any]] = {409: {
    "model": Problem,
    "description": "The model was refused (it does not load or fails the canary: files, schema, code version, "
                   "example order, sample decision rates); the previous model keeps serving",
}}


@router.post("/v1/admin/reload", response_model=ModelReloaded, responses={**documented(401, 403), **REFUSED})
def reload_model(service: ServiceDep, _: ReloadRole) -> ModelReloaded:
    """Load the promoted model (or the model directory again) without a restart, after the canary."""
    return ModelReloaded(model_version=service.reload_model())
