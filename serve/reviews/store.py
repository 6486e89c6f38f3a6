"""The review queue's SQL, over the decision log's connection and dialect (both backends alike).

Reviews live in the decision log's database (`schema.REVIEWS`, `ACTIONS`, `OUTBOX`):
one review row per order decided `review`, mutated only by the statements here, each
run in one transaction of the log (`DecisionLog.write`). A claim is one conditional
UPDATE whose row count says whether it was taken, so two analysts racing for a review
(threads, processes or hosts) never both hold it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from serve.decision_log import DecisionLog
from serve.decision_log.encoding import as_utc
from serve.decision_log.schema import ACTIONS, DECISIONS, OUTBOX, OUTCOMES, REVIEWS, ActionRow, EventRow, OutcomeRow
from serve.decision_log.sql import insert
from serve.reviews.errors import ClaimConflict, ReviewNotFound
from serve.reviews.models import QueueFilter, QueueSort

SUMMARY_COLUMNS = ("order_id", "opened_at", "due_at", "amount", "currency", "seller_id", "buyer_id", "country",
                   "fraud_score", "regret_score", "claimed_by", "claimed_at", "status")
REVIEW_COLUMNS = (*SUMMARY_COLUMNS, "verdict", "note", "decided_by", "decided_at")
_ORDER_BY: dict[str, str] = {"due": "r.due_at, r.order_id", "amount": "r.amount DESC, r.due_at, r.order_id",
                             "score": "r.fraud_score DESC, r.due_at, r.order_id"}


def loads(value: Any) -> Any:
    """A JSON column's value: PostgreSQL hands JSONB over parsed, SQLite as text."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def like_word(code: str) -> str:
    """A LIKE pattern matching `code` as a whole word of a `codes()` column (wildcards escaped)."""
    escaped = code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"% {escaped} %"


@dataclass(frozen=True)
class ClaimState:
    ok: bool
    held_by: str | None
    claimed_at: datetime | None


class ReviewStore:
    """Statements on the review tables of one decision log."""

    def __init__(self, log: DecisionLog) -> None:
        self.log = log
        d = log.dialect
        self.p = d.placeholder
        self.reviews, self.decisions = log.table(REVIEWS), log.table(DECISIONS)
        self.outcomes, self.actions, self.outbox = log.table(OUTCOMES), log.table(ACTIONS), log.table(OUTBOX)
        prefix = log.table_prefix
        self._insert_action = insert(ACTIONS, d, prefix)
        self._insert_outcome = insert(OUTCOMES, d, prefix)
        self._insert_event = insert(OUTBOX, d, prefix)

    def moment(self, value: datetime) -> Any:
        return self.log.dialect.moment(value)

    # ---- reading ---------------------------------------------------------------------

    def queue(self, sort: QueueSort, filters: QueueFilter, limit: int, offset: int) -> tuple[list[tuple], int]:
        """The page's rows (SUMMARY_COLUMNS + decision_json) and the number matching the filter."""
        where, params = self._where(filters)
        columns = ", ".join(f"r.{c}" for c in SUMMARY_COLUMNS)
        page = (f"SELECT {columns}, d.decision_json FROM {self.reviews} r JOIN {self.decisions} d "
                f"ON d.order_id = r.order_id{where} ORDER BY {_ORDER_BY[sort]} LIMIT {self.p} OFFSET {self.p}")
        count = f"SELECT count(*) FROM {self.reviews} r{where}"

        def work(conn: Any) -> tuple[list[tuple], int]:
            rows = conn.execute(page, [*params, limit, offset]).fetchall()
            total = conn.execute(count, params).fetchone()[0]
            return rows, int(total)

        return self.log.read("review queue", work)

    def _where(self, f: QueueFilter) -> tuple[str, list[Any]]:
        p = self.p
        conditions: list[str] = []
        params: list[Any] = []
        if f.status != "all":
            conditions.append(f"r.status = {p}")
            params.append(f.status)
        for column, value in (("seller_id", f.seller), ("country", f.country), ("currency", f.currency)):
            if value is not None:
                conditions.append(f"r.{column} = {p}")
                params.append(value)
        for column, code in (("reason_codes", f.reason), ("rule_ids", f.rule)):
            if code is not None:
                conditions.append(f"r.{column} LIKE {p} ESCAPE '\\'")
                params.append(like_word(code))
        if f.min_amount is not None:
            conditions.append(f"r.amount >= {p}")
            params.append(f.min_amount)
        if f.max_amount is not None:
            conditions.append(f"r.amount <= {p}")
            params.append(f.max_amount)
        return (" WHERE " + " AND ".join(conditions)) if conditions else "", params

    def order(self, order_id: str) -> dict[str, Any] | None:
        """Everything about one logged order: decision row, review row, outcomes, actions; None if not logged."""
        p = self.p
        decision_sql = (f"SELECT order_json, decision_json, model_version, created_at FROM {self.decisions} "
                        f"WHERE order_id = {p}")
        review_sql = f"SELECT {', '.join(REVIEW_COLUMNS)} FROM {self.reviews} WHERE order_id = {p}"
        outcomes_sql = (f"SELECT kind, reported_at, source FROM {self.outcomes} WHERE order_id = {p} "
                        "ORDER BY reported_at, kind")
        actions_sql = f"SELECT action, analyst, note, at FROM {self.actions} WHERE order_id = {p} ORDER BY at"

        def work(conn: Any) -> dict[str, Any] | None:
            decision = conn.execute(decision_sql, [order_id]).fetchone()
            if decision is None:
                return None
            return {"decision": decision, "review": conn.execute(review_sql, [order_id]).fetchone(),
                    "outcomes": conn.execute(outcomes_sql, [order_id]).fetchall(),
                    "actions": conn.execute(actions_sql, [order_id]).fetchall()}

        return self.log.read("review", work)

    # ---- claims ----------------------------------------------------------------------

    def claim(self, order_id: str, analyst: str, now: datetime, stale_before: datetime) -> ClaimState:
        """Take the claim if free, ours, or idle since before `stale_before`; else who holds it."""
        p = self.p
        take = (f"UPDATE {self.reviews} SET claimed_by = {p}, claimed_at = {p} WHERE order_id = {p} "
                f"AND status = 'open' AND (claimed_by IS NULL OR claimed_by = {p} OR claimed_at < {p})")
        read = f"SELECT status, claimed_by, claimed_at FROM {self.reviews} WHERE order_id = {p}"

        def work(conn: Any) -> ClaimState:
            taken = conn.execute(take, [analyst, self.moment(now), order_id, analyst, self.moment(stale_before)])
            if taken.rowcount == 1:
                return ClaimState(True, analyst, now)
            row = conn.execute(read, [order_id]).fetchone()
            if row is None:
                raise ReviewNotFound(f"no review for order_id {order_id!r}")
            if row[0] != "open":
                raise ClaimConflict(f"review {order_id!r} is closed already", None)
            return ClaimState(False, row[1], None if row[2] is None else as_utc(row[2]))

        return self.log.write("claim review", work)

    def release(self, order_id: str, analyst: str) -> bool:
        """Drop `analyst`'s claim (nothing if another holds it); whether a claim was dropped."""
        p = self.p
        sql = (f"UPDATE {self.reviews} SET claimed_by = NULL, claimed_at = NULL "
               f"WHERE order_id = {p} AND claimed_by = {p} AND status = 'open'")
        exists = f"SELECT 1 FROM {self.reviews} WHERE order_id = {p}"

        def work(conn: Any) -> bool:
            if conn.execute(sql, [order_id, analyst]).rowcount == 1:
                return True
            if conn.execute(exists, [order_id]).fetchone() is None:
                raise ReviewNotFound(f"no review for order_id {order_id!r}")
            return False

        return self.log.write("release review", work)

    def release_stale(self, stale_before: datetime) -> int:
        """Clear every claim idle since before `stale_before` (claims past it are free anyway: this tidies)."""
        sql = (f"UPDATE {self.reviews} SET claimed_by = NULL, claimed_at = NULL "
               f"WHERE status = 'open' AND claimed_at < {self.p}")
        before = self.moment(stale_before)
        return int(self.log.write("release stale claims", lambda c: c.execute(sql, [before]).rowcount))

    # ---- decisions and labels --------------------------------------------------------

    def close(self, order_id: str, analyst: str, verdict: str, note: str, outcome_kind: str, now: datetime,
              stale_before: datetime, event: EventRow | None) -> None:
        """Close the review with the analyst's verdict, its action, outcome and event: one transaction."""
        p = self.p
        sql = (f"UPDATE {self.reviews} SET status = 'closed', verdict = {p}, note = {p}, decided_by = {p}, "
               f"decided_at = {p}, claimed_by = {p}, claimed_at = {p} WHERE order_id = {p} AND status = 'open' "
               f"AND (claimed_by IS NULL OR claimed_by = {p} OR claimed_at < {p})")
        read = f"SELECT status, claimed_by, decided_by FROM {self.reviews} WHERE order_id = {p}"
        at = self.moment(now)

        def work(conn: Any) -> None:
            params = [verdict, note, analyst, at, analyst, at, order_id, analyst, self.moment(stale_before)]
            if conn.execute(sql, params).rowcount != 1:
                row = conn.execute(read, [order_id]).fetchone()
                if row is None:
                    raise ReviewNotFound(f"no review for order_id {order_id!r}")
                if row[0] != "open":
                    raise ClaimConflict(f"review {order_id!r} was closed already by {row[2]}", row[2])
                raise ClaimConflict(f"review {order_id!r} is claimed by {row[1]}", row[1])
            self._record_action(conn, order_id, verdict, analyst, note, now)
            self._record_outcome(conn, order_id, outcome_kind, now)
            if event is not None:
                conn.execute(self._insert_event, self.log.dialect.values(OUTBOX, event))

        self.log.write("decide review", work)

    def label(self, order_id: str, analyst: str, kind: str, note: str, now: datetime) -> None:
        """Record an analyst's label of any logged order (its action and its outcome): one transaction."""
        exists = f"SELECT 1 FROM {self.decisions} WHERE order_id = {self.p}"

        def work(conn: Any) -> None:
            if conn.execute(exists, [order_id]).fetchone() is None:
                raise ReviewNotFound(f"no decision logged for order_id {order_id!r}")
            self._record_action(conn, order_id, kind, analyst, note, now)
            self._record_outcome(conn, order_id, kind, now)

        self.log.write("label order", work)

    def _record_action(self, conn: Any, order_id: str, action: str, analyst: str, note: str, now: datetime) -> None:
        row = ActionRow(f"act_{uuid.uuid4().hex}", order_id, action, analyst, note, now)
        conn.execute(self._insert_action, self.log.dialect.values(ACTIONS, row))

    def _record_outcome(self, conn: Any, order_id: str, kind: str, now: datetime) -> None:
        row = OutcomeRow(order_id, kind, now, "analyst", datetime.now(UTC))
        conn.execute(self._insert_outcome, self.log.dialect.values(OUTCOMES, row))
