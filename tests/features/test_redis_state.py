"""RedisState answers exactly as EmbeddedState, fails fast when Redis is away, and shares state.

Needs a redis-server (RISK_TEST_REDIS_URL, default redis://127.0.0.1:6379/0): skipped
without one, failed instead when RISK_REQUIRE_SERVICES is set (CI). Every test works
under its own key prefix and deletes its keys afterwards.
"""

from __future__ import annotations

import hashlib
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from features.batch import compute_features
from features.online import OnlineFeatures
from features.replay import replay
from features.retention import LOG_RETENTION_US, ORDER_RETENTION_US, ORDER_TTL_S
from features.state import EmbeddedState, OrderRecord, StateUnavailable, Writes
from features.state.redis_state import RedisState, lua_script
from risk.datasets import ORDERS, OUTCOMES, normalise
from tests.features.parity import assert_same_features
from training.simulator import simulate

REDIS_URL = os.environ.get("RISK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
T0 = 1_767_225_600_000_000  # 2026-01-01 in microseconds
DAY = 86_400_000_000
LOGS = {"orders:card:c1": 2, "orders:card:c2": 2, "labels:seller:s1": 2, "steps:ip:i1": 1, "steps:ip:i2": 1}
SETS = ["pairs_card:device:d1", "pairs_buyer:ip:i1"]
MEMBERS = ["c1", "c2", "b:1,2|3 4", 'q"\\/', "caf\u00e9", ""]  # separators, JSON, non-ASCII
SEEN = ["seen:card:c1", "seen:ip:i1", "seen:buyer_card:b1|c1"]

MakeState = Callable[..., RedisState]


def _reachable(url: str) -> None:
    """Skip (or fail, when services are required) unless a Redis server answers at `url`."""
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        if os.environ.get("RISK_REQUIRE_SERVICES"):
            pytest.fail(f"Redis not reachable at {url} ({exc}) and RISK_REQUIRE_SERVICES is set")
        pytest.skip(f"Redis not reachable at {url}: start redis-server to run these tests")
    finally:
        client.close()


@pytest.fixture
def make_state() -> Iterator[MakeState]:
    """Builds RedisStates under one fresh key prefix (shared, like several processes); cleans up."""
    _reachable(REDIS_URL)
    prefix = f"test:{uuid.uuid4().hex}:"
    made: list[RedisState] = []

    def make(timeout_s: float = 2.0) -> RedisState:  # generous: a busy CI box must not flake
        state = RedisState(url=REDIS_URL, prefix=prefix, timeout_s=timeout_s)
        made.append(state)
        return state

    yield make
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start:start + 1000])
    client.close()
    for state in made:
        state.close()


def random_writes(rng: random.Random, batches: int, span_days: int) -> list[Writes]:
    """Writes as the online path makes them, and worse: late, same-time, future, long-forgotten."""
    step = span_days * DAY // batches
    now, times, writes = T0, {log: [T0] for log in LOGS}, []
    for _ in range(batches):
        now += rng.choice([0, 0, 1, rng.randrange(2 * step)])
        batch = Writes()
        for _ in range(rng.randrange(1, 8)):
            log = rng.choice(list(LOGS))
            kind = rng.random()
            if kind < 0.5:
                t = now
            elif kind < 0.65:
                t = rng.choice(times[log][-20:])  # same time as an event already there
            elif kind < 0.8:
                t = now - rng.randrange(10 * DAY)  # late
            elif kind < 0.85:
                t = now - rng.randrange(LOG_RETENTION_US, LOG_RETENTION_US + 30 * DAY)  # behind the horizon
            else:
                t = now + rng.randrange(7 * DAY)  # ahead: later writes are then late
            times[log].append(t)
            weights = tuple(rng.randrange(-3, 1000) for _ in range(LOGS[log]))
            batch.appends.append((log, t, weights))
        for _ in range(rng.randrange(4)):
            t = now - rng.choice([0, 0, rng.randrange(DAY), rng.randrange(10 * DAY)])
            batch.members.append((rng.choice(SETS), t, rng.choice(MEMBERS)))
        for key in rng.sample(SEEN, rng.randrange(len(SEEN) + 1)):
            batch.seen.append((key, now + rng.randrange(-2 * DAY, DAY)))
        if rng.random() < 0.3:
            record = OrderRecord(now - rng.randrange(DAY), (("card", f"c{rng.randrange(3)}"), ("ip", "i1")))
            batch.orders.append((f"o{len(writes)}", record))  # an order is recorded once (a second is skipped)
        writes.append(batch)
    return writes


def random_queries(rng: random.Random, writes: list[Writes]) -> tuple[list, list, list]:
    """(prefixes, seen, slices) about times where things happened, and around them."""
    times = [t for batch in writes for _, t, _ in batch.appends + batch.members]
    prefixes, slices = [], []
    for _ in range(40):
        log = rng.choice([*LOGS, "orders:card:never"])
        t = rng.choice(times) + rng.choice([0, 0, -1, 1, -DAY, rng.randrange(-100 * DAY, 100 * DAY)])
        prefixes.append((log, t, rng.random() < 0.5))
    for _ in range(10):
        before = rng.choice(times) + rng.choice([0, 0, 1, rng.randrange(DAY)])
        after = before - rng.choice([0, 1, rng.randrange(8 * DAY), 7 * DAY])
        slices.append((rng.choice([*SETS, "pairs_card:device:never"]), after, before))
    return prefixes, [*SEEN, "seen:card:never"], slices


@pytest.mark.integration
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_writes_give_the_embedded_answers_to_random_queries(make_state, seed):
    rng = random.Random(seed)
    embedded, writers = EmbeddedState(), [make_state(), make_state()]  # two processes, one state
    writes = random_writes(rng, batches=600, span_days=400)
    for i, batch in enumerate(writes):
        embedded.apply(batch)
        writers[i % 2].apply(batch)
        if i % 10 == 0 or i == len(writes) - 1:
            queries = random_queries(rng, writes[: i + 1])
            assert writers[(i + 1) % 2].fetch(*queries) == embedded.fetch(*queries), f"after batch {i}"
    # same trimming, not only the same answers; and the test did trim
    state = writers[0]
    for log_key, log in embedded.logs.items():  # events, and the base as the member at -inf
        (base, score), *events = state.client.zrange(state.prefix + "log:" + log_key, 0, -1, withscores=True)
        assert score == float("-inf") and tuple(map(int, base.split(b":")[1:])) == log.base
        assert [t for _, t in events] == log.times
    assert any(log.base != (0,) * len(log.base) for log in embedded.logs.values())
    for set_key, set_log in embedded.sets.items():
        assert state.client.zcard(state.prefix + "set:" + set_key) == len(set_log.times)
    assert any(set_log.times[0] > T0 for set_log in embedded.sets.values())
    for order_id in [order_id for batch in writes for order_id, _ in batch.orders]:
        assert state.order(order_id) == embedded.order(order_id)


@pytest.mark.integration
def test_concurrent_writers_lose_no_update(make_state):
    """Four processes appending to the same logs at once: atomic scripts add up like one writer."""
    rng = random.Random(7)
    writes = random_writes(rng, batches=400, span_days=6)
    for batch in writes:  # nothing trimmed, where answers do not depend on the order of arrival
        batch.appends = [(log, t, w) for log, t, w in batch.appends if t >= T0]
        batch.members = [(log, t, m) for log, t, m in batch.members if t >= T0]
    embedded = EmbeddedState()
    for batch in writes:
        embedded.apply(batch)
    states = [make_state() for _ in range(4)]
    threads = [threading.Thread(target=lambda s=s, part=writes[i::4]: [s.apply(b) for b in part])
               for i, s in enumerate(states)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    prefixes, seen, slices = random_queries(rng, writes)
    prefixes += [(log, T0 + 1000 * DAY, True) for log in LOGS]
    shared, alone = states[0].fetch(prefixes, seen, slices), embedded.fetch(prefixes, seen, slices)
    assert shared[:2] == alone[:2]
    # events of the same time come in arrival order, which concurrency makes arbitrary
    assert [sorted(events) for events in shared[2]] == [sorted(events) for events in alone[2]]


@pytest.mark.integration
def test_label_is_marked_once_per_order_and_dimension(make_state):
    state, other_process = make_state(), make_state()

    def count(order_id: str, dim: int) -> bool:
        return state.apply(Writes(appends=[("labels:card:c1", T0, (1 - dim, dim))], labels=[(order_id, dim)]))

    assert count("o1", 0) is True
    assert count("o1", 0) is False
    assert other_process.apply(Writes(appends=[("labels:card:c1", T0, (1, 0))], labels=[("o1", 0)])) is False
    assert count("o1", 1) is True
    assert count("o2", 0) is True
    (sums,), _, _ = state.fetch([("labels:card:c1", T0, True)], [])
    assert sums == (2, 1)  # the skipped writes appended nothing
    assert 0 < state.client.ttl(state.prefix + "label:o1:0") <= ORDER_TTL_S


@pytest.mark.integration
def test_outcome_resent_after_redis_went_away_counts_exactly_once(make_state):
    """Redis goes away between computing an outcome's writes and applying them: the
    outcome is re-sent once Redis is back, then once more as a duplicate; it counts once."""
    state = make_state()
    state.apply(Writes(orders=[("o1", OrderRecord(T0, (("card", "c1"),)))]))
    online = OnlineFeatures(state)
    gone = RedisState(url="redis://127.0.0.1:1/0", prefix="test:unreachable:", timeout_s=0.05)
    try:
        writes = online.outcome_writes("o1", "fraud_chargeback", T0 + DAY)
        assert writes is not None
        with pytest.raises(StateUnavailable):
            gone.apply(writes)  # the apply that failed
    finally:
        gone.close()
    for _ in range(2):  # the re-sent outcome, then a duplicate of it
        writes = online.outcome_writes("o1", "fraud_chargeback", T0 + DAY)
        if writes is not None:
            state.apply(writes)
    (labels,), _, _ = state.fetch([("labels:card:c1", T0 + 2 * DAY, True)], [])
    assert labels == (1, 0)


@pytest.mark.integration
def test_order_records_round_trip_and_leave_with_retention(make_state):
    state = make_state()
    record = OrderRecord(T0, (("seller", "s|1"), ("card", "c:1,2"), ("buyer", "b\u00e9")))
    state.apply(Writes(orders=[("o1", record)]))
    assert make_state().order("o1") == record
    assert state.order("missing") is None
    assert state.client.ttl(state.prefix + "order:o1") > ORDER_RETENTION_US // 1_000_000
    state.apply(Writes(orders=[("o2", OrderRecord(T0 + ORDER_RETENTION_US, ()))]))
    assert state.order("o1") == record  # exactly at retention: still known, as in EmbeddedState
    state.apply(Writes(orders=[("o3", OrderRecord(T0 + ORDER_RETENTION_US + 1, ()))]))
    assert state.order("o1") is None
    state.apply(Writes(orders=[("o4", OrderRecord(T0, ()))]))  # an older order does not move "newest" back
    assert state.order("o1") is None and state.order("o3") == OrderRecord(T0 + ORDER_RETENTION_US + 1, ())


@pytest.mark.integration
def test_fetch_of_nothing_and_of_unknown_keys(make_state):
    state = make_state()
    assert state.fetch([], []) == ([], [], [])
    assert state.fetch([("orders:card:x", T0, True)], ["seen:card:x"], [("pairs_card:ip:x", 0, T0)]) == (
        [None], [None], [[]])
    state.apply(Writes(appends=[("steps:ip:x", T0, (-1,))], members=[("pairs_card:ip:x", T0, "c,1")],
                       seen=[("seen:card:x", T0)]))
    assert state.fetch([("steps:ip:x", T0, False), ("steps:ip:x", T0, True)], ["seen:card:x"]) == (
        [(0,), (-1,)], [(T0, T0)], [])
    assert state.fetch([], [], [("pairs_card:ip:x", T0 - 1, T0 + 1), ("pairs_card:ip:x", T0, T0 + 1)]) == (
        [], [], [[(T0, "c,1")], []])


def _silent_server() -> socket.socket:
    """A socket that accepts connections (in the kernel backlog) and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    return listener


@pytest.mark.parametrize("server", ["refused", "silent"])
def test_unreachable_server_raises_state_unavailable_quickly(server):
    listener = _silent_server() if server == "silent" else None
    port = listener.getsockname()[1] if listener else 1
    state = RedisState(url=f"redis://127.0.0.1:{port}/0", prefix="test:unreachable:", timeout_s=0.05)
    calls = {
        "fetch": lambda: state.fetch([("orders:card:c1", T0, False)], ["seen:card:c1"]),
        "apply": lambda: state.apply(Writes(appends=[("orders:card:c1", T0, (1, 5))])),
        "order": lambda: state.order("o1"),
    }
    try:
        for name, call in calls.items():
            started = time.perf_counter()
            with pytest.raises(StateUnavailable, match=f"127.0.0.1:{port}.*{name}") as raised:
                call()
            assert time.perf_counter() - started < 1.0, f"{name} took too long to give up"
            assert "\n" not in str(raised.value)
    finally:
        state.close()
        if listener:
            listener.close()


def test_scripts_are_package_files_with_every_constant_written_in():
    script = lua_script("apply", {"@LOG_RETENTION@": 1, "@SET_RETENTION@": 2, "@TRIM@": 3, "@TTL@": 4})
    assert "local function words" in script and "= 1, 2, 3, 4\n" in script
    with pytest.raises(RuntimeError, match="@TTL@"):
        lua_script("apply", {"@LOG_RETENTION@": 1, "@SET_RETENTION@": 2, "@TRIM@": 3})


def test_state_unavailable_message_hides_the_password():
    state = RedisState(url="redis://user:s3cret@127.0.0.1:1/0", timeout_s=0.05)
    with pytest.raises(StateUnavailable) as raised:
        state.fetch([("orders:card:c1", T0, False)], [])
    assert "s3cret" not in str(raised.value)


@pytest.mark.slow
@pytest.mark.integration
def test_online_on_redis_equals_batch_on_every_order(make_state):
    orders, outcomes = simulate(20_000, 30, 1)
    orders, outcomes = normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
    batch = compute_features(orders, outcomes)
    online = replay(orders, outcomes, OnlineFeatures(make_state()))
    assert_same_features(batch, online)
    assert (batch["order_count_by_card_24h"] > 0).mean() > 0.05  # not vacuous


@pytest.mark.integration
def test_an_order_applied_by_two_processes_counts_once(make_state):
    """Two replicas (or a replica and the replay of degraded orders) apply one order: counted once."""
    state, other_process = make_state(), make_state()
    writes = Writes(appends=[("orders:card:c1", T0, (1, 500))], seen=[("seen:card:c1", T0)],
                    orders=[("o1", OrderRecord(T0, (("card", "c1"),)))])
    assert state.apply(writes) is True
    assert other_process.apply(writes) is False
    assert state.apply_many([writes, writes]) == [False, False]
    (sums,), _, _ = state.fetch([("orders:card:c1", T0, True)], [])
    assert sums == (1, 500)
    assert state.held(["o1", "o2"]) == {"o1"}


@pytest.mark.integration
def test_a_connection_redis_closed_while_idle_is_replaced_without_a_failed_call(make_state):
    """Redis closing an idle connection (its idle timeout, CLIENT KILL) costs no degraded order."""
    make_state()  # skips without a Redis server
    name = f"probe{uuid.uuid4().hex[:12]}"
    state = RedisState(url=f"{REDIS_URL}{'&' if '?' in REDIS_URL else '?'}client_name={name}",
                       prefix=f"test:{name}:", timeout_s=2.0)
    admin = redis.Redis.from_url(REDIS_URL)
    try:
        unknown = ([("orders:card:x", T0, True)], ["seen:card:x"], [("pairs_card:ip:x", 0, T0)])
        assert state.fetch(*unknown) == ([None], [None], [[]])
        killed = [admin.client_kill_filter(_id=client["id"]) for client in admin.client_list()
                  if client["name"] == name]
        assert killed
        assert state.fetch(*unknown) == ([None], [None], [[]])
    finally:
        admin.close()
        state.close()


@pytest.mark.integration
def test_a_script_redis_does_not_hold_is_loaded_and_run(make_state):
    """As after a Redis restart or SCRIPT FLUSH (done here with a script never loaded, not to flush others')."""
    state = make_state()
    script = f"return {{KEYS[1], ARGV[1], '{uuid.uuid4().hex}'}}"
    sha = hashlib.sha1(script.encode()).hexdigest()
    assert state._evalsha(script, sha, ["k\u00e9"], ["a b"])[:2] == ["k\u00e9".encode(), b"a b"]
    assert state._evalsha(script, sha, ["k"], ["c"])[:2] == [b"k", b"c"]
