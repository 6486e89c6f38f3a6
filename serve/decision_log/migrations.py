"""Bringing a stored log up to the declared tables: columns added since it was made, then indexes.

Run when a log is opened (both backends), after CREATE TABLE IF NOT EXISTS: a table made
by an older version lacks the columns its declaration lists in `added`; each is added
(nullable) and, for the decisions' entity columns, filled from the stored order JSON, so
the linked orders view sees orders recorded before the upgrade. Idempotent: a log that
has every column is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from serve.decision_log.schema import DECISIONS, ENTITIES, TABLES, Table
from serve.decision_log.sql import Dialect, table_name

ColumnsOf = Callable[[Any, str], set[str]]  # (connection, unquoted table name) -> its column names


def migrate(conn: Any, dialect: Dialect, prefix: str, columns_of: ColumnsOf, indexes: tuple[str, ...]) -> list[str]:
    """Add missing declared columns, backfill them, create the indexes; the columns added (as table.column)."""
    added: list[str] = []
    for table in TABLES:
        missing = _missing(conn, table, prefix, columns_of)
        for column in (c for c in table.columns if c.name in missing):
            kind = dialect.types[column.kind]
            conn.execute(f"ALTER TABLE {table_name(table, prefix)} ADD COLUMN {column.name} {kind}")
            added.append(f"{table.name}.{column.name}")
        if table is DECISIONS and missing & {entity.column for entity in ENTITIES}:
            conn.execute(backfill_entities(dialect, prefix))
    for statement in indexes:
        conn.execute(statement)
    return added


def backfill_entities(dialect: Dialect, prefix: str = "") -> str:
    """UPDATE filling the entity columns of the decisions recorded before they existed, from their order JSON."""
    sets = ", ".join(f"{entity.column} = {dialect.json_text('order_json', *entity.path)}" for entity in ENTITIES)
    return f"UPDATE {table_name(DECISIONS, prefix)} SET {sets} WHERE {ENTITIES[0].column} IS NULL"


def _missing(conn: Any, table: Table, prefix: str, columns_of: ColumnsOf) -> set[str]:
    if not table.added:
        return set()
    return set(table.added) - columns_of(conn, f"{prefix}{table.name}")
