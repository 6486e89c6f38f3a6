"""One place that turns every error into a clear JSON answer: never a stack trace, never a 500 for bad input."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from risk.errors import RiskError

log = logging.getLogger("risk.serve")


def problem(status: int, error: str, message: str, problems: list[dict] | None = None) -> JSONResponse:
    body: dict = {"error": error, "message": message}
    if problems is not None:
        body["problems"] = problems
    return JSONResponse(body, status_code=status)


def _field(loc: tuple) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "(body)"


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"field": _field(tuple(e.get("loc", ()))), "reason": e.get("msg", "invalid")} for e in exc.errors()]
        _count(request, 422)
        summary = "; ".join(f"{p['field']}: {p['reason']}" for p in problems[:5])
        return problem(422, "invalid_request", summary, problems)

    @app.exception_handler(RiskError)
    async def risk_error(request: Request, exc: RiskError) -> JSONResponse:
        _count(request, exc.status)
        return problem(exc.status, type(exc).__name__, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        _count(request, exc.status_code)
        return problem(exc.status_code, "http_error", str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        _count(request, 500)
        return problem(500, "internal_error", "unexpected error; it was logged")


def _count(request: Request, status: int) -> None:
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.errors.labels(status=str(status)).inc()
