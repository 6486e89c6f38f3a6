"""How long the feature state keeps each kind of history, and why: every backend reads these.

Times are integer microseconds of event time (an order's `created_at`, an outcome's label
time), measured behind the newest event the state holds, not behind the wall clock: a
replayed or back-filled history trims exactly as the live one did. Logs keep the sums of
what they drop, so a window that fits inside its log's retention stays exact.
"""

from __future__ import annotations

from features.clock import DAY

LATENESS_US = DAY
"""How late an order may be scored behind the newest event of a log and still see a whole window."""

LOG_RETENTION_US = 90 * DAY + LATENESS_US
"""Log events older than this behind their log's newest event may be dropped.

90 days is the longest window read from a log (label rates and the buyer's amount mean
and spread over 90 days); a late order reads back from its own time, hence the lateness.
"""

SET_LOG_RETENTION_US = 7 * DAY + LATENESS_US
"""Set log events older than this behind their set log's newest event may be dropped.

Distinct counts look back 7 days at most; a set log has no running sums, so nothing older
is ever read. Set logs are the largest logs (one event per order and pair), hence their own,
shorter horizon.
"""

ORDER_RETENTION_US = 180 * DAY
"""How long an order stays known for its outcomes to count (a later report is ignored).

Outcomes arrive up to 60 days after the order (chargebacks, the latest kind), and card
networks accept chargebacks up to about 120 days after the payment; 180 days covers both
with margin, while bounding the order records and label marks the state holds.
"""

ORDER_TTL_S = ORDER_RETENTION_US // 1_000_000 + 86_400
"""Wall-clock lifetime of an order record and its label marks in Redis, which forgets by TTL only.

The event-time rule (ORDER_RETENTION_US behind the newest order) decides whether an order
is still known; the TTL only frees memory, one day later, so that it never cuts in first.
"""

TRIM_AT_LEAST = 64
"""Old events are dropped in chunks of at least this many, so that trimming stays amortised
O(1) per event (deleting a list's head moves the whole list). Both backends trim alike, so
their logs hold the same events (the Redis parity test compares them)."""
