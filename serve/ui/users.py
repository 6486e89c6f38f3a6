"""Web app accounts (analysts and admins), kept in the decision log's database beside the decisions.

Passwords are hashed with argon2id (argon2-cffi): the stored hash carries its salt and
parameters, so stronger parameters later apply to each account at its next login.
A disabled account is kept (decisions and labels keep naming who made them) and can no
longer log in; its open sessions end at their next request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from risk.errors import Conflict, InvalidInput, NotFound
from serve.config import Role
from serve.decision_log.encoding import as_utc
from serve.decision_log.interface import DecisionLog
from serve.decision_log.schema import USERS, UserRow
from serve.decision_log.sql import insert, select, table_name

UI_ROLES: tuple[Role, ...] = ("analyst", "admin")  # checkout keys are machines: no web app account
MIN_PASSWORD_LENGTH = 10
MAX_NAME_LENGTH = 64
_HASHER = PasswordHasher()
# Checked against when the name is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")


@dataclass(frozen=True)
class User:
    """An account as the web app sees it (never its hash)."""

    name: str
    role: Role
    created_at: datetime
    disabled_at: datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


class UserStore:
    """Accounts in the `users` table of a decision log (SQLite or PostgreSQL, declared in schema.py)."""

    def __init__(self, log: DecisionLog) -> None:
        self.log = log
        dialect, table = log.dialect, table_name(USERS, log.table_prefix)
        p = dialect.placeholder
        self._insert = insert(USERS, dialect, log.table_prefix)
        self._get = select(USERS, UserRow._fields, log.table_prefix, where=f"name = {p}")
        self._all = select(USERS, UserRow._fields, log.table_prefix, order_by="name")
        self._disable = f"UPDATE {table} SET disabled_at = {p} WHERE name = {p} AND disabled_at IS NULL"
        self._rehash = f"UPDATE {table} SET password_hash = {p} WHERE name = {p}"

    def add(self, name: str, role: str, password: str, *, now: datetime | None = None) -> User:
        """A new account; Conflict if the name is taken (disabled accounts included)."""
        _check_name(name)
        if role not in UI_ROLES:
            raise InvalidInput(f"role must be one of {', '.join(UI_ROLES)}, got {role!r}")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidInput(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
        row = UserRow(name, role, _HASHER.hash(password), now or datetime.now(UTC), None)
        values = self.log.dialect.values(USERS, row)
        inserted = self.log.write("add user", lambda c: c.execute(self._insert, values).rowcount)
        if inserted != 1:
            raise Conflict(f"user {name!r} exists already")
        return _user(row)

    def get(self, name: str) -> User | None:
        row = self._row(name)
        return None if row is None else _user(row)

    def all(self) -> list[User]:
        rows = self.log.read("list users", lambda c: c.execute(self._all).fetchall())
        return [_user(UserRow(*row)) for row in rows]

    def disable(self, name: str, *, now: datetime | None = None) -> User:
        """Disable an account (idempotent); NotFound if there is none of that name."""
        moment = self.log.dialect.moment(now or datetime.now(UTC))
        self.log.write("disable user", lambda c: c.execute(self._disable, (moment, name)))
        user = self.get(name)
        if user is None:
            raise NotFound(f"no user {name!r} (see `risk users list`)")
        return user

    def authenticate(self, name: str, password: str) -> User | None:
        """The active account if `password` is its password, else None (same cost for an unknown name)."""
        row = self._row(name) if len(name) <= MAX_NAME_LENGTH else None
        try:
            _HASHER.verify(row.password_hash if row else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row.disabled_at is not None:
            return None
        if _HASHER.check_needs_rehash(row.password_hash):
            new_hash = _HASHER.hash(password)
            self.log.write("rehash password", lambda c: c.execute(self._rehash, (new_hash, name)))
        return _user(row)

    def _row(self, name: str) -> UserRow | None:
        row = self.log.read("get user", lambda c: c.execute(self._get, (name,)).fetchone())
        return None if row is None else UserRow(*row)


def _check_name(name: str) -> None:
    if not name or len(name) > MAX_NAME_LENGTH or not all(ch.isalnum() or ch in "._-@" for ch in name):
        raise InvalidInput(f"user name must be 1-{MAX_NAME_LENGTH} letters, digits or . _ - @, got {name!r}")


def _user(row: UserRow) -> User:
    role: Role = "admin" if row.role == "admin" else "analyst"  # a row edited by hand to anything else: analyst
    return User(row.name, role, as_utc(row.created_at), None if row.disabled_at is None else as_utc(row.disabled_at))
