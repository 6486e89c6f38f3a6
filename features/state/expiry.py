"""Forget the embedded state's history that no read can see any more, so its memory stops growing with time.

A log trims itself as it grows (events older than its retention behind its own newest
event), but a log that stops growing, a card used once or a device never seen again,
would keep its events for ever, and so would the record of every order ever scored.
`expire` drops, measured behind the state's newest order (event time, as every
retention rule of features.retention):
- order records older than ORDER_RETENTION_US, and their label marks: `order` already
  answers None for them, so an outcome ignores them whether they are there or not;
- logs whose newest event is older than LOG_RETENTION_US, and set logs whose newest is
  older than SET_LOG_RETENTION_US: the windows of an order scored now (at most
  LATENESS_US behind the newest) all start after their last event, and a log is only
  ever read as the difference of two of its prefixes (features.history), which is 0 for
  a log with no event in the window, whether the log is there or not.
First and last sightings (`seen_at`) stay: "seconds since first seen" has no window.
They grow with the number of distinct keys, two integers each.

It goes one shard at a time (ShardedDict: 1/256 of each map), taking the state's lock for
each, so scoring waits for one shard at most, never for a whole pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from features.retention import LOG_RETENTION_US, ORDER_RETENTION_US, SET_LOG_RETENTION_US
from features.state.sharded import SHARDS

if TYPE_CHECKING:
    from features.state.embedded import EmbeddedState


@dataclass
class Expired:
    """What one pass forgot: order records, logs and set logs."""

    orders: int = 0
    logs: int = 0
    sets: int = 0

    @property
    def total(self) -> int:
        return self.orders + self.logs + self.sets


def expire(state: EmbeddedState) -> Expired:
    """Forget, shard by shard, what is past retention behind the state's newest order."""
    expired = Expired()
    for shard in range(SHARDS):
        with state.lock:
            _expire_shard(state, shard, expired)
    return expired


def _expire_shard(state: EmbeddedState, shard: int, expired: Expired) -> None:
    newest = state.newest_us
    orders = state.orders.shards[shard]
    old_orders = [order_id for order_id, record in orders.items()
                  if record.created_us < newest - ORDER_RETENTION_US]
    for order_id in old_orders:
        del orders[order_id]
        state.labelled.pop((order_id, 0))
        state.labelled.pop((order_id, 1))
    logs = state.logs.shards[shard]
    old_logs = [key for key, log in logs.items() if not log.times or log.times[-1] < newest - LOG_RETENTION_US]
    for key in old_logs:
        del logs[key]
    sets = state.sets.shards[shard]
    old_sets = [key for key, set_log in sets.items()
                if not set_log.times or set_log.times[-1] < newest - SET_LOG_RETENTION_US]
    for key in old_sets:
        del sets[key]
    expired.orders += len(old_orders)
    expired.logs += len(old_logs)
    expired.sets += len(old_sets)
