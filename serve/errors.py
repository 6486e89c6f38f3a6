"""One place that turns every error into a clear JSON answer: never a stack trace, never a 500 for bad input.

`problem` builds every error body the service sends (the routes' handlers, the fast
path, the body-size limit); `Problem` and `MalformedRequest` declare them in the OpenAPI
schema, the latter with the `problems` list every malformed request gets (400, 413, 422).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from risk.errors import RiskError
from serve.metrics import Metrics

log = logging.getLogger("risk.serve")
WHOLE_BODY = "(body)"  # the `field` of a problem with the body as a whole


class FieldProblem(BaseModel):
    field: str
    reason: str


class Problem(BaseModel):
    """An error answer: a stable `error` code and a sentence."""

    error: str
    message: str


class MalformedRequest(Problem):
    """The answer to a request that cannot be read or breaks the contract: each field's problem too."""

    problems: list[FieldProblem]


_MEANINGS: dict[int, tuple[type[Problem], str]] = {
    400: (MalformedRequest, "The body cannot be read as JSON (not UTF-8); `problems` says why"),
    401: (Problem, "Missing or unknown API key"),
    403: (Problem, "The key's role may not do this"),
    404: (Problem, "Not found"),
    409: (Problem, "This order_id was already scored with a different body"),
    413: (MalformedRequest, "Request body over the size limit"),
    422: (MalformedRequest, "The body breaks the data contract; `problems` names each field and reason"),
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` of a route's error answers, each with its body's model."""
    return {status: {"model": _MEANINGS[status][0], "description": _MEANINGS[status][1]} for status in statuses}


def problem(status: int, error: str, message: str, problems: list[dict[str, str]] | None = None,
            headers: Mapping[str, str] | None = None, extra: Mapping[str, Any] | None = None) -> JSONResponse:
    """An error answer (a Starlette response, so also an ASGI app the fast path can call).

    `extra`: more fields an error carries (a refused rule's position, line and column).
    """
    body: dict[str, Any] = {"error": error, "message": message, **(extra or {})}
    if problems is not None:
        body["problems"] = problems
    return JSONResponse(body, status_code=status, headers=headers)


def risk_problem(exc: RiskError, metrics: Metrics) -> JSONResponse:
    """The answer to an error the engine raised on purpose, counted in the metrics.

    A 422 carries `problems` like every other 422 (its documented body, MalformedRequest).
    """
    metrics.count_error(exc.status)
    extra = dict(getattr(exc, "fields", None) or {})
    problems = extra.pop("problems", None)  # an error naming its own fields (a refused rule's text) says which
    if problems is None and exc.status == 422:
        problems = [{"field": WHOLE_BODY, "reason": exc.message}]
    return problem(exc.status, type(exc).__name__, exc.message, problems, extra=extra)


def install(app: FastAPI, metrics: Metrics) -> None:
    """The app's exception handlers: every error answered by `problem` and counted."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [_request_problem(error) for error in exc.errors()]
        metrics.count_error(422)
        summary = "; ".join(f"{p['field']}: {p['reason']}" for p in problems[:5])
        return problem(422, "invalid_request", summary, problems)

    @app.exception_handler(RiskError)
    async def risk_error(request: Request, exc: RiskError) -> JSONResponse:
        return risk_problem(exc, metrics)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        metrics.count_error(exc.status_code)
        problems = None
        if exc.status_code == 400:  # FastAPI's answer to a body it cannot decode: say why, as for 422
            cause = exc.__cause__
            reason = f"{type(cause).__name__}: {cause}" if cause is not None else str(exc.detail)
            problems = [{"field": WHOLE_BODY, "reason": reason}]
        # the headers carry what the status needs, e.g. `Allow` with a 405
        headers = exc.headers
        if exc.status_code == 405:  # Starlette names only the first route of the path; a path may have several
            allowed = _allowed_methods(request) or (exc.headers or {}).get("Allow", "")
            headers = {**(exc.headers or {}), "Allow": allowed}
        return problem(exc.status_code, "http_error", str(exc.detail), problems, headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        metrics.count_error(500)
        return problem(500, "internal_error", "unexpected error; it was logged")


def _allowed_methods(request: Request) -> str:
    """Every method some route of the app answers at the request's path (routers included, at any depth)."""
    matched: list[tuple[str, set[str]]] = []
    pending = list(request.app.router.routes)
    while pending:
        route = pending.pop()
        included = getattr(route, "original_router", None)  # FastAPI keeps an included router's routes there
        if included is not None:
            pending.extend(included.routes)
            continue
        regex, route_methods = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and route_methods and regex.match(request.url.path):
            matched.append((getattr(route, "path", ""), set(route_methods)))
    # a path spelled out (/v1/reviews/decisions) is that resource, not a value of a template beside it
    exact = [methods for path, methods in matched if "{" not in path]
    return ", ".join(sorted(set().union(*(exact or [methods for _, methods in matched]))))


def _request_problem(error: Mapping[str, Any]) -> dict[str, str]:
    """One problem of a request FastAPI could not validate, its field as a dotted path inside the body."""
    loc = tuple(error.get("loc", ()))
    if error.get("type") == "json_invalid":  # loc is ("body", character position): not a field
        detail = error.get("ctx", {}).get("error", "")
        return {"field": WHOLE_BODY, "reason": f"not valid JSON: {detail} (character {loc[-1] if loc else 0})"}
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return {"field": ".".join(parts) or WHOLE_BODY, "reason": error.get("msg", "invalid")}
