"""The decision log's tables, declared once: each is a row type whose fields are its columns.

A field's type says the column's kind: `str` is text, `int` an integer, `datetime` a moment
(aware, UTC), `JsonText` JSON text that PostgreSQL stores as JSONB; `| None` makes it nullable. Both
backends' CREATE TABLE and INSERT statements are generated from these declarations
(`serve/decision_log/sql.py`), and the rows the log writes are these types, so a
column added here is created, written and read alike by SQLite and PostgreSQL.
A nullable column added to a declaration is added to stored tables when a log is opened
(`sql.missing_columns`, run by both backends at start-up); other changes need a migration.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Annotated, Any, Literal, NamedTuple

ColumnKind = Literal["text", "int", "time", "json"]


class _Json:
    """Marks text columns holding standard JSON (JSONB in PostgreSQL)."""


JsonText = Annotated[str, _Json]


class DecisionRow(NamedTuple):
    """One decision as stored: the idempotency key, the body hash and everything needed to replay it."""

    order_id: str
    body_hash: str  # sha256 hex of the canonical order body
    created_at: datetime
    recorded_at: datetime
    model_version: str
    order_json: JsonText
    features_json: str | None  # Python's JSON: NaN and Infinity tokens kept, so not JSONB
    decision_json: JsonText
    shadow_json: JsonText | None
    # the rules store's change counter whose rules and lists were evaluated (serve/rules_store); None: none
    rules_epoch: int | None = None


class OutcomeRow(NamedTuple):
    """One contract outcome as stored; (order_id, kind, reported_at) is stored once."""

    order_id: str
    kind: str
    reported_at: datetime
    source: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class Column:
    """One column as the declaration gives it; each backend's dialect turns the kind into a type."""

    name: str
    kind: ColumnKind
    nullable: bool


@dataclass(frozen=True)
class Table:
    """A table: its name (before the deployment's prefix), its row type and its uniqueness rule."""

    name: str
    row: type[tuple[Any, ...]]  # a NamedTuple class: its fields, in order, are the columns
    unique: tuple[str, ...]
    primary_key: bool  # `unique` is the primary key (else a UNIQUE constraint)

    @cached_property
    def columns(self) -> tuple[Column, ...]:
        hints = typing.get_type_hints(self.row, include_extras=True)  # in declaration order
        return tuple(_column(name, hint) for name, hint in hints.items())

    @cached_property
    def time_positions(self) -> tuple[int, ...]:
        """Where the moments are in a row (SQLite stores them as text)."""
        return tuple(i for i, column in enumerate(self.columns) if column.kind == "time")

    def check(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """`names` unchanged if they are all columns of this table (statements name no other)."""
        declared = {column.name for column in self.columns}
        unknown = [name for name in names if name not in declared]
        if unknown:
            raise ValueError(f"table {self.name} has no column(s) {', '.join(unknown)}")
        return names


def _column(name: str, hint: Any) -> Column:
    nullable = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        members = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(members) != 1:
            raise TypeError(f"column {name}: one type or one type | None, got {hint!r}")
        nullable, hint = True, members[0]
    if typing.get_origin(hint) is Annotated and _Json in hint.__metadata__:
        return Column(name, "json", nullable)
    if hint is datetime:
        return Column(name, "time", nullable)
    if hint is str:
        return Column(name, "text", nullable)
    if hint is int:
        return Column(name, "int", nullable)
    raise TypeError(f"column {name}: no column kind for {hint!r}")


DECISIONS = Table("decisions", DecisionRow, unique=("order_id",), primary_key=True)
OUTCOMES = Table("outcomes", OutcomeRow, unique=("order_id", "kind", "reported_at"), primary_key=False)
TABLES = (DECISIONS, OUTCOMES)

# What the statements read back, checked against the declarations above.
STORED_DECISION = DECISIONS.check(("order_id", "body_hash", "decision_json"))  # answers a repeated order
LOGGED_ORDER = DECISIONS.check(("order_id", "order_json"))  # what a restart replays and export writes
LOGGED_OUTCOME = OUTCOMES.check(("order_id", "kind", "reported_at", "source"))
