"""API keys and roles: who may do what, decided the same way by the FastAPI routes and the fast path.

One roles table (`PERMISSIONS`), one key parser (`key_from`) and one check
(`KeyRing.check`): 401 without a valid key, 403 when the key's role may not do this.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Literal

from fastapi import Request
from fastapi.openapi.models import APIKey, APIKeyIn, HTTPBearer
from fastapi.openapi.models import SecurityBase as SecurityModel
from fastapi.security.base import SecurityBase

from risk.errors import RiskError
from serve.config import Role

Action = Literal["score_orders", "send_outcomes", "read_decisions", "reload_model", "read_reviews", "decide_reviews",
                 "read_webhooks", "read_rules", "manage_rules", "approve_rules"]
PERMISSIONS: Mapping[Action, frozenset[Role]] = {
    "score_orders": frozenset({"checkout", "admin"}),
    "send_outcomes": frozenset({"checkout", "admin"}),
    "read_decisions": frozenset({"analyst", "admin"}),
    "reload_model": frozenset({"admin"}),
    "read_reviews": frozenset({"analyst", "admin"}),  # the queue, an order's detail and linked orders, the overview
    "decide_reviews": frozenset({"analyst", "admin"}),  # claim, release, decide, bulk decide, label an order
    "read_webhooks": frozenset({"analyst", "admin"}),  # the outbox's delivery state
    "read_rules": frozenset({"analyst", "admin"}),  # rules, lists, their history, backtests
    "manage_rules": frozenset({"analyst", "admin"}),  # create, edit, disable, restore, test mode; lists
    "approve_rules": frozenset({"admin"}),  # a second person's approval of a decline rule
}

KEY_HEADER = "x-api-key"
BEARER_HEADER = "authorization"
_BEARER = "bearer "


class Unauthorized(RiskError):
    status = 401


class Forbidden(RiskError):
    status = 403


def key_from(api_key: str | None, authorization: str | None) -> str | None:
    """The key presented: the `X-API-Key` header, else `Authorization: Bearer <key>`."""
    if api_key:
        return api_key
    if authorization and authorization[:len(_BEARER)].lower() == _BEARER:
        return authorization[len(_BEARER):].strip() or None
    return None


class KeyRing:
    """Maps API keys to roles; compares in constant time so keys cannot be guessed byte by byte."""

    def __init__(self, keys: Mapping[str, Role], names: Mapping[str, str] | None = None) -> None:
        self.keys = dict(keys)
        self.names = dict(names or {})

    def role_of(self, key: str | None) -> Role | None:
        if not key:
            return None
        for known, role in self.keys.items():
            if hmac.compare_digest(known.encode(), key.encode()):
                return role
        return None

    def name_of(self, key: str) -> str:
        """Who a (valid) key stands for in audit trails: its configured name, else its role and a hash prefix."""
        for known, name in self.names.items():
            if hmac.compare_digest(known.encode(), key.encode()):
                return name
        return f"{self.role_of(key)}:{hashlib.sha256(key.encode()).hexdigest()[:8]}"

    def allows(self, action: Action, key: str | None) -> bool:
        """Whether `key` may do `action` (the fast path's question: no error built when it may not)."""
        return self.role_of(key) in PERMISSIONS[action]

    def check(self, action: Action, key: str | None) -> Role:
        """The key's role if it may do `action`; Unauthorized or Forbidden otherwise."""
        role = self.role_of(key)
        if role is None:
            raise Unauthorized("missing or unknown API key: send it as X-API-Key or Authorization: Bearer")
        allowed = PERMISSIONS[action]
        if role not in allowed:
            raise Forbidden(f"a {role} key may not do this (needs {' or '.join(sorted(allowed))})")
        return role


class KeyHeader(SecurityBase):
    """A security scheme for the OpenAPI schema (and the Authorize button of /docs).

    As a dependency it hands on the raw header, so that `key_from` stays the one parser
    (FastAPI's own HTTPBearer would parse `Authorization` a second way).
    """

    def __init__(self, header: str, model: SecurityModel, scheme_name: str) -> None:
        self.header = header
        self.model = model
        self.scheme_name = scheme_name

    async def __call__(self, request: Request) -> str | None:  # async: no thread-pool hop; it never blocks
        return request.headers.get(self.header)


API_KEY_SCHEME = KeyHeader(KEY_HEADER, APIKey.model_validate(
    {"in": APIKeyIn.header, "name": "X-API-Key", "description": "An API key; its role decides what it may do."}),
    "ApiKey")
BEARER_SCHEME = KeyHeader(BEARER_HEADER, HTTPBearer(description="The same API key as `Authorization: Bearer <key>`."),
                          "Bearer")
