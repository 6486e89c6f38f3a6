"""POST /v1/orders/score for a valid order from an allowed key, in a few calls instead of FastAPI's routing.

Why: measured in process, FastAPI's route machinery (dependency solving, request and
response objects, the thread-pool hop) cost about 0.5 ms of CPU per request, as much as
scoring the order. This ASGI layer does the route's steps itself, with the route's own
pieces: the key and its role (serve.auth), the contract validation of the body
(pydantic, straight from the JSON bytes), the service, the route's response builder.
Anything it does not answer itself (no or wrong key, a body that breaks the contract,
another content type) goes on to the FastAPI route with the body replayed, so every
error answer and the OpenAPI schema stay the route's. Errors the engine raises (409,
503) are answered by the same builder as the route's handler (serve.errors).
"""

from __future__ import annotations

import anyio.to_thread
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from risk.contract import Order
from risk.errors import RiskError
from serve.auth import BEARER_HEADER, KEY_HEADER, key_from
from serve.errors import risk_problem
from serve.routes.orders import SCORE_PATH, decision_response
from serve.service import ScoringService

_KEY, _BEARER = KEY_HEADER.encode(), BEARER_HEADER.encode()


class ScoreFastPath:
    def __init__(self, app: ASGIApp, service: ScoringService) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != SCORE_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        api_key, authorization, json_body = _headers(scope["headers"])
        if not json_body or not self.service.keys.allows("score_orders", key_from(api_key, authorization)):
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
        try:
            if self.service.in_process:  # nothing to wait for: a thread hop would only add work
                scored = self.service.score(order)
            else:
                scored = await anyio.to_thread.run_sync(self.service.score, order)
        except RiskError as exc:
            await risk_problem(exc, self.service.metrics)(scope, receive, send)
            return
        await decision_response(scored)(scope, receive, send)


def _headers(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, str | None, bool]:
    """(X-API-Key, Authorization, whether the body is declared JSON): the raw values, for serve.auth.key_from."""
    api_key = authorization = None
    json_body = False
    for name, value in headers:
        if name == _KEY:
            api_key = value.decode("latin-1")
        elif name == _BEARER:
            authorization = value.decode("latin-1")
        elif name == b"content-type":
            json_body = value.split(b";", 1)[0].strip().lower() == b"application/json"
    return api_key, authorization, json_body


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body; or what was read and the first non-body message (a disconnect) to hand on."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, pending: Message | None, receive: Receive) -> Receive:
    """A `receive` giving the route the body already read, then whatever comes next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent, pending
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if pending is not None:
            message, pending = pending, None
            return message
        return await receive()

    return replay

