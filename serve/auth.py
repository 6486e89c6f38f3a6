"""API keys with roles: 401 without a valid key, 403 when the key's role may not do this."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import Request

from risk.errors import RiskError


class Unauthorized(RiskError):
    status = 401


class Forbidden(RiskError):
    status = 403


class KeyRing:
    """Maps API keys to roles; compares in constant time so keys cannot be guessed byte by byte."""

    def __init__(self, keys: dict[str, str]) -> None:
        self.keys = dict(keys)

    def role_of(self, key: str | None) -> str | None:
        if not key:
            return None
        for known, role in self.keys.items():
            if hmac.compare_digest(known.encode(), key.encode()):
                return role
        return None


def presented_key(request: Request) -> str | None:
    """The key from `X-API-Key` or `Authorization: Bearer <key>`."""
    key = request.headers.get("x-api-key")
    if key:
        return key
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def require(*roles: str) -> Callable[[Request], str]:
    """A dependency admitting only keys whose role is in `roles` (admin is always admitted)."""
    allowed = set(roles) | {"admin"}

    async def check(request: Request) -> str:  # async: no thread-pool hop; it never blocks
        ring: KeyRing = request.app.state.keys
        role = ring.role_of(presented_key(request))
        if role is None:
            raise Unauthorized("missing or unknown API key: send it as X-API-Key or Authorization: Bearer")
        if role not in allowed:
            raise Forbidden(f"a {role} key may not do this (needs {' or '.join(sorted(allowed))})")
        return role

    return check
