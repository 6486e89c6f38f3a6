"""Delivering the outbox's webhook events: signed POSTs, retried with exponential backoff until delivered.

The outbox (`schema.OUTBOX`) is written in the transaction of each event's cause, so an
event exists exactly when its cause does. A worker takes the events due, leases each
(one UPDATE, so two processes never send one event at the same time), POSTs its stored
body with the signature, and marks it delivered on a 2xx; anything else (an error status,
a timeout, a refused connection) counts an attempt and schedules the next one after
`backoff * 2**(attempts-1)` seconds, capped at `max_backoff`. Delivery is at least once:
a worker killed after the receiver answered but before the row was marked sends the
event again, with the same id, which the receiver dedupes (see events.py). A restarted
worker picks up every undelivered event: nothing is lost.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from serve.decision_log import DecisionLog
from serve.decision_log.encoding import as_utc
from serve.decision_log.schema import OUTBOX
from serve.periodic import PeriodicJob
from serve.reviews.events import EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, sign
from serve.reviews.models import Delivery

log = logging.getLogger("risk.serve")
DELIVERY_COLUMNS = ("event_id", "event_type", "order_id", "created_at", "status", "attempts", "next_attempt_at",
                    "last_status", "last_error", "delivered_at")


class WebhookSender:
    """Sends the due events of one decision log's outbox to `url`, signed with `secret`.

    `job` (the app's background thread "webhooks") delivers at once and then every `poll_s`; an
    unavailable log is retried next round.
    """

    def __init__(self, decisions: DecisionLog, url: str, secret: str, *, timeout_s: float = 5.0,
                 backoff_s: float = 2.0, max_backoff_s: float = 3600.0, lease_s: float = 60.0, batch: int = 50,
                 poll_s: float = 1.0) -> None:
        self.log, self.url, self.secret = decisions, url, secret
        self.backoff, self.max_backoff = backoff_s, max_backoff_s
        self.lease = timedelta(seconds=max(lease_s, timeout_s * 2))
        self.batch = batch
        self.client = httpx.Client(timeout=timeout_s)
        self.job = PeriodicJob("webhooks", self.deliver_due, poll_s, failure="webhook delivery round failed",
                               run_at_start=True)
        table, p = decisions.table(OUTBOX), decisions.dialect.placeholder
        self._due = (f"SELECT event_id FROM {table} WHERE status = 'pending' AND next_attempt_at <= {p} "
                     f"AND (lease_until IS NULL OR lease_until < {p}) ORDER BY next_attempt_at, created_at LIMIT {p}")
        self._lease = (f"UPDATE {table} SET lease_until = {p} WHERE event_id = {p} AND status = 'pending' "
                       f"AND (lease_until IS NULL OR lease_until < {p})")
        self._body = f"SELECT event_type, body, attempts FROM {table} WHERE event_id = {p}"
        self._delivered = (f"UPDATE {table} SET status = 'delivered', attempts = attempts + 1, delivered_at = {p}, "
                           f"last_status = {p}, last_error = NULL, lease_until = NULL WHERE event_id = {p}")
        self._failed = (f"UPDATE {table} SET attempts = attempts + 1, next_attempt_at = {p}, last_status = {p}, "
                        f"last_error = {p}, lease_until = NULL WHERE event_id = {p}")

    def deliver_due(self, now: datetime | None = None) -> int:
        """One round: send every event due now (at most `batch`); how many were delivered."""
        now = now or datetime.now(UTC)
        m = self.log.dialect.moment
        due = self.log.read("webhook outbox", lambda c: c.execute(self._due, [m(now), m(now), self.batch]).fetchall())
        delivered = 0
        for (event_id,) in due:
            if self.job.stopping.is_set():
                break
            delivered += self._deliver_one(event_id, now)
        return delivered

    def _deliver_one(self, event_id: str, now: datetime) -> int:
        m = self.log.dialect.moment

        def lease(conn: Any) -> tuple | None:
            if conn.execute(self._lease, [m(now + self.lease), event_id, m(now)]).rowcount != 1:
                return None  # another worker has it, or it was delivered meanwhile
            return conn.execute(self._body, [event_id]).fetchone()

        leased = self.log.write("lease webhook event", lease)
        if leased is None:
            return 0
        event_type, body, attempts = leased
        status, error = self._post(event_id, event_type, body.encode())
        finished = datetime.now(UTC)
        if status is not None and 200 <= status < 300:
            self.log.write("webhook delivered", lambda c: c.execute(self._delivered, [m(finished), status, event_id]))
            return 1
        retry_at = finished + timedelta(seconds=self.retry_delay(int(attempts) + 1))
        self.log.write("webhook failed", lambda c: c.execute(self._failed, [m(retry_at), status, error, event_id]))
        log.warning("webhook event %s not delivered (attempt %d): %s", event_id, int(attempts) + 1, error)
        return 0

    def retry_delay(self, attempts: int) -> float:
        """Seconds before the next attempt after `attempts` failed ones: exponential, capped."""
        return float(min(self.backoff * 2 ** max(attempts - 1, 0), self.max_backoff))

    def _post(self, event_id: str, event_type: str, body: bytes) -> tuple[int | None, str | None]:
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self.secret, body),
                   EVENT_ID_HEADER: event_id, EVENT_TYPE_HEADER: event_type}
        try:
            response = self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{exc.__class__.__name__}: {str(exc)[:200]}"
        if 200 <= response.status_code < 300:
            return response.status_code, None
        return response.status_code, f"HTTP {response.status_code}"

    def close(self) -> None:
        """Stop delivering (waiting up to 5 s for an event being sent) and close the HTTP client."""
        self.job.stop()
        self.client.close()


def deliveries(decisions: DecisionLog, *, status: str | None = None, limit: int = 100) -> list[Delivery]:
    """The outbox's events, newest first (optionally only `pending` or `delivered`): the delivery state."""
    p = decisions.dialect.placeholder
    where = f" WHERE status = {p}" if status else ""
    sql = (f"SELECT {', '.join(DELIVERY_COLUMNS)} FROM {decisions.table(OUTBOX)}{where} "
           f"ORDER BY created_at DESC, event_id LIMIT {p}")
    params = [*([status] if status else []), limit]
    rows = decisions.read("webhook deliveries", lambda c: c.execute(sql, params).fetchall())
    return [Delivery(event_id=r[0], event_type=r[1], order_id=r[2], created_at=as_utc(r[3]), status=r[4],
                     attempts=int(r[5]), next_attempt_at=as_utc(r[6]), last_status=r[7], last_error=r[8],
                     delivered_at=None if r[9] is None else as_utc(r[9])) for r in rows]
