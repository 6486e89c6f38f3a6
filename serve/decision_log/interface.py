"""What every decision log does, whatever stores it: record once, find, replay."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar

from pydantic import ValidationError

from risk.contract import Outcome, describe
from risk.errors import InvalidInput, RiskError
from serve.decision_log.encoding import as_utc, in_utc, to_json
from serve.decision_log.schema import DecisionRow, EventRow, OutcomeRow, ReviewRow, Table, entity_values
from serve.decision_log.sql import Dialect, table_name

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_T = TypeVar("_T")

LoggedOrders = list[tuple[str, dict[str, Any]]]  # (order_id, contract order dict) by (created_at, order_id)
LoggedOutcomes = list[tuple[Any, ...]]  # (order_id, kind, reported_at, source) by (reported_at, order_id, kind)
LoggedRows = tuple[LoggedOrders, LoggedOutcomes]


class DecisionLogUnavailable(RiskError):
    """The decision log cannot be reached or written: the service must not answer without it."""

    status = 503


@dataclass(frozen=True)
class StoredDecision:
    """What the log keeps to answer a repeated order: its body hash and the decision given."""

    order_id: str
    body_hash: str  # sha256 hex of the canonical order body, given by the caller
    decision: dict[str, Any]  # the Decision as a JSON-ready dict (model_dump(mode="json"))
    # True when this very `record` call stored the row (False from `get`, and when the order was
    # already there): tells the caller whether its decision won, without comparing decisions.
    inserted: bool = field(default=False, compare=False)


class DecisionLog(ABC):
    """Append-only log of decisions and outcomes; safe to call from several threads."""

    in_process: bool = False
    """Writes go to local disk from this process: logging never waits on a network peer."""
    dialect: Dialect
    """The SQL dialect of the backend (for modules writing their own statements on its tables)."""
    table_prefix: str = ""

    @abstractmethod
    def get(self, order_id: str) -> StoredDecision | None:
        """The stored decision of `order_id`, or None if it was never recorded."""

    @abstractmethod
    def logged_order(self, order_id: str) -> dict[str, Any] | None:
        """The contract order logged with `order_id`'s decision, None if it was never scored."""

    def record(
        self,
        order_id: str,
        body_hash: str,
        created_at: datetime,
        order: dict[str, Any] | str,
        features: list[float] | None,
        decision: dict[str, Any] | str,
        model_version: str,
        shadow: dict[str, Any] | None = None,
        *,
        entities: tuple[str | None, ...] | None = None,
        review: ReviewRow | None = None,
        events: Sequence[EventRow] = (),
        rules_epoch: int | None = None,
    ) -> StoredDecision:
        """Store the decision unless `order_id` is already stored; return the stored row.

        Atomic insert-if-absent: a row already stored is returned unchanged, never
        overwritten, whatever its body hash (the caller compares it and answers 409).
        `order` and `decision` are JSON-ready dicts, or their standard JSON text when the
        caller has it already (the scoring path: pydantic wrote it, non-finite as null).
        `entities` are the order's (schema.entity_values; read from `order` when not given).
        `review` and `events` (the review it opens, the webhook events that says) are
        stored in the same transaction, and only if this call stored the decision: a
        decision is never logged without its review, even on kill -9.
        `rules_epoch` names the rules and lists evaluated (the rules store's change counter).
        """
        if created_at.tzinfo is None or created_at.utcoffset() is None:
            raise InvalidInput(f"created_at of order {order_id!r} has no timezone")
        if entities is None:
            entities = entity_values(json.loads(order) if isinstance(order, str) else order)
        row = DecisionRow(  # type: ignore[call-arg]
            order_id,
            body_hash,
            in_utc(created_at),
            datetime.now(UTC),  # recorded_at
            model_version,
            order if isinstance(order, str) else to_json(order),
            None if features is None else json.dumps(features),
            decision if isinstance(decision, str) else to_json(decision),
            None if shadow is None else to_json(shadow),
            *entities,  # type: ignore[arg-type]  # schema.ENTITIES order, as the row declares them; then the epoch
            rules_epoch,
        )
        return self._insert_decision(row, review, events)

    def record_outcomes(self, outcomes: Iterable[Mapping[str, Any] | Outcome]) -> int:
        """Store contract outcomes, idempotent on (order_id, kind, reported_at); returns rows newly stored.

        The whole batch is validated first and stored in one transaction: all or none.
        `reported_at` is compared as an instant, so `10:15Z` and `11:15+01:00` are the same.
        """
        now = datetime.now(UTC)
        rows = []
        batch = list(outcomes)
        for number, item in enumerate(batch, start=1):
            try:
                outcome = item if isinstance(item, Outcome) else Outcome.model_validate(item)
            except ValidationError as exc:
                raise InvalidInput(f"outcome {number} of {len(batch)}: {describe(exc)}") from None
            rows.append(OutcomeRow(outcome.order_id, outcome.kind, in_utc(outcome.reported_at),
                                   outcome.source, now))
        return self._insert_outcomes(rows) if rows else 0

    def read_since(self, recorded_after: datetime | None) -> tuple[list[dict[str, Any]], list[Outcome]]:
        """Orders (contract dicts, by created_at) and outcomes recorded after a moment (all if None).

        What a restarted process replays into its feature state on top of its last snapshot,
        and what `risk export` writes as a data set (`risk/export.py`). Both tables are read
        from one snapshot, on a connection of their own, so scoring goes on meanwhile.
        """
        orders, outcomes = self._read_all(recorded_after or EPOCH)
        return [order for _, order in orders], [
            Outcome(order_id=o[0], kind=o[1], reported_at=as_utc(o[2]), source=o[3]) for o in outcomes]

    def table(self, table: Table) -> str:
        """The quoted name of `table` in this log (with its deployment's prefix)."""
        return table_name(table, self.table_prefix)

    def read(self, what: str, work: Callable[[Any], _T]) -> _T:
        """`work(connection)` for statements that only read; errors become DecisionLogUnavailable."""
        return self._run(what, work)

    @abstractmethod
    def write(self, what: str, work: Callable[[Any], _T]) -> _T:
        """`work(connection)` in one transaction: committed if it returns, rolled back if it raises (any error).

        The connection's `execute(sql, params)` returns a cursor (`rowcount`, `fetchone`,
        `fetchall`) on both backends; statements use `self.dialect`'s placeholder.
        """

    @abstractmethod
    def count(self) -> int:
        """The number of decisions stored."""

    def ping(self) -> bool:
        """True if the log answers a trivial query now (for /readyz); never raises."""
        try:
            return self._run("ping", lambda c: c.execute("SELECT 1").fetchone()) == (1,)
        except DecisionLogUnavailable:
            return False

    @abstractmethod
    def close(self) -> None:
        """Release the connection; later calls raise DecisionLogUnavailable. Idempotent."""

    # ---- what a backend implements --------------------------------------------------

    @abstractmethod
    def _run(self, what: str, work: Callable[[Any], _T]) -> _T:
        """`work(connection)` on the log's own connection; a database error becomes DecisionLogUnavailable."""

    @abstractmethod
    def _insert_decision(self, row: DecisionRow, review: ReviewRow | None,
                         events: Sequence[EventRow]) -> StoredDecision:
        """Insert unless present, then the stored row; with the review and events if inserted, atomically."""

    @abstractmethod
    def _insert_outcomes(self, rows: list[OutcomeRow]) -> int:
        """Insert the rows absent, in one transaction; the number inserted."""

    @abstractmethod
    def _read_all(self, since: datetime = EPOCH) -> LoggedRows:
        """The orders and outcomes recorded after `since`, read from one snapshot."""

    def __enter__(self) -> DecisionLog:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
