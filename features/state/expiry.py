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

It goes one shard at a time (ShardedDict: 1/256 of each map), and holds the state's lock
only to copy a shard's entries and to delete the old ones: scoring never waits for a
whole pass, nor for the judging of a shard.
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
        _expire_shard(state, shard, expired)
    return expired


def _expire_shard(state: EmbeddedState, shard: int, expired: Expired) -> None:
    """One shard of each map: its entries listed under the lock (a copy of references), judged without
    it, and the old ones deleted under it again, each checked anew (a log may have grown meanwhile)."""
    orders, logs, sets = state.orders.shards[shard], state.logs.shards[shard], state.sets.shards[shard]
    with state.lock:
        newest = state.newest_us
        order_ids, records = list(orders), list(orders.values())
        log_keys, log_values = list(logs), list(logs.values())
        set_keys, set_values = list(sets), list(sets.values())
    order_horizon = newest - ORDER_RETENTION_US
    log_horizon, set_horizon = newest - LOG_RETENTION_US, newest - SET_LOG_RETENTION_US
    old_orders = [order_id for order_id, record in zip(order_ids, records, strict=True)
                  if record.created_us < order_horizon]
    old_logs = [key for key, log in zip(log_keys, log_values, strict=True) if _older(log.times, log_horizon)]
    old_sets = [key for key, set_log in zip(set_keys, set_values, strict=True) if _older(set_log.times, set_horizon)]
    with state.lock:  # a record never changes once written; a log may have had an event since it was judged
        for order_id in old_orders:
            orders.pop(order_id, None)
            state.labelled.pop((order_id, 0))
            state.labelled.pop((order_id, 1))
        old_logs = [key for key in old_logs if key in logs and _older(logs[key].times, log_horizon)]
        for key in old_logs:
            del logs[key]
        old_sets = [key for key in old_sets if key in sets and _older(sets[key].times, set_horizon)]
        for key in old_sets:
            del sets[key]
    expired.orders += len(old_orders)
    expired.logs += len(old_logs)
    expired.sets += len(old_sets)


def _older(times: list[int], horizon: int) -> bool:
    """Whether a log's newest event is before `horizon` (a log always holds one; none counts as old)."""
    return not times or times[-1] < horizon
