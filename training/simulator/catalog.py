"""Product categories, their prices and how regret-prone and resaleable they are."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Category:
    """What a seller's post can offer; the numbers drive prices and risks."""

    name: str
    share: float          # share of posts
    median_cents: int     # median listed unit price
    price_sigma: float    # log-normal spread of listed prices
    digital_share: float  # share of posts with digital goods (no shipping)
    resaleable: bool      # what stolen cards are turned into
    regret_effect: float  # additive regret log-odds: fashion is returned more


CATEGORIES: tuple[Category, ...] = (
    Category("apparel", .24, 3500, .6, 0.0, False, .35),
    Category("beauty", .13, 2500, .5, 0.0, False, .20),
    Category("home", .10, 4500, .7, 0.0, False, 0.0),
    Category("electronics", .10, 14000, .8, 0.0, True, -.10),
    Category("collectibles", .06, 6000, .8, 0.0, False, .10),
    Category("accessories", .12, 3000, .6, 0.0, False, .15),
    Category("toys", .06, 3000, .6, 0.0, False, 0.0),
    Category("gift_card", .05, 5000, 0.0, .6, True, -.60),
    Category("digital", .14, 900, .7, 1.0, False, -.30),
)
CATEGORY_NAMES: tuple[str, ...] = tuple(c.name for c in CATEGORIES)
CATEGORY_SHARES = np.array([c.share for c in CATEGORIES])
CATEGORY_REGRET_EFFECT = np.array([c.regret_effect for c in CATEGORIES])
RESALEABLE = np.array([c.resaleable for c in CATEGORIES])
GIFT_CARD = CATEGORY_NAMES.index("gift_card")
GIFT_CARD_VALUES = np.array([1000, 2500, 5000, 10000, 20000])
GIFT_CARD_VALUE_WEIGHTS = np.array([.15, .30, .30, .17, .08])

# Buyers shop in a price band (tier) of their own; tiers are quintiles of the
# listed prices, so each holds a fifth of the posts.
N_PRICE_TIERS = 5


def listed_prices(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    """Listed unit price in cents: log-normal per category, ending in 99.

    Gift cards come in fixed denominations instead.
    """
    median = np.array([c.median_cents for c in CATEGORIES])[category]
    sigma = np.array([c.price_sigma for c in CATEGORIES])[category]
    raw = median * np.exp(sigma * rng.standard_normal(category.size))
    price = np.maximum(np.round(raw / 100), 1).astype(np.int64) * 100 - 1
    gift = category == GIFT_CARD
    denominations = rng.choice(GIFT_CARD_VALUES, size=category.size, p=GIFT_CARD_VALUE_WEIGHTS)
    return np.where(gift, denominations, price)


def digital_flags(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    """Whether each post sells digital goods, from its category's share."""
    share = np.array([c.digital_share for c in CATEGORIES])[category]
    return rng.random(category.size) < share


def price_tiers(price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tier of each price and the median price of each tier."""
    edges = np.quantile(price, np.linspace(0, 1, N_PRICE_TIERS + 1)[1:-1])
    tier = np.searchsorted(edges, price, side="right").astype(np.int8)
    medians = np.array(
        [np.median(price[tier == t]) if np.any(tier == t) else np.median(price)
         for t in range(N_PRICE_TIERS)]
    )
    return tier, medians
