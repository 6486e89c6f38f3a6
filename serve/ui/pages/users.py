"""Accounts (admins only): list, add, disable; the same store as `risk users`."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from serve.ui.app import PREFIX
from serve.ui.pages.deps import AdminDep, CsrfChecked, UiDep

router = APIRouter()


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, ui: UiDep, admin: AdminDep) -> Response:
    return ui.page(request, "users.html", admin, users=ui.users.all())


@router.post("/users/add", dependencies=[CsrfChecked])
def add_user(request: Request, ui: UiDep, admin: AdminDep, name: Annotated[str, Form()],
             password: Annotated[str, Form()], role: Annotated[Literal["analyst", "admin"], Form()] = "analyst",
             ) -> Response:
    user = ui.users.add(name.strip(), role, password)
    request.session["notice"] = f"user {user.name} ({user.role}) added"
    return RedirectResponse(f"{PREFIX}/users", status_code=303)


@router.post("/users/disable", dependencies=[CsrfChecked])
def disable_user(request: Request, ui: UiDep, admin: AdminDep, name: Annotated[str, Form()]) -> Response:
    user = ui.users.disable(name)
    request.session["notice"] = f"user {user.name} disabled"
    return RedirectResponse(f"{PREFIX}/users", status_code=303)
