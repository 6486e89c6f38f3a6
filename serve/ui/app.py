"""The web app, mounted on the scoring service's FastAPI app under /ui.

A sub-application of its own, so its session cookies, HTML error pages and security
headers stay off the scoring API (and its pages out of the API's OpenAPI schema).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import ChainableUndefined, Environment, PackageLoader
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from risk.errors import RiskError
from serve.config import Settings
from serve.reviews import ReviewService
from serve.rules_store.service import RulesService
from serve.service import ScoringService
from serve.ui import formatting
from serve.ui.session import CSRF_FIELD, LoginRequired, csrf_token, session_secret
from serve.ui.throttle import LoginThrottle
from serve.ui.users import User, UserStore

PREFIX = "/ui"
SESSION_COOKIE = "risk_ui_session"
# No inline script or style anywhere in the pages: even markup that slipped past escaping could not run.
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


@dataclass
class UiContext:
    """What every page handler needs: the scoring service (and its reviews), the rules service the rules API
    calls (its store, its watcher, its backtests), accounts, templates."""

    settings: Settings
    service: ScoringService
    rules: RulesService
    users: UserStore
    templates: Jinja2Templates
    throttle: LoginThrottle = field(default_factory=LoginThrottle)

    @property
    def reviews(self) -> ReviewService:
        return self.service.reviews

    def page(self, request: Request, template: str, user: User | None, status_code: int = 200,
             **context: Any) -> HTMLResponse:
        """A page: the template with the user, this session's CSRF token and a one-off notice or refusal, escaped."""
        notice = request.session.pop("notice", None)
        refused = request.session.pop("problem", None)
        return self.templates.TemplateResponse(
            request, template, {"user": user, "csrf_token": csrf_token(request), "csrf_field": CSRF_FIELD,
                                "notice": notice, "refused": refused, "prefix": PREFIX, **context},
            status_code=status_code)


def template_environment() -> Environment:
    """Autoescape on for every template (not only .html ones): order fields are attacker-controlled."""
    env = Environment(loader=PackageLoader("serve.ui", "templates"), autoescape=True, undefined=ChainableUndefined)
    env.filters.update(money=formatting.money, moment=formatting.moment, duration=formatting.duration,
                       percent=formatting.percent, due=formatting.due)
    return env


def static_dir() -> Path:
    return Path(str(files("serve.ui") / "static"))


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every answer of the web app; pages are not cached (they carry tokens)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith(f"{PREFIX}/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def build_ui(settings: Settings, service: ScoringService, rules: RulesService) -> FastAPI:
    """The web app as an ASGI app (mounted at PREFIX by `mount_ui`)."""
    from serve.ui.pages import backtest, lists, login, orders, overview, queue, users
    from serve.ui.pages import rules as rule_pages

    ui = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    templates = Jinja2Templates(env=template_environment())
    ui.state.ui = UiContext(settings, service, rules, UserStore(service.engine.decisions), templates)
    for router in (login.router, queue.router, orders.router, overview.router, users.router, rule_pages.router,
                   lists.router, backtest.router):
        ui.include_router(router)
    ui.mount("/static", StaticFiles(directory=static_dir()), name="static")
    _install_errors(ui)
    ui.add_middleware(SessionMiddleware, secret_key=session_secret(settings), session_cookie=SESSION_COOKIE,
                      max_age=int(settings.ui_session_hours * 3600), path=PREFIX, same_site="lax",
                      https_only=settings.ui_secure_cookies)
    ui.add_middleware(SecurityHeaders)
    return ui


def mount_ui(app: FastAPI, settings: Settings, service: ScoringService, rules: RulesService) -> None:
    app.mount(PREFIX, build_ui(settings, service, rules), name="ui")


def _install_errors(ui: FastAPI) -> None:
    """Errors as HTML pages (never a stack trace); no session sends the browser to the login page."""

    def error_page(request: Request, status: int, message: str) -> Response:
        context: UiContext = request.app.state.ui
        return context.page(request, "error.html", None, status_code=status, status=status, message=message)

    @ui.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{PREFIX}/login?next={quote(target)}", status_code=303)

    @ui.exception_handler(RiskError)
    async def risk_error(request: Request, exc: RiskError) -> Response:
        return error_page(request, exc.status, exc.message)

    @ui.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}" for e in exc.errors())
        return error_page(request, 422, f"the form or address is not valid ({problems})")

    @ui.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return error_page(request, exc.status_code, str(exc.detail))
