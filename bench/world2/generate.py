"""`generate(seed, n_orders, days)`: one world's orders, outcomes and the generator's own truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .assemble import orders_table
from .draft import PATTERN_CODES, new_draft
from .fraud import fraud_orders
from .genuine import genuine_orders
from .outcomes import FATES, draw_fates, reports
from .params import PATTERNS, World, draw_world
from .population import make_population
from .propensity import genuine_fates

DEFAULT_START = pd.Timestamp("2026-03-02T00:00:00Z")


@dataclass
class GeneratedWorld:
    orders: pd.DataFrame  # the contract's orders table
    outcomes: pd.DataFrame  # the contract's outcomes table (every report, also those after the window)
    truth: pd.DataFrame  # order_id, pattern, p_fraud, p_regret, fate: never shown to a model
    world: World


def generate(seed: int, n_orders: int = 200_000, days: float = 90.0,
             start: pd.Timestamp = DEFAULT_START) -> GeneratedWorld:
    """A world of about `n_orders` orders over `days` days from `start`, the same for the same arguments."""
    world = draw_world(seed)
    rng = np.random.default_rng([seed, 2])
    population = make_population(rng, world, max(200, n_orders // 7), max(40, n_orders // 150), days)
    attacks = n_orders * world.fraud_rate * (1 - world.friendly_share) * sum(
        world.pattern_mix[p] / world.notice[p] for p in PATTERNS)
    n_genuine = n_orders - int(attacks)
    draft = new_draft()
    genuine_orders(rng, population, draft, n_genuine, days)
    fraud_orders(rng, world, population, draft, n_orders, days)
    friendly_rate = n_orders * world.fraud_rate * world.friendly_share / n_genuine
    p_fraud, p_regret = draft["p_fraud"].copy(), draft["p_regret"].copy()
    p_fraud[:n_genuine], p_regret[:n_genuine] = genuine_fates(world, population, draft, days, friendly_rate)
    in_time = np.argsort(draft["t"], kind="stable")
    columns = {name: draft[name][in_time] for name in ("t", "account", "seller", "post", "device", "ip", "card",
                                                       "address", "gift", "app", "ttb", "quantity", "amount",
                                                       "wallet", "email", "pattern")}
    orders = orders_table(rng, world, population, columns, start, salt=seed * 7919 + 17)
    p_fraud, p_regret = p_fraud[in_time], p_regret[in_time]
    fate = draw_fates(rng, p_fraud, p_regret)
    outcomes = reports(rng, world, orders["order_id"].to_numpy(), orders["created_at"], fate)
    truth = pd.DataFrame({"order_id": orders["order_id"], "pattern": np.array(PATTERN_CODES)[columns["pattern"]],
                          "p_fraud": p_fraud, "p_regret": p_regret, "fate": np.array(FATES)[fate]})
    return GeneratedWorld(orders, outcomes, truth, world)
