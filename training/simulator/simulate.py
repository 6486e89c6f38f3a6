"""The simulator's entry point: world -> genuine and fraud orders -> regret -> outcomes."""

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .clock import DAY, Window
from .frame import ID_PREFIXES, order_ids, orders_frame, outcomes_frame, truth_frame
from .fraud import fraud_counts, fraud_orders
from .fraud_kit import Crowd
from .genuine import fill_genuine, plan_genuine, settle_buyers
from .geo import COUNTRIES
from .ids import IdAllocator, draw_salts
from .outcomes import draw_outcomes
from .params import WorldParams, world_params
from .regret import draw_regret
from .schema import MISSING, Batch, merge_by_time
from .world import World, build_world

DEFAULT_START = pd.Timestamp("2026-01-01T00:00:00Z")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Simulation:
    """The two contract tables, plus the hidden truth for evaluating and testing.

    truth: order_id, pattern ("genuine" or a fraud pattern), is_fraud, is_regret
    (true whether or not an outcome was ever reported).
    """

    orders: pd.DataFrame
    outcomes: pd.DataFrame
    truth: pd.DataFrame


def simulate(
    n_orders: int, days: int, seed: int, start: pd.Timestamp | None = None, progress: Progress | None = None,
    world: str | WorldParams = "fixed",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns (orders, outcomes) in the contract's flat layout, orders sorted by created_at.

    `world`: "fixed" (the simulator's one world, the default here so that tests and figures
    that pin it stay put), "varied" (parameters drawn from the seed: what benchmarks and
    `risk simulate` use), or a `WorldParams`.
    """
    simulation = run_simulation(n_orders, days, seed, start, progress, world)
    return simulation.orders, simulation.outcomes


def run_simulation(
    n_orders: int, days: int, seed: int, start: pd.Timestamp | None = None, progress: Progress | None = None,
    world: str | WorldParams = "fixed",
) -> Simulation:
    """`simulate`, keeping the truth. Same arguments give identical frames."""
    window = _window(n_orders, days, start)
    params = world_params(world, seed)
    report = progress or (lambda _message: None)
    extra = np.random.default_rng([seed, 0xD1F7])  # draws the fixed world never made, so its output stays
    rng = np.random.default_rng(seed)
    salts = draw_salts(rng, tuple(ID_PREFIXES))
    ids = IdAllocator()
    built = build_world(rng, ids, n_orders, window)
    report(f"world: {built.buyers.account_id.size:,} buyers, {built.sellers.account_id.size:,} sellers, "
           f"{built.posts.post_id.size:,} posts")
    batch = _orders(rng, built, ids, n_orders, report, params, extra)
    regret = draw_regret(rng, batch, params.regret_share, params.regret_drift)
    report(f"regret: {int(regret.sum()):,} orders")
    outcomes = draw_outcomes(rng, batch, regret, params, extra)
    report(f"outcomes: {outcomes.row.size:,}")
    if params.field_noise > 0:
        add_field_noise(extra, batch, params.field_noise)
    ids_column = order_ids(n_orders, salts)
    truth = truth_frame(batch, regret, ids_column)
    outcome_table = outcomes_frame(outcomes, ids_column)
    orders = orders_frame(batch, ids_column, salts)
    report("frames built")
    return Simulation(orders=orders, outcomes=outcome_table, truth=truth)


def _orders(
    rng: np.random.Generator, world: World, ids: IdAllocator, n_orders: int, report: Progress,
    params: WorldParams, extra: np.random.Generator,
) -> Batch:
    """Genuine then fraud orders, sorted by time.

    Sign-ups are settled before anything is filled, so fraud against old
    accounts sees the same accounts as genuine orders do.
    """
    counts = fraud_counts(n_orders, params)
    buyer, post, t = plan_genuine(rng, world, n_orders - sum(counts.values()))
    world = replace(world, buyers=settle_buyers(rng, world.buyers, buyer, t))
    batches = [fill_genuine(rng, world, ids, buyer, post, t)]
    report(f"genuine: {buyer.size:,} orders")
    by_time = np.argsort(t, kind="stable")
    crowd = Crowd(t=t[by_time], post=post[by_time], buyer=buyer[by_time])
    batches += fraud_orders(rng, world, ids, counts, crowd, report, params.fraud_drift, extra)
    return merge_by_time(batches)


def add_field_noise(rng: np.random.Generator, batch: Batch, share: float) -> None:
    """What real capture does to fields, after outcomes are drawn (the truth saw clean data): a `share` of
    orders lose their device and another their address; half that share gets a wrong IP country."""
    n = batch["created_at"].size
    for name in ("session_device_id", "shipping_address_hash"):
        lost = rng.random(n) < share
        batch[name][lost] = MISSING[name]
    wrong = (rng.random(n) < share / 2) & (batch["session_ip_country"] >= 0)
    batch["session_ip_country"][wrong] = rng.integers(0, len(COUNTRIES), int(wrong.sum()))


def _window(n_orders: int, days: int, start: pd.Timestamp | None) -> Window:
    """The simulated period; rejects sizes the simulator cannot honour."""
    if n_orders < 1 or days < 1:
        raise ValueError(f"n_orders ({n_orders}) and days ({days}) must both be at least 1")
    begin = DEFAULT_START if start is None else pd.Timestamp(start)
    if begin.tzinfo is None:
        raise ValueError(f"start {begin} has no timezone; pass e.g. pd.Timestamp('2026-01-01', tz='UTC')")
    first = int(begin.tz_convert("UTC").as_unit("ns").value)
    return Window(start=first, end=first + days * DAY)
