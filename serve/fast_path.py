"""POST /v1/orders/score for a valid order from an allowed key, in a few calls instead of FastAPI's routing.

Why: measured in process, FastAPI's route machinery (dependency solving, request and
response objects, the thread-pool hop) cost about 0.5 ms of CPU per request, as much as
scoring the order. This ASGI layer does the route's steps itself: the key's role, the
contract validation of the body (pydantic, straight from the JSON bytes), the engine,
the metrics. Anything it does not answer itself (no or wrong key, a body that breaks
the contract, another content type) goes on to the FastAPI route with the body
replayed, so every error answer and the OpenAPI schema stay the route's. Errors the
engine raises (409, 503) are answered in the route's format.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from pydantic import ValidationError
from starlette.datastructures import State

from risk.contract import Order
from risk.errors import RiskError
from serve.auth import KeyRing
from serve.engine import Scored, ScoringEngine
from serve.errors import problem
from serve.metrics import Metrics

SCORE_PATH = "/v1/orders/score"
_ALLOWED = frozenset({"checkout", "admin"})  # the route's CheckoutRole


class ScoreFastPath:
    def __init__(self, app: Any, state: State) -> None:
        self.app = app
        self.state = state  # the FastAPI app's state: engine, keys, metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != SCORE_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        key, json_body = _headers(scope["headers"])
        keys: KeyRing = self.state.keys
        if not json_body or keys.role_of(key) not in _ALLOWED:
            await self.app(scope, receive, send)
            return
        body, more = await _read_body(receive)
        try:
            order = Order.model_validate_json(body)
        except ValidationError:
            order = None
        if order is None or more is not None:
            await self.app(scope, _replay(body, more, receive), send)
            return
        engine: ScoringEngine = self.state.engine
        metrics: Metrics = self.state.metrics
        try:
            if engine.in_process:  # nothing to wait for: a thread hop would only add work
                scored = engine.score(order)
            else:
                scored = await anyio.to_thread.run_sync(engine.score, order)
        except RiskError as exc:
            metrics.errors.labels(status=str(exc.status)).inc()
            await problem(exc.status, type(exc).__name__, exc.message)(scope, receive, send)
            return
        observe(metrics, scored)
        payload = scored.json.encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        if scored.replayed:
            headers.append((b"idempotent-replay", b"true"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def observe(metrics: Metrics, scored: Scored) -> None:
    """The metrics of one answered scoring request (shared with the FastAPI route)."""
    decision = scored.decision
    if scored.replayed:
        metrics.replays.inc()
        return
    metrics.latency.observe((decision.elapsed_ms or 0.0) / 1000)
    metrics.decisions.labels(decision=decision.decision).inc()
    metrics.scores.labels(risk="fraud").observe(decision.fraud_score)
    metrics.scores.labels(risk="regret").observe(decision.regret_score)
    if decision.degraded:
        metrics.degraded.inc()


def _headers(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, bool]:
    """(the API key presented, whether the body is declared JSON), as serve.auth reads them."""
    key = bearer = None
    json_body = False
    for name, value in headers:
        if name == b"x-api-key":
            key = value.decode("latin-1")
        elif name == b"authorization":
            text = value.decode("latin-1")
            bearer = text[7:].strip() if text.lower().startswith("bearer ") else None
        elif name == b"content-type":
            json_body = value.split(b";", 1)[0].strip().lower() == b"application/json"
    return key or bearer, json_body


async def _read_body(receive: Any) -> tuple[bytes, dict | None]:
    """The whole body; or what was read and the first non-body message (a disconnect) to hand on."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, pending: dict | None, receive: Any) -> Any:
    """A `receive` giving the route the body already read, then whatever comes next."""
    sent = False

    async def replay() -> dict:
        nonlocal sent, pending
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if pending is not None:
            message, pending = pending, None
            return message
        return await receive()

    return replay
