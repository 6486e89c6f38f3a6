"""Log in and out; / sends to the queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from serve.ui.app import PREFIX
from serve.ui.pages.deps import CsrfChecked, UiDep
from serve.ui.session import log_in, log_out, session_user_name

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a page of this app only (no open redirect to another site)."""
    if target and target.startswith(f"{PREFIX}/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{PREFIX}/queue"


@router.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/queue", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, ui: UiDep, next: str | None = None) -> Response:
    """The login form (a logged-in user goes straight on)."""
    name = session_user_name(request)
    user = ui.users.get(name) if name else None
    if user is not None and user.active:
        return RedirectResponse(safe_next(next), status_code=303)
    return ui.page(request, "login.html", None, next=safe_next(next))


@router.post("/login", dependencies=[CsrfChecked])
def login(request: Request, ui: UiDep, username: Annotated[str, Form()], password: Annotated[str, Form()],
          next: Annotated[str, Form()] = "") -> Response:
    """Check the password (argon2); a few failures for a name or an address make the next tries wait."""
    address = request.client.host if request.client else "unknown"
    keys = (f"user:{username.lower()}", f"ip:{address}")
    wait = ui.throttle.wait_s(*keys)
    if wait > 0:
        return ui.page(request, "login.html", None, status_code=429, next=safe_next(next), username=username,
                       error=f"too many failed logins: try again in {int(wait // 60) + 1} min")
    user = ui.users.authenticate(username, password)
    if user is None:
        ui.throttle.failed(*keys)
        return ui.page(request, "login.html", None, status_code=401, next=safe_next(next), username=username,
                       error="wrong name or password (or the account is disabled)")
    ui.throttle.succeeded(keys[0])
    log_in(request, user)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request) -> RedirectResponse:
    log_out(request)
    return RedirectResponse(f"{PREFIX}/login", status_code=303)
