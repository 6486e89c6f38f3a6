"""Health, readiness, metrics and model reload."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serve.deps import AdminRole, EngineDep, MetricsDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(engine: EngineDep) -> JSONResponse:
    """Ready to score: a model is loaded and the decision log answers (the feature state may be degraded)."""
    checks = {"model": engine.model_version, "decision_log": engine.decisions.ping(),
              "feature_state": _state_ok(engine)}
    ready = bool(checks["decision_log"])
    return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)


def _state_ok(engine) -> bool:  # noqa: ANN001
    try:
        engine.state.order("__readyz__")
        return True
    except Exception:
        return False


@router.get("/metrics")
def metrics(metrics: MetricsDep) -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.post("/v1/admin/reload")
def reload_model(request: Request, engine: EngineDep, metrics: MetricsDep, _: AdminRole) -> dict:
    """Load the promoted model (or the model directory again) without a restart."""
    version = request.app.state.reloader.reload_now()
    metrics.set_model(engine.model_version)
    return {"model_version": version}
