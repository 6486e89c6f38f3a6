"""Typed dependencies of the pages: the web app's context, the logged-in user, the CSRF check."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from serve.ui.app import UiContext
from serve.ui.session import AdminOnly, LoginRequired, check_csrf, log_out, session_user_name
from serve.ui.users import User


async def get_ui(request: Request) -> UiContext:
    return request.app.state.ui


UiDep = Annotated[UiContext, Depends(get_ui)]


def current_user(request: Request, ui: UiDep) -> User:
    """The logged-in, still active account; LoginRequired (a redirect to the login page) otherwise."""
    name = session_user_name(request)
    user = ui.users.get(name) if name else None
    if user is None or not user.active:
        log_out(request)
        raise LoginRequired("log in first")
    return user


UserDep = Annotated[User, Depends(current_user)]


def current_admin(user: UserDep) -> User:
    if user.role != "admin":
        raise AdminOnly("only an admin may do this")
    return user


AdminDep = Annotated[User, Depends(current_admin)]
CsrfChecked = Depends(check_csrf)
