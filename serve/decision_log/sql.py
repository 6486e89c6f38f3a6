"""The SQL of both backends, generated from the table declarations in `schema.py`.

SQLite and PostgreSQL differ here in a few things only, each a field of `Dialect`: the
parameter placeholder (`?` or `%s`), the column type of each kind (SQLite keeps times
and JSON as text; PostgreSQL as TIMESTAMPTZ and JSONB), the casts a parameter needs
(JSON text into JSONB), how a moment is passed (fixed-width UTC text, or the
datetime itself), and how a JSON member or a time bucket is read (`json_text`,
`time_bucket`). Everything else (columns, their order, NOT NULL, the uniqueness rule
that makes every write insert-if-absent) comes from the one declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from serve.decision_log.encoding import utc_text
from serve.decision_log.schema import (
    DECISIONS,
    LOGGED_ORDER,
    LOGGED_OUTCOME,
    OUTCOMES,
    STORED_DECISION,
    TABLES,
    ColumnKind,
    Table,
)


@dataclass(frozen=True)
class Dialect:
    """What one database needs said its own way; the two instances are `SQLITE` and `POSTGRES`."""

    name: str
    placeholder: str
    types: Mapping[ColumnKind, str]
    casts: Mapping[ColumnKind, str] = field(default_factory=dict)  # suffix of a parameter of that kind
    time_value: Callable[[datetime], Any] | None = None  # None: moments are passed as datetimes
    json_member: str = "json_extract({column}, '$.{dotted}')"  # a JSON column's member as SQL text
    # a time column cut to its UTC hour or day, as text ("2026-11-24T10" / "2026-11-24")
    hour_text: str = "substr({column}, 1, 13)"
    day_text: str = "substr({column}, 1, 10)"

    def json_text(self, column: str, *path: str) -> str:
        """SQL for the text at `path` inside the JSON column `column` (path parts are identifiers we write)."""
        return self.json_member.format(column=column, dotted=".".join(path), braced=",".join(path))

    def time_bucket(self, column: str, bucket: str) -> str:
        """SQL for the UTC hour or day of a time column, as text (groups alike in both dialects)."""
        return (self.hour_text if bucket == "hour" else self.day_text).format(column=column)

    def moment(self, value: datetime) -> Any:
        """A moment as this dialect's statement parameter."""
        return value if self.time_value is None else self.time_value(value)

    def values(self, table: Table, row: tuple[Any, ...]) -> list[Any]:
        """A row of `table` as this dialect's statement parameters (on the scoring path: kept lean)."""
        values = list(row)
        convert = self.time_value
        if convert is not None:
            for i in table.time_positions:
                if values[i] is not None:
                    values[i] = convert(values[i])
        return values


SQLITE = Dialect("sqlite", "?", {"text": "TEXT", "int": "INTEGER", "float": "REAL", "time": "TEXT",
                                 "json": "TEXT"}, time_value=utc_text)
POSTGRES = Dialect("postgresql", "%s", {"text": "TEXT", "int": "BIGINT", "float": "DOUBLE PRECISION",
                                        "time": "TIMESTAMPTZ", "json": "JSONB"},
                   casts={"json": "::jsonb"}, json_member="({column} #>> '{{{braced}}}')",
                   hour_text="to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24')",
                   day_text="to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')")


def table_name(table: Table, prefix: str = "") -> str:
    """The quoted name of `table` in a deployment whose tables start with `prefix` (checked by the caller)."""
    return f'"{prefix}{table.name}"'


def create_table(table: Table, dialect: Dialect, prefix: str = "") -> str:
    """CREATE TABLE IF NOT EXISTS with every declared column and the table's uniqueness rule."""
    lines = [f"{c.name} {dialect.types[c.kind]}{'' if c.nullable else ' NOT NULL'}" for c in table.columns]
    lines.append(f"{'PRIMARY KEY' if table.primary_key else 'UNIQUE'} ({', '.join(table.unique)})")
    body = ",\n    ".join(lines)
    return f"CREATE TABLE IF NOT EXISTS {table_name(table, prefix)} (\n    {body}\n)"


def create_indexes(table: Table, prefix: str = "") -> tuple[str, ...]:
    """CREATE INDEX IF NOT EXISTS for each of the table's declared indexes (same text in both dialects)."""
    return tuple(f'CREATE INDEX IF NOT EXISTS "{prefix}{table.name}_{"_".join(columns)}" '
                 f"ON {table_name(table, prefix)} ({', '.join(table.check(columns))})" for columns in table.indexes)


def missing_columns(table: Table, dialect: Dialect, existing: set[str], prefix: str = "") -> list[str]:
    """ALTER TABLE statements adding the declared columns a stored table lacks (a store written by an older version).

    Only nullable columns can be added so (the rows already stored have no value); a
    missing NOT NULL column is an error naming it. The rules store uses it for its tables;
    the decision log's tables name theirs in `added` (migrations.py, with backfills).
    """
    statements = []
    for column in table.columns:
        if column.name in existing:
            continue
        if not column.nullable:
            raise ValueError(f"stored table {prefix}{table.name} lacks NOT NULL column {column.name}: migrate it")
        statements.append(f"ALTER TABLE {table_name(table, prefix)} ADD COLUMN {column.name} "
                          f"{dialect.types[column.kind]}")
    return statements


def insert(table: Table, dialect: Dialect, prefix: str = "") -> str:
    """Insert one row (parameters in declaration order) unless its unique key is stored already."""
    parameters = ", ".join(dialect.placeholder + dialect.casts.get(c.kind, "") for c in table.columns)
    return f"{_insert_into(table, prefix)} VALUES ({parameters}){_if_absent(table)}"


def insert_arrays(table: Table, dialect: Dialect, prefix: str = "") -> str:
    """Insert many rows in one statement: one array parameter per column, in declaration order.

    PostgreSQL only (`unnest`): one round trip whatever the batch size, where executemany
    would make one per row.
    """
    arrays = ", ".join(f"{dialect.placeholder}::{dialect.types[c.kind].lower()}[]" for c in table.columns)
    return f"{_insert_into(table, prefix)} SELECT * FROM unnest({arrays}){_if_absent(table)}"


def select(table: Table, columns: tuple[str, ...], prefix: str = "", *, where: str = "", order_by: str = "") -> str:
    """SELECT of declared columns; `where` and `order_by` are SQL text (with the dialect's placeholders)."""
    text = f"SELECT {', '.join(table.check(columns))} FROM {table_name(table, prefix)}"
    return text + (f" WHERE {where}" if where else "") + (f" ORDER BY {order_by}" if order_by else "")


@dataclass(frozen=True)
class Statements:
    """Every statement the log runs, for one dialect and table prefix."""

    create: tuple[str, ...]
    indexes: tuple[str, ...]  # run after the migrations (an index may be on an added column)
    insert_decision: str
    insert_outcome: str  # one row; SQLite runs it with executemany
    get_decision: str  # STORED_DECISION of one order_id
    get_order: str  # LOGGED_ORDER of one order_id
    count_decisions: str
    orders_since: str  # LOGGED_ORDER recorded after a moment, by (created_at, order_id)
    outcomes_since: str  # LOGGED_OUTCOME recorded after a moment, by (reported_at, order_id, kind)


def statements(dialect: Dialect, prefix: str = "") -> Statements:
    p = dialect.placeholder
    return Statements(
        create=tuple(create_table(table, dialect, prefix) for table in TABLES),
        indexes=tuple(statement for table in TABLES for statement in create_indexes(table, prefix)),
        insert_decision=insert(DECISIONS, dialect, prefix),
        insert_outcome=insert(OUTCOMES, dialect, prefix),
        get_decision=select(DECISIONS, STORED_DECISION, prefix, where=f"order_id = {p}"),
        get_order=select(DECISIONS, LOGGED_ORDER, prefix, where=f"order_id = {p}"),
        count_decisions=f"SELECT count(*) FROM {table_name(DECISIONS, prefix)}",
        orders_since=select(DECISIONS, LOGGED_ORDER, prefix, where=f"recorded_at > {p}",
                            order_by="created_at, order_id"),
        outcomes_since=select(OUTCOMES, LOGGED_OUTCOME, prefix, where=f"recorded_at > {p}",
                              order_by="reported_at, order_id, kind"),
    )


def _insert_into(table: Table, prefix: str) -> str:
    return f"INSERT INTO {table_name(table, prefix)} ({', '.join(c.name for c in table.columns)})"


def _if_absent(table: Table) -> str:
    return f" ON CONFLICT ({', '.join(table.unique)}) DO NOTHING"
