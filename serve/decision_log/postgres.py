"""The decision log in PostgreSQL: several hosts sharing one log.

PostgreSQL commits with the server's own setting (synchronous_commit=on by default);
on the development VM, localhost: get+record p50 0.7-3.7 ms, p99 about 8 ms, mostly its fsync.
So the decisions of concurrent requests are committed together (group_commit.py): one
transaction and one WAL flush for every decision waiting when the previous commit ends,
each request still answered only once its own decision is committed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from risk.errors import InvalidInput
from risk.urls import redacted_url
from serve.decision_log.group_commit import GroupCommitter
from serve.decision_log.interface import EPOCH, DecisionLog, DecisionLogUnavailable, LoggedRows, StoredDecision
from serve.decision_log.migrations import migrate
from serve.decision_log.schema import (
    DECISIONS,
    OUTBOX,
    OUTCOMES,
    REVIEWS,
    STORED_DECISION,
    TABLES,
    DecisionRow,
    EventRow,
    OutcomeRow,
    ReviewRow,
)
from serve.decision_log.sql import POSTGRES, insert, insert_arrays, statements, table_name

_T = TypeVar("_T")


class PostgresDecisionLog(DecisionLog):
    """The decision log in PostgreSQL: one autocommit connection behind a lock for writes.

Decisions are committed in groups (`GroupCommitter`): the requests of the process that wait
for the connection meanwhile share the next transaction. `get`, which every request makes
before scoring, reads on a connection of its own, so it never waits behind a commit.

    Tables `{table_prefix}decisions` and `{table_prefix}outcomes` are created if absent.
    A connection found broken is replaced once per call, and the call retried: every
    write is insert-if-absent, so a retry after a commit whose answer was lost is
    harmless (`record_outcomes` then counts those rows as already stored).
    `statement_timeout_ms` bounds each statement on the server, so a lock wait cannot
    hold every scoring thread; `connect_timeout_s` bounds connecting.
    """

    dialect = POSTGRES

    def __init__(
        self,
        url: str,
        *,
        table_prefix: str = "risk_",
        connect_timeout_s: int = 3,
        statement_timeout_ms: int = 5000,
    ) -> None:
        # The prefix goes into SQL text (table names cannot be parameters): only these characters.
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,40}", table_prefix):
            raise InvalidInput(f"table_prefix {table_prefix!r} must be lower-case letters, digits and _ (at most 41)")
        import psycopg  # here, so that an SQLite-only deployment never loads it

        self._psycopg = psycopg
        self.url = url
        self.table_prefix = table_prefix
        self.connect_timeout_s = max(1, int(connect_timeout_s))
        self.statement_timeout_ms = int(statement_timeout_ms)
        self._lock = threading.Lock()
        self._conn: Any = None
        # the review queue's reads go on a connection of their own, so a page never holds up `record`,
        # and so do the idempotency look-ups (`get`), so a request never waits behind a commit to read
        self._read_lock = threading.Lock()
        self._reader: Any = None
        self._get_lock = threading.Lock()
        self._getter: Any = None
        self._locks = {"_conn": self._lock, "_reader": self._read_lock, "_getter": self._get_lock}
        self._decisions: GroupCommitter[tuple[DecisionRow, ReviewRow | None, Sequence[EventRow]], Any] = \
            GroupCommitter(self._commit_decisions)
        self._closed = False
        self._sql = statements(POSTGRES, table_prefix)
        self._insert_decision_sql = _insert_returning_stored(self._sql.insert_decision, table_prefix)
        self._insert_outcomes_sql = insert_arrays(OUTCOMES, POSTGRES, table_prefix)
        self._insert_review_sql = insert(REVIEWS, POSTGRES, table_prefix)
        self._insert_event_sql = insert(OUTBOX, POSTGRES, table_prefix)
        self._run("opening", lambda conn: None)  # connect and create the tables now: fail at start-up, not later

    def _where(self) -> str:
        return f"PostgreSQL decision log at {redacted_url(self.url)}"

    def _unavailable(self, what: str, exc: BaseException) -> DecisionLogUnavailable:
        lines = str(exc).strip().splitlines()
        detail = lines[0] if lines else ""
        return DecisionLogUnavailable(f"{self._where()} failed in {what}: {exc.__class__.__name__}: {detail}")

    def _connect(self, *, reading: bool = False) -> Any:
        conn = self._psycopg.connect(self.url, autocommit=True, connect_timeout=self.connect_timeout_s)
        try:
            if not reading:
                conn.execute(f"SET statement_timeout = {self.statement_timeout_ms}")
                with conn.transaction():
                    # CREATE TABLE IF NOT EXISTS races with itself across processes: serialise it.
                    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"decision_log:{self.table_prefix}"])
                    for statement in self._sql.create:
                        conn.execute(statement)
                    migrate(conn, POSTGRES, self.table_prefix, _columns_of, self._sql.indexes)
        except BaseException:
            conn.close()
            raise
        return conn

    def _run(self, what: str, work: Callable[[Any], _T], *, slot: str = "_conn") -> _T:
        psycopg = self._psycopg
        with self._locks[slot]:
            if self._closed:
                raise DecisionLogUnavailable(f"{self._where()} is closed")
            for attempt in (1, 2):
                reused = getattr(self, slot) is not None
                try:
                    if getattr(self, slot) is None:
                        setattr(self, slot, self._connect())
                    return work(getattr(self, slot))
                except psycopg.Error as exc:
                    conn = getattr(self, slot)
                    broken = conn is None or conn.broken or conn.closed
                    if broken and conn is not None:
                        conn.close()
                        setattr(self, slot, None)
                    if not (broken and reused and attempt == 1):  # only a connection that went bad is retried
                        raise self._unavailable(what, exc) from exc
        raise AssertionError("unreachable")

    def read(self, what: str, work: Callable[[Any], _T]) -> _T:
        return self._run(what, work, slot="_reader")

    def get(self, order_id: str) -> StoredDecision | None:
        row = self._run("get", lambda c: c.execute(self._sql.get_decision, [order_id]).fetchone(), slot="_getter")
        return None if row is None else StoredDecision(row[0], row[1], row[2])

    def write(self, what: str, work: Callable[[Any], _T]) -> _T:
        def transaction(conn: Any) -> _T:
            with conn.transaction():
                return work(conn)

        return self._run(what, transaction)

    def logged_order(self, order_id: str) -> dict[str, Any] | None:
        row = self._run("logged_order", lambda c: c.execute(self._sql.get_order, [order_id]).fetchone())
        return None if row is None else row[1]

    def _insert_decision(self, row: DecisionRow, review: ReviewRow | None,
                         events: Sequence[EventRow]) -> StoredDecision:
        stored = self._decisions.submit((row, review, events))
        return StoredDecision(stored[0], stored[1], stored[2], stored[3])

    def _commit_decisions(self, batch: Sequence[tuple[DecisionRow, ReviewRow | None, Sequence[EventRow]]]) -> list[Any]:
        """Insert each decision (with its review and events if it was new) and commit them in one transaction.

        Each item's answer is the stored row and whether this insert stored it. A decision
        alone, without review or events, is one autocommit statement (one round trip). A
        batch goes in pipeline mode: BEGIN, every INSERT and COMMIT in about two round trips
        instead of one per statement, so the connection is held for a commit, not for a
        conversation (statements still run in order: a second insert of an order_id in the
        same batch finds the first and answers as a replay).
        """
        if len(batch) == 1 and batch[0][1] is None and not batch[0][2]:
            row = batch[0][0]
            return [self._run("record", lambda conn: self._insert_one(conn, row, None, ()))]

        def insert_all(conn: Any) -> list[Any]:
            with conn.pipeline(), conn.transaction():
                cursors = [conn.execute(self._insert_decision_sql, [*POSTGRES.values(DECISIONS, row), row.order_id])
                           for row, _, _ in batch]
                stored = [cursor.fetchone() for cursor in cursors]
                for i, (row, review, events) in enumerate(batch):
                    if stored[i] is None:  # inserted by another session after that statement's snapshot
                        stored[i] = (*conn.execute(self._sql.get_decision, [row.order_id]).fetchone(), False)
                    elif stored[i][3]:
                        if review is not None:
                            conn.execute(self._insert_review_sql, POSTGRES.values(REVIEWS, review))
                        for event in events:
                            conn.execute(self._insert_event_sql, POSTGRES.values(OUTBOX, event))
                return stored

        return self._run("record", insert_all)

    def _insert_one(self, conn: Any, row: DecisionRow, review: ReviewRow | None, events: Sequence[EventRow]) -> Any:
        """(order_id, body_hash, decision, inserted) as stored; `row`'s review and events inserted if `row` was new."""
        values = [*POSTGRES.values(DECISIONS, row), row.order_id]
        stored = conn.execute(self._insert_decision_sql, values).fetchone()
        if stored is None:  # inserted by another session after this statement's snapshot was taken
            stored = (*conn.execute(self._sql.get_decision, [row.order_id]).fetchone(), False)
        elif stored[3]:
            if review is not None:
                conn.execute(self._insert_review_sql, POSTGRES.values(REVIEWS, review))
            for event in events:
                conn.execute(self._insert_event_sql, POSTGRES.values(OUTBOX, event))
        return stored

    def _insert_outcomes(self, rows: list[OutcomeRow]) -> int:
        columns = [list(column) for column in zip(*(POSTGRES.values(OUTCOMES, r) for r in rows), strict=True)]
        return int(self._run("record_outcomes", lambda c: c.execute(self._insert_outcomes_sql, columns).rowcount))

    def _read_all(self, since: datetime = EPOCH) -> LoggedRows:
        psycopg = self._psycopg
        with self._lock:
            if self._closed:
                raise DecisionLogUnavailable(f"{self._where()} is closed")
        try:
            # Its own connection, without the statement timeout: a long read must not hold the lock of `record`.
            with self._connect(reading=True) as conn:
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # one snapshot for both tables
                conn.read_only = True
                with conn.transaction():
                    orders = conn.execute(self._sql.orders_since, (since,)).fetchall()
                    outcomes = conn.execute(self._sql.outcomes_since, (since,)).fetchall()
        except psycopg.Error as exc:
            raise self._unavailable("read_since", exc) from exc
        return orders, outcomes

    def count(self) -> int:
        return int(self._run("count", lambda c: c.execute(self._sql.count_decisions).fetchone()[0]))

    def close(self) -> None:
        with self._lock, self._read_lock, self._get_lock:
            self._closed = True
            for slot in ("_conn", "_reader", "_getter"):
                if getattr(self, slot) is not None:
                    getattr(self, slot).close()
                    setattr(self, slot, None)

    def drop_tables(self) -> None:
        """Drop this log's tables (for tests and tear-down; the log stays usable and recreates them on reconnect)."""
        names = ", ".join(table_name(table, self.table_prefix) for table in TABLES)
        self._run("drop_tables", lambda c: c.execute(f"DROP TABLE IF EXISTS {names}"))


def _insert_returning_stored(insert: str, prefix: str) -> str:
    """One round trip: the new row if inserted, else the one already there (its order_id is the last parameter).

    A row committed by another session after this statement's snapshot makes the INSERT do
    nothing yet is invisible to the SELECT, so the caller reads again when nothing comes back.
    """
    stored = ", ".join(STORED_DECISION)
    return (f"WITH inserted AS ({insert} RETURNING {stored})\n"
            f"SELECT {stored}, true FROM inserted\n"
            f"UNION ALL\n"
            f"SELECT {stored}, false FROM {table_name(DECISIONS, prefix)} WHERE order_id = %s")


def _columns_of(conn: Any, table: str) -> set[str]:
    rows = conn.execute("SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = current_schema() AND table_name = %s", [table]).fetchall()
    return {row[0] for row in rows}
