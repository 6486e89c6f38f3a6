"""The decision log's tables, declared once: each is a row type whose fields are its columns.

A field's type says the column's kind: `str` is text, `int` an integer, `float` a double,
`datetime` a moment (aware, UTC), `JsonText` JSON text that PostgreSQL stores as JSONB;
`| None` makes it nullable. Both
backends' CREATE TABLE and INSERT statements are generated from these declarations
(`serve/decision_log/sql.py`), and the rows the log writes are these types, so a
column added here is created, written and read alike by SQLite and PostgreSQL.
A column added to an existing table is named in its `added` (nullable, with a default
in the row type): opening a log made before it adds the column (`migrations.py`), and
the table's `indexes` are created after that.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Annotated, Any, Literal, NamedTuple

ColumnKind = Literal["text", "int", "float", "time", "json"]


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
    # The order's entities (ENTITIES below), indexed for the linked orders view; added in v2 of the
    # table (filled from order_json when an older log is opened).
    card_fingerprint: str | None = None
    device_id: str | None = None
    ip: str | None = None
    buyer_id: str | None = None
    seller_id: str | None = None
    address_hash: str | None = None
    # the rules store's change counter whose rules and lists were evaluated (serve/rules_store); None: none
    rules_epoch: int | None = None


class OutcomeRow(NamedTuple):
    """One contract outcome as stored; (order_id, kind, reported_at) is stored once."""

    order_id: str
    kind: str
    reported_at: datetime
    source: str | None
    recorded_at: datetime


class ReviewRow(NamedTuple):
    """An order decided `review`, waiting for (or closed by) an analyst; opened with its decision.

    The order's queue fields are copied here at opening time, so the queue is one indexed
    table read. `reason_codes` and `rule_ids` are space-separated with a space at each end,
    so a filter matches a whole code with LIKE '% CODE %'.
    """

    order_id: str
    opened_at: datetime
    due_at: datetime
    status: str  # open | closed
    amount: int  # minor units of `currency`; capped at 2**63 - 1 (the contract sets no maximum, the columns do)
    currency: str
    seller_id: str
    buyer_id: str
    country: str | None  # the buyer's country
    fraud_score: float
    regret_score: float
    reason_codes: str
    rule_ids: str
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    verdict: str | None = None  # approve | decline, once closed
    note: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None


class ActionRow(NamedTuple):
    """One analyst action (a review decided, an order labelled): who, when, what and why."""

    action_id: str
    order_id: str
    action: str  # approve | decline | confirmed_fraud | confirmed_legit
    analyst: str
    note: str
    at: datetime


class EventRow(NamedTuple):
    """A webhook event in the outbox, written in the transaction of what caused it.

    `body` is the exact text sent and signed; `event_id` is unique and stays the same on
    every attempt, so a receiver dedupes at-least-once deliveries by it.
    """

    event_id: str
    event_type: str  # review.opened | review.closed
    order_id: str
    body: str
    created_at: datetime
    status: str  # pending | delivered
    attempts: int
    next_attempt_at: datetime
    last_error: str | None = None
    last_status: int | None = None  # the receiver's HTTP status at the last attempt
    delivered_at: datetime | None = None
    lease_until: datetime | None = None  # a worker is delivering it until then (several processes)


@dataclass(frozen=True)
class Entity:
    """A thing orders can share (card, device...): its kind, its column in `decisions`, its path in an order."""

    kind: str
    column: str
    path: tuple[str, str]


ENTITIES = (
    Entity("card", "card_fingerprint", ("payment", "card_fingerprint")),
    Entity("device", "device_id", ("session", "device_id")),
    Entity("ip", "ip", ("session", "ip")),
    Entity("buyer", "buyer_id", ("buyer", "account_id")),
    Entity("seller", "seller_id", ("seller", "account_id")),
    Entity("shipping_address", "address_hash", ("shipping", "address_hash")),
)


def entity_values(order: Any) -> tuple[str | None, ...]:
    """The order's entities in `ENTITIES` order (an `Order`, or its JSON-ready dict), None where unknown."""
    values = []
    for entity in ENTITIES:
        section, name = entity.path
        part = order.get(section) if isinstance(order, dict) else getattr(order, section, None)
        value = None if part is None else (part.get(name) if isinstance(part, dict) else getattr(part, name, None))
        values.append(None if value is None else str(value))
    return tuple(values)


class UserRow(NamedTuple):
    """A person who logs in to the web app (serve/ui). Disabled accounts stay: decisions keep naming them."""

    name: str
    role: str  # analyst or admin (serve.config.Role; checkout keys have no UI)
    password_hash: str  # argon2id, with its parameters and salt (argon2-cffi's encoded form)
    created_at: datetime
    disabled_at: datetime | None


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
    indexes: tuple[tuple[str, ...], ...] = ()  # each a list of columns (created after migrations)
    added: tuple[str, ...] = ()  # columns added after the table's first version: a stored log gains them

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
    if hint is int:
        return Column(name, "int", nullable)
    if hint is float:
        return Column(name, "float", nullable)
    if hint is str:
        return Column(name, "text", nullable)
    if hint is int:
        return Column(name, "int", nullable)
    raise TypeError(f"column {name}: no column kind for {hint!r}")


DECISIONS = Table("decisions", DecisionRow, unique=("order_id",), primary_key=True,
                  indexes=tuple((entity.column, "created_at") for entity in ENTITIES),
                  added=(*(entity.column for entity in ENTITIES), "rules_epoch"))
OUTCOMES = Table("outcomes", OutcomeRow, unique=("order_id", "kind", "reported_at"), primary_key=False)
REVIEWS = Table("reviews", ReviewRow, unique=("order_id",), primary_key=True,
                indexes=(("status", "due_at"), ("status", "amount"), ("status", "fraud_score"), ("seller_id",),
                         ("decided_at",)))
ACTIONS = Table("analyst_actions", ActionRow, unique=("action_id",), primary_key=True,
                indexes=(("order_id",), ("at",)))
OUTBOX = Table("webhook_outbox", EventRow, unique=("event_id",), primary_key=True,
               indexes=(("status", "next_attempt_at"), ("created_at",)))
USERS = Table("users", UserRow, unique=("name",), primary_key=True)
TABLES = (DECISIONS, OUTCOMES, REVIEWS, ACTIONS, OUTBOX, USERS)

# What the statements read back, checked against the declarations above.
STORED_DECISION = DECISIONS.check(("order_id", "body_hash", "decision_json"))  # answers a repeated order
LOGGED_ORDER = DECISIONS.check(("order_id", "order_json"))  # what a restart replays and export writes
LOGGED_OUTCOME = OUTCOMES.check(("order_id", "kind", "reported_at", "source"))
