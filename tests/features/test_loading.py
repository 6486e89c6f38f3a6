"""Loading a history gives exactly the state that scoring its orders one by one would have built."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pandas as pd
import pytest
import redis

from features.loading import History, load_history
from features.online import OnlineFeatures
from features.replay import _clean, replay
from features.state import EmbeddedState
from features.state.redis_state import RedisState
from risk.contract import Order, Outcome, unflatten
from risk.datasets import ORDERS, OUTCOMES, normalise
from tests.features.test_redis_state import _reachable
from training.simulator import simulate

REDIS_URL = os.environ.get("RISK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
def world() -> tuple[pd.DataFrame, pd.DataFrame]:
    """200 days of orders: logs trim (90-day retention), set logs trim (8 days), order records age out."""
    orders, outcomes = simulate(4_000, 200, 8)
    return normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)


def contents(state: EmbeddedState) -> tuple:
    """Everything an embedded state holds, comparable."""
    return (sorted((k, v.times, v.sums, v.base) for k, v in state.logs.items()),
            sorted((k, v.times, v.members) for k, v in state.sets.items()),
            sorted(state.seen_at.items()), sorted(state.orders.items()), sorted(state.labelled.items()),
            state.newest_us)


def test_loading_a_data_set_builds_the_state_online_replay_builds(world):
    orders, outcomes = world
    replayed, loaded = EmbeddedState(), EmbeddedState()
    replay(orders, outcomes, OnlineFeatures(replayed))
    counts = load_history(History.from_frames(orders, outcomes), loaded, batch=100)
    assert contents(loaded) == contents(replayed)
    assert counts.orders == len(orders) and 0 < counts.outcomes <= len(outcomes) and counts.skipped == 0
    # not vacuous: logs were trimmed and outcomes counted
    assert any(log.base != (0,) * len(log.base) for log in loaded.logs.values())
    assert len(loaded.labelled) == counts.outcomes


def test_loading_again_skips_everything_and_changes_nothing(world):
    orders, outcomes = world
    state = EmbeddedState()
    history = History.from_frames(orders, outcomes)
    load_history(history, state)
    before = contents(state)
    again = load_history(history, state)
    assert (again.orders, again.outcomes, again.skipped) == (0, 0, len(orders) + len(state.labelled))
    assert contents(state) == before


def test_a_history_read_from_the_log_loads_like_the_data_set(world):
    orders, outcomes = world
    logged = [Order.model_validate(unflatten(_clean(row))) for row in orders.head(1500).to_dict("records")]
    known = outcomes[outcomes["order_id"].isin({order.order_id for order in logged})]
    from_log = EmbeddedState()
    logged_outcomes = [Outcome.model_validate(_clean(row)) for row in known.to_dict("records")]
    assert logged_outcomes
    load_history(History.from_log(logged, logged_outcomes), from_log)
    from_frames = EmbeddedState()
    load_history(History.from_frames(orders.head(1500), known), from_frames)
    assert contents(from_log) == contents(from_frames)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    _reachable(REDIS_URL)
    prefix = f"test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start:start + 1000])
    client.close()


@pytest.mark.integration
def test_pipelined_load_into_redis_answers_as_online_replay(world, redis_prefix):
    """Every key written the same: loaded in pipelined batches vs replayed one order at a time."""
    orders, outcomes = world
    orders = orders.head(1500)
    outcomes = outcomes[outcomes["order_id"].isin(set(orders["order_id"]))]
    replayed = RedisState(url=REDIS_URL, prefix=redis_prefix + "replayed:", timeout_s=5.0)
    loaded = RedisState(url=REDIS_URL, prefix=redis_prefix + "loaded:", timeout_s=5.0)
    replay(orders, outcomes, OnlineFeatures(replayed))
    load_history(History.from_frames(orders, outcomes), loaded, batch=300)
    client = replayed.client

    def dump(state: RedisState) -> dict[bytes, object]:
        out: dict[bytes, object] = {}
        for key in client.scan_iter(match=state.prefix + "*", count=1000):
            name = key[len(state.prefix):]
            kind = client.type(key)
            out[name] = client.zrange(key, 0, -1, withscores=True) if kind == b"zset" else client.get(key)
        return out

    replayed_keys, loaded_keys = dump(replayed), dump(loaded)
    assert len(replayed_keys) > 5_000
    assert loaded_keys == replayed_keys
