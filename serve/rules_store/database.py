"""The rules store's connection to the decision database: SQLite or PostgreSQL, one transaction at a time.

The store writes its SQL once, with `?` placeholders; `Session.execute` turns them into
the dialect's and passes moments the dialect's way (`serve/decision_log/sql.py`). Write
transactions start by bumping the epoch row, which serialises writers: `BEGIN IMMEDIATE`
takes SQLite's write lock; in PostgreSQL the UPDATE's row lock makes the next writer
wait, and (READ COMMITTED) its later statements then see what the first committed.
Reads run in one snapshot (`REPEATABLE READ` in PostgreSQL; a read transaction in SQLite).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from risk.errors import InvalidInput, RiskError
from risk.urls import redacted_url
from serve.decision_log.schema import Table
from serve.decision_log.sql import POSTGRES, SQLITE, Dialect, create_table, missing_columns, table_name
from serve.rules_store.schema import EPOCH, TABLES


class RulesStoreUnavailable(RiskError):
    """The decision database cannot be reached or written."""

    status = 503


class Session:
    """Statements inside one transaction."""

    def __init__(self, conn: Any, dialect: Dialect, prefix: str) -> None:
        self.conn, self.dialect, self.prefix = conn, dialect, prefix

    def table(self, table: Table) -> str:
        return table_name(table, self.prefix)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if self.dialect.placeholder != "?":
            sql = sql.replace("?", self.dialect.placeholder)
        values = [self.dialect.moment(v) if isinstance(v, datetime) else v for v in params]
        return self.conn.execute(sql, values)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.execute(sql, params).fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row = self.execute(sql, params).fetchone()
        return None if row is None else tuple(row)

    @staticmethod
    def json(value: Any) -> Any:
        """A JSON column's value (PostgreSQL gives JSONB decoded, SQLite the text)."""
        return json.loads(value) if isinstance(value, str) else value


class Database(ABC):
    """One connection behind a lock; `transaction(write=...)` gives a Session."""

    dialect: Dialect
    prefix: str = ""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Session]:
        with self._lock:
            conn = self._connection()
            try:
                conn.execute(self._begin(write))
                session = Session(conn, self.dialect, self.prefix)
                if write:  # first: the row lock that serialises writers (see the module docstring)
                    session.execute(f"UPDATE {session.table(EPOCH)} SET epoch = epoch + 1 WHERE id = 1")
                yield session
                conn.execute("COMMIT")
            except BaseException as exc:
                self._rollback(conn)
                if self._is_database_error(exc):
                    raise self._unavailable(exc) from exc
                raise

    def read_one(self, sql: str) -> tuple[Any, ...] | None:
        """One row of one statement outside a transaction: the poll's one round trip."""
        with self._lock:
            conn = self._connection()
            try:
                return Session(conn, self.dialect, self.prefix).one(sql)
            except BaseException as exc:
                if self._is_database_error(exc):
                    raise self._unavailable(exc) from exc
                raise

    @abstractmethod
    def _connection(self) -> Any: ...

    @abstractmethod
    def _begin(self, write: bool) -> str: ...

    @abstractmethod
    def _rollback(self, conn: Any) -> None: ...

    @abstractmethod
    def _is_database_error(self, exc: BaseException) -> bool: ...

    @abstractmethod
    def _unavailable(self, exc: BaseException) -> RulesStoreUnavailable: ...

    @abstractmethod
    def close(self) -> None: ...

    def _create(self, session: Session, existing: dict[str, set[str]]) -> None:
        for table in TABLES:
            session.execute(create_table(table, self.dialect, self.prefix))
            if table.name in existing:
                for statement in missing_columns(table, self.dialect, existing[table.name], self.prefix):
                    session.execute(statement)
        session.execute(f"INSERT INTO {session.table(EPOCH)} (id, epoch) VALUES (1, 0) ON CONFLICT (id) DO NOTHING")


class SQLiteDatabase(Database):
    dialect = SQLITE

    def __init__(self, path: Path, *, busy_timeout_ms: int = 5000) -> None:
        super().__init__()
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("BEGIN IMMEDIATE")
            session = Session(self._conn, self.dialect, "")
            existing = {t.name: {r[1] for r in session.all(f"PRAGMA table_info({session.table(t)})")} for t in TABLES}
            self._create(session, {name: cols for name, cols in existing.items() if cols})
            self._conn.execute("COMMIT")
        except (OSError, sqlite3.Error) as exc:
            raise self._unavailable(exc) from exc

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RulesStoreUnavailable(f"rules store in SQLite at {self.path} is closed")
        return self._conn

    def _begin(self, write: bool) -> str:
        return "BEGIN IMMEDIATE" if write else "BEGIN"

    def _rollback(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            conn.rollback()

    def _is_database_error(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.Error)

    def _unavailable(self, exc: BaseException) -> RulesStoreUnavailable:
        detail = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        return RulesStoreUnavailable(f"rules store in SQLite at {self.path} failed: {detail}")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class PostgresDatabase(Database):
    dialect = POSTGRES

    def __init__(self, url: str, *, table_prefix: str = "risk_", connect_timeout_s: int = 3,
                 statement_timeout_ms: int = 5000) -> None:
        super().__init__()
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,40}", table_prefix):
            raise InvalidInput(f"table_prefix {table_prefix!r} must be lower-case letters, digits and _ (at most 41)")
        import psycopg

        self._psycopg = psycopg
        self.url, self.prefix = url, table_prefix
        self.connect_timeout_s, self.statement_timeout_ms = connect_timeout_s, statement_timeout_ms
        self._conn: Any = None
        self._closed = False
        with self._lock:
            self._connection()

    def _connection(self) -> Any:
        if self._closed:
            raise RulesStoreUnavailable(f"rules store in PostgreSQL at {redacted_url(self.url)} is closed")
        if self._conn is not None and not (self._conn.broken or self._conn.closed):
            return self._conn
        try:
            conn = self._psycopg.connect(self.url, autocommit=True, connect_timeout=self.connect_timeout_s)
            conn.execute(f"SET statement_timeout = {int(self.statement_timeout_ms)}")
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"rules_store:{self.prefix}"])
                session = Session(conn, self.dialect, self.prefix)
                existing: dict[str, set[str]] = {}
                for table in TABLES:
                    rows = session.all("SELECT column_name FROM information_schema.columns WHERE table_schema = "
                                       "current_schema() AND table_name = ?", [self.prefix + table.name])
                    if rows:
                        existing[table.name] = {row[0] for row in rows}
                self._create(session, existing)
        except self._psycopg.Error as exc:
            raise self._unavailable(exc) from exc
        self._conn = conn
        return conn

    def _begin(self, write: bool) -> str:
        return "BEGIN" if write else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

    def _rollback(self, conn: Any) -> None:
        try:
            if not (conn.broken or conn.closed):
                conn.execute("ROLLBACK")
        except self._psycopg.Error:
            conn.close()

    def _is_database_error(self, exc: BaseException) -> bool:
        return isinstance(exc, self._psycopg.Error)

    def _unavailable(self, exc: BaseException) -> RulesStoreUnavailable:
        lines = str(exc).strip().splitlines()
        return RulesStoreUnavailable(f"rules store in PostgreSQL at {redacted_url(self.url)} failed: "
                                     f"{exc.__class__.__name__}: {lines[0] if lines else ''}")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def drop_tables(self) -> None:
        """Drop the store's tables (tests and tear-down)."""
        with self._lock:
            conn = self._connection()
            conn.execute(f"DROP TABLE IF EXISTS {', '.join(table_name(t, self.prefix) for t in TABLES)}")
            self._conn.close()
            self._conn = None


def open_rules_database(url: str | None, default_path: Path) -> Database:
    """The rules store in the decision database named like the decision log's (`serve.decision_log.opening`)."""
    if url is None or not url.strip():
        return SQLiteDatabase(default_path)
    if url.startswith("sqlite:///") and len(url.split("?", 1)[0]) > len("sqlite:///"):
        return SQLiteDatabase(Path(url[len("sqlite:///"):].partition("?")[0]))
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(url)
    raise InvalidInput("decision database URL: use sqlite:///path/to/file.db or postgresql://host/db")
