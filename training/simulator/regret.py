"""Which genuine buyers regret their purchase: an explicit logistic model of impulse.

    log-odds = intercept
             + 1.2 if the post was opened < 20 s before buying, + 0.6 if < 60 s
             + 0.5 if the post is promoted
             + 0.35 * clip(log10(views + 1) - 4, 0, 3)      (viral posts)
             + 0.7 if bought between 00:00 and 05:00 local time
             + 0.8 * clip(ln(amount / buyer's habitual amount), 0, 3)
             + 0.5 if it is the buyer's first purchase from this seller
             + category effect (apparel +0.35 ... gift cards -0.6)
             + the buyer's own propensity ~ N(0, 0.6)   (serial refunders)

The intercept is solved so that the mean probability over genuine orders is
REGRET_SHARE. Each term is observable (directly or through the buyer's
history) but the draw is a coin flip, so the signal is learnable yet noisy.
"""

import numpy as np

from .catalog import CATEGORY_REGRET_EFFECT
from .clock import local_hour
from .schema import Batch

REGRET_SHARE = .04


def first_from_seller(batch: Batch, among: np.ndarray) -> np.ndarray:
    """Whether each order is its buyer's first with that seller (orders sorted by time).

    Only rows in `among` count as earlier purchases.
    """
    rows = np.flatnonzero(among)
    seller = batch["seller_account_id"][rows]
    key = batch["buyer_account_id"][rows] * (int(seller.max(initial=0)) + 1) + seller
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    first_sorted = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
    first = np.zeros(among.size, dtype=bool)
    first[rows[order]] = first_sorted
    return first


def impulse_log_odds(batch: Batch, first_purchase: np.ndarray) -> np.ndarray:
    """The documented regret log-odds without the intercept."""
    seconds = np.nan_to_num(batch["_seconds_to_buy"], nan=np.inf)
    views = np.maximum(batch["post_views"], 0)
    hour = local_hour(batch["created_at"], batch["_utc_offset"])
    overspend = np.log(batch["amount"] / batch["_habit_amount"])
    category = batch["_category"]
    return (
        np.where(seconds < 20, 1.2, np.where(seconds < 60, .6, 0.0))
        + .5 * (batch["post_promoted"] == 1)
        + .35 * np.clip(np.log10(views + 1.0) - 4, 0, 3)
        + .7 * (hour < 5)
        + .8 * np.clip(np.nan_to_num(overspend, nan=0.0), 0, 3)
        + .5 * first_purchase
        + np.where(category >= 0, CATEGORY_REGRET_EFFECT[np.maximum(category, 0)], 0.0)
        + batch["_regret_propensity"]
    )


def calibrated_probability(log_odds: np.ndarray, mean: float) -> np.ndarray:
    """sigmoid(intercept + log_odds) with the intercept set so the mean is `mean`."""
    low, high = -20.0, 10.0
    for _ in range(50):  # bisection: the mean is increasing in the intercept
        mid = (low + high) / 2
        if np.mean(1 / (1 + np.exp(-(mid + log_odds)))) < mean:
            low = mid
        else:
            high = mid
    return 1 / (1 + np.exp(-((low + high) / 2 + log_odds)))


def draw_regret(rng: np.random.Generator, batch: Batch) -> np.ndarray:
    """Which orders are regretted; only genuine orders can be."""
    genuine = batch["_pattern"] == 0
    regret = np.zeros(genuine.size, dtype=bool)
    if not genuine.any():
        return regret
    log_odds = impulse_log_odds(batch, first_from_seller(batch, genuine))[genuine]
    p = calibrated_probability(log_odds, REGRET_SHARE)
    regret[genuine] = rng.random(p.size) < p
    return regret
