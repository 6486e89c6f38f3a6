"""A rules store per test, on SQLite and (marked integration) on PostgreSQL, with a clock the test moves."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from serve.rules_store.database import Database, PostgresDatabase, SQLiteDatabase
from serve.rules_store.store import RulesStore
from tests.builders import DATABASE_URL, require_postgres

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A frozen clock the test moves forward."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


OpenDatabase = Callable[[], Database]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def open_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenDatabase]:
    """Opens connections to one database (several are like several processes)."""
    opened: list[Database] = []
    prefix = f"test_{uuid.uuid4().hex[:12]}_"
    if request.param == "postgres":
        require_postgres(DATABASE_URL)

    def make() -> Database:
        db: Database = (PostgresDatabase(DATABASE_URL, table_prefix=prefix) if request.param == "postgres"
                        else SQLiteDatabase(tmp_path / "decisions.sqlite"))
        opened.append(db)
        return db

    yield make
    for db in opened:
        db.close()
    if request.param == "postgres":
        cleaner = PostgresDatabase(DATABASE_URL, table_prefix=prefix)
        cleaner.drop_tables()
        cleaner.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(open_database: OpenDatabase, clock: Clock) -> RulesStore:
    return RulesStore(open_database(), clock=clock)
