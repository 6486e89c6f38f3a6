"""Typed dependencies of the routes: the service, and the role a route needs (which the OpenAPI schema shows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security

from serve.auth import API_KEY_SCHEME, BEARER_SCHEME, Action, key_from
from serve.config import Role
from serve.rules_store.service import RulesService
from serve.service import ScoringService


# async: FastAPI runs sync dependencies in its thread pool, and each hop cost measurable
# throughput under load (these never block)
async def get_service(request: Request) -> ScoringService:
    """The app's one service object (set by serve.main.create_app)."""
    return request.app.state.service


ServiceDep = Annotated[ScoringService, Depends(get_service)]
_ApiKey = Annotated[str | None, Security(API_KEY_SCHEME)]
_Authorization = Annotated[str | None, Security(BEARER_SCHEME)]


def _role(action: Action) -> object:
    """A dependency admitting only keys whose role may do `action` (serve.auth.PERMISSIONS)."""

    async def check(service: ServiceDep, api_key: _ApiKey, authorization: _Authorization) -> Role:
        return service.keys.check(action, key_from(api_key, authorization))

    return Depends(check)


ScoringRole = Annotated[Role, _role("score_orders")]
OutcomesRole = Annotated[Role, _role("send_outcomes")]
DecisionsRole = Annotated[Role, _role("read_decisions")]
ReloadRole = Annotated[Role, _role("reload_model")]
ReviewsRole = Annotated[Role, _role("read_reviews")]
DecideRole = Annotated[Role, _role("decide_reviews")]
WebhooksRole = Annotated[Role, _role("read_webhooks")]


@dataclass(frozen=True)
class Caller:
    """Who calls: the key's role and the name its changes are recorded under (serve.auth.KeyRing.name_of)."""

    role: Role
    name: str


def _caller(action: Action) -> object:
    """A dependency admitting only keys whose role may do `action`, giving who they are."""

    async def check(service: ServiceDep, api_key: _ApiKey, authorization: _Authorization) -> Caller:
        key = key_from(api_key, authorization)
        role = service.keys.check(action, key)
        return Caller(role, service.keys.name_of(key or ""))

    return Depends(check)


async def get_rules(request: Request) -> RulesService:
    """The app's rules service (set by serve.main.create_app)."""
    return request.app.state.rules


RulesDep = Annotated[RulesService, Depends(get_rules)]
RulesReader = Annotated[Caller, _caller("read_rules")]
RulesManager = Annotated[Caller, _caller("manage_rules")]
RulesApprover = Annotated[Caller, _caller("approve_rules")]
