"""Web app accounts: argon2 hashes, one name once, disabled accounts kept but locked out; SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from risk.errors import Conflict, InvalidInput, NotFound
from serve.decision_log import DecisionLog, PostgresDecisionLog, SQLiteDecisionLog
from serve.ui.users import UserStore
from tests.builders import DATABASE_URL, require_postgres


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def log(request, tmp_path) -> Iterator[DecisionLog]:
    if request.param == "sqlite":
        opened: DecisionLog = SQLiteDecisionLog(tmp_path / "decisions.sqlite")
        yield opened
        opened.close()
        return
    require_postgres(DATABASE_URL)
    postgres = PostgresDecisionLog(DATABASE_URL, table_prefix=f"test_{uuid.uuid4().hex[:12]}_")
    yield postgres
    postgres.drop_tables()
    postgres.close()


def test_an_account_logs_in_with_its_password_only(log) -> None:
    store = UserStore(log)
    store.add("alice", "analyst", "correct horse battery")

    assert store.authenticate("alice", "correct horse battery").name == "alice"
    assert store.authenticate("alice", "wrong password!") is None
    assert store.authenticate("nobody", "correct horse battery") is None


def test_the_password_is_stored_as_an_argon2id_hash_not_as_text(log) -> None:
    UserStore(log).add("alice", "admin", "correct horse battery")

    stored = log.read("peek", lambda c: c.execute(f"SELECT password_hash FROM {log.table(_users())}").fetchone()[0])
    assert stored.startswith("$argon2id$") and "correct horse battery" not in stored


def test_a_name_is_taken_once_and_bad_accounts_are_refused(log) -> None:
    store = UserStore(log)
    store.add("alice", "analyst", "correct horse battery")

    with pytest.raises(Conflict, match="exists"):
        store.add("alice", "admin", "another long password")
    with pytest.raises(InvalidInput, match="at least 10"):
        store.add("bob", "analyst", "short")
    with pytest.raises(InvalidInput, match="role"):
        store.add("bob", "checkout", "correct horse battery")
    with pytest.raises(InvalidInput, match="user name"):
        store.add("<script>", "analyst", "correct horse battery")


def test_a_disabled_account_is_kept_listed_but_cannot_log_in(log) -> None:
    store = UserStore(log)
    store.add("alice", "analyst", "correct horse battery")
    store.add("bob", "admin", "correct horse battery")

    store.disable("alice")

    assert store.authenticate("alice", "correct horse battery") is None
    listed = {user.name: user for user in store.all()}
    assert not listed["alice"].active and listed["bob"].active and listed["bob"].role == "admin"
    with pytest.raises(NotFound):
        store.disable("carol")


def _users():
    from serve.decision_log.schema import USERS

    return USERS
