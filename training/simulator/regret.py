"""Which genuine buyers regret their purchase: an explicit logistic model of impulse.

    log-odds = intercept
             + 1.0 if the post was opened < 20 s before buying, + 0.5 if < 60 s
             + 0.5 if the post is promoted
             + 0.3 * clip(log10(views + 1) - 4, 0, 3)       (viral posts)
             + 0.7 if bought between 00:00 and 05:00 local time
             + 1.2 * clip(ln(amount / buyer's habitual amount), 0, 3)
             + 0.8 if it is the buyer's first purchase from this seller
             + 0.5 per other order of the buyer in the 24 h before, at most 2  (sprees)
             + category effect (apparel +0.35 ... gift cards -0.6)
             + the buyer's own propensity ~ N(0, 1.4)   (serial refunders)

The intercept is solved so that the mean probability over genuine orders is
REGRET_SHARE. The first terms are in the order's own row; spending above
one's habit, a seller never bought from, a shopping spree and one's own record
of refunds show only through the buyer's history, so history helps regret too.
The draw is a coin flip, so the signal is learnable yet noisy.
"""

import numpy as np

from .catalog import CATEGORY_REGRET_EFFECT
from .clock import DAY, MILLISECOND, local_hour
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


def recent_orders(batch: Batch, among: np.ndarray, window: int = DAY) -> np.ndarray:
    """Orders in `among` by the same buyer in the `window` before each order (at
    millisecond resolution; orders sorted by time); 0 outside `among`."""
    rows = np.flatnonzero(among)
    buyer = batch["buyer_account_id"][rows]
    ms = (batch["created_at"][rows] - batch["created_at"].min()) // MILLISECOND
    # one time line per buyer, the lines laid end to end with a window's gap between them
    stride = int(ms.max(initial=0)) + window // MILLISECOND + 1
    _, group = np.unique(buyer, return_inverse=True)
    line = group.astype(np.int64) * stride + ms
    order = np.argsort(line, kind="stable")
    sorted_line = line[order]
    earlier = np.arange(rows.size) - np.searchsorted(sorted_line, sorted_line - window // MILLISECOND, side="right")
    count = np.zeros(among.size, dtype=np.int64)
    count[rows[order]] = earlier
    return count


def impulse_log_odds(batch: Batch, first_purchase: np.ndarray, spree: np.ndarray) -> np.ndarray:
    """The documented regret log-odds without the intercept."""
    seconds = np.nan_to_num(batch["_seconds_to_buy"], nan=np.inf)
    views = np.maximum(batch["post_views"], 0)
    hour = local_hour(batch["created_at"], batch["_utc_offset"])
    overspend = np.log(batch["amount"] / batch["_habit_amount"])
    category = batch["_category"]
    return (
        np.where(seconds < 20, 1.0, np.where(seconds < 60, .5, 0.0))
        + .5 * (batch["post_promoted"] == 1)
        + .3 * np.clip(np.log10(views + 1.0) - 4, 0, 3)
        + .7 * (hour < 5)
        + 1.2 * np.clip(np.nan_to_num(overspend, nan=0.0), 0, 3)
        + .8 * first_purchase
        + .5 * np.minimum(spree, 2)
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


def draw_regret(rng: np.random.Generator, batch: Batch, share: float = REGRET_SHARE, drift: float = 0.0) -> np.ndarray:
    """Which orders are regretted; only genuine orders can be. `drift` moves the log-odds from -d to +d
    across the orders' time span (regret becoming more or less common)."""
    genuine = batch["_pattern"] == 0
    regret = np.zeros(genuine.size, dtype=bool)
    if not genuine.any():
        return regret
    log_odds = impulse_log_odds(batch, first_from_seller(batch, genuine), recent_orders(batch, genuine))
    if drift:
        t = batch["created_at"]
        log_odds = log_odds + drift * (2 * (t - t.min()) / max(int(t.max() - t.min()), 1) - 1)
    p = calibrated_probability(log_odds[genuine], share)
    regret[genuine] = rng.random(p.size) < p
    return regret
