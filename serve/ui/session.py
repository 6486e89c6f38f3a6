"""Who is logged in, and the CSRF token every state-changing form carries.

The session is Starlette's signed cookie (itsdangerous; HttpOnly, SameSite=Lax, Secure
with RISK_UI_SECURE_COOKIES) holding the user's name and a per-session CSRF token. The
account is looked up again on every request, so disabling it ends its sessions at once.
The signing key is RISK_UI_SECRET, else a random key generated once into the data folder
(mode 0600): never a constant in code, and stable across restarts so logins survive them.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from fastapi import Request

from risk.errors import RiskError
from risk.files import write_atomically
from serve.config import Settings
from serve.ui.users import User

USER_KEY, CSRF_KEY = "user", "csrf"
CSRF_FIELD = "csrf_token"


class LoginRequired(RiskError):
    """No valid session: pages redirect to the login page."""

    status = 401


class CsrfRejected(RiskError):
    """A state-changing request without this session's CSRF token (or with another one)."""

    status = 403


class AdminOnly(RiskError):
    status = 403


def session_secret(settings: Settings) -> str:
    """RISK_UI_SECRET, else the key in data_dir/ui_secret (generated on first use, readable by its owner only)."""
    if settings.ui_secret:
        return settings.ui_secret
    path: Path = settings.ui_secret_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)

        def write_private(temporary: Path) -> None:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as file:
                file.write(key)

        write_atomically(path, write_private)
    return path.read_text().strip()


def csrf_token(request: Request) -> str:
    """This session's CSRF token (created with the session, anonymous ones included: the login form has one)."""
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return token


async def check_csrf(request: Request) -> None:
    """Refuse a form whose hidden `csrf_token` is not this session's token (403)."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get(CSRF_KEY)
    if not isinstance(sent, str) or not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        raise CsrfRejected("this form has expired or did not come from this site: reload the page and try again")


def log_in(request: Request, user: User) -> None:
    """A fresh session for `user` (a new CSRF token too: a token seen before login is not reused after)."""
    request.session.clear()
    request.session[USER_KEY] = user.name
    request.session[CSRF_KEY] = secrets.token_urlsafe(32)


def log_out(request: Request) -> None:
    request.session.clear()


def session_user_name(request: Request) -> str | None:
    name = request.session.get(USER_KEY)
    return name if isinstance(name, str) else None
