"""The exact chances of a genuine order's fate: undone by the buyer (regret) or disowned as fraud (friendly fraud).

Regret follows impulse: an impulsive buyer, seconds from view to buy, late at night in
the buyer's own clock, a promoted or hyped post, a price above the buyer's usual, a
first purchase from a seller, a seller whose goods disappoint, clothes rather than gift
cards, and the buyer's own habit. Each effect's weight is drawn per world. Friendly
fraud is a few buyers' habit, more on digital goods and dear orders.
"""

from __future__ import annotations

import numpy as np

from .geography import BASE_PRICE, DIGITAL, REGRET_BY_CATEGORY, local_hour
from .params import World
from .population import DAY, Population
from .tables import Table


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def intercept_for(logit: np.ndarray, mean: float) -> float:
    """The shift of `logit` whose sigmoid averages `mean` (bisection; the mean is monotone in the shift)."""
    low, high = -30.0, 30.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if sigmoid(logit + middle).mean() < mean else (low, middle)
    return (low + high) / 2


def genuine_fates(world: World, population: Population, draft: Table, days: float, friendly_rate: float,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """p_fraud and p_regret of the genuine orders (rows where pattern == 0), which are in time order."""
    genuine = np.flatnonzero(draft["pattern"] == 0)
    buyer = draft["account"][genuine]
    seller, post = draft["seller"][genuine], draft["post"][genuine]
    posts = population.posts
    in_post = post >= 0
    category = np.where(in_post, posts["category"][np.maximum(post, 0)], population.sellers["first"][seller])
    unit = draft["amount"][genuine] / draft["quantity"][genuine]
    above_usual = np.clip(np.log(unit / (BASE_PRICE[category] * population.buyers.spend[buyer])), -1.5, 2.5)
    ttb = draft["ttb"][genuine]
    hour = local_hour(draft["t"][genuine], population.accounts["country"][buyer])
    pair = buyer.astype(np.int64) * (population.sellers.size + 1) + seller
    first = np.zeros(len(pair), dtype=bool)
    first[np.unique(pair, return_index=True)[1]] = True  # rows are in time order
    e = world.regret_effects
    regret = (e["impulsive_buyer"] * (population.buyers.impulsivity[buyer] - 0.28) / 0.16
              + e["fast_purchase"] * (ttb < 90) - e["slow_purchase"] * (ttb > 2 * DAY)
              + e["late_night"] * (hour < 5) + e["promoted"] * (in_post & posts["promoted"][np.maximum(post, 0)])
              + e["above_usual_price"] * above_usual + e["seller_quality"] * population.sellers["quality"][seller]
              + e["first_from_seller"] * first + REGRET_BY_CATEGORY[category] + population.buyers.habit[buyer]
              + e["hype"] * np.where(in_post, np.clip(np.log(posts["virality"][np.maximum(post, 0)]), -2, 2), 0)
              + world.regret_drift * (draft["t"][genuine] / (days * DAY) - 0.5))
    friendly = (population.buyers.friendly[buyer] + 0.9 * DIGITAL[category]
                + 0.4 * np.clip(np.log(draft["amount"][genuine] / 5000), -2, 2.5))
    p_fraud = sigmoid(friendly + intercept_for(friendly, friendly_rate))
    p_regret = (1 - p_fraud) * sigmoid(regret + intercept_for(regret, world.regret_rate / (1 - friendly_rate)))
    return p_fraud, p_regret
