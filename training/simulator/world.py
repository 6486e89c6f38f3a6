"""The genuine world the orders happen in, sized from the number of orders."""

from dataclasses import dataclass

import numpy as np

from .accounts import Buyers, Sellers, build_buyers, build_sellers
from .belongings import Belongings, build_belongings
from .catalog import price_tiers
from .clock import Window
from .geo import COUNTRIES
from .ids import IdAllocator
from .instruments import Bins, CarrierPools, build_bins, build_carrier_pools
from .posts import Posts, attention_in, build_posts
from .sampling import choose_in_groups, choose_weighted

ORDERS_PER_BUYER = 5
ORDERS_PER_SELLER = 250
ORDERS_PER_POST = 40


@dataclass(frozen=True)
class World:
    """Everything genuine orders are drawn from."""

    window: Window
    buyers: Buyers
    sellers: Sellers
    posts: Posts
    tier_medians: np.ndarray
    bins: Bins
    belongings: Belongings
    carriers: CarrierPools
    favourite_seller: np.ndarray  # per buyer, a seller they keep coming back to


def build_world(rng: np.random.Generator, ids: IdAllocator, n_orders: int, window: Window) -> World:
    """Sellers and their posts first: buyers' spending habits follow post prices."""
    sellers = build_sellers(rng, ids, max(20, n_orders // ORDERS_PER_SELLER), window)
    posts = build_posts(rng, ids, max(100, n_orders // ORDERS_PER_POST), sellers, window)
    tier_medians = price_tiers(posts.price)[1]
    buyers = build_buyers(rng, ids, max(100, n_orders // ORDERS_PER_BUYER), window, tier_medians)
    bins = build_bins(rng)
    return World(
        window=window, buyers=buyers, sellers=sellers, posts=posts, tier_medians=tier_medians,
        bins=bins, belongings=build_belongings(rng, ids, buyers, bins),
        carriers=build_carrier_pools(rng, buyers.account_id.size),
        favourite_seller=favourite_sellers(rng, buyers, sellers, posts, window),
    )


def favourite_sellers(
    rng: np.random.Generator, buyers: Buyers, sellers: Sellers, posts: Posts, window: Window
) -> np.ndarray:
    """A seller of the buyer's country (else anywhere), by the appeal of its posts in the window."""
    weight = np.bincount(posts.seller, weights=posts.appeal * attention_in(posts, window),
                         minlength=sellers.account_id.size)
    domestic = choose_in_groups(rng, sellers.home_country.astype(np.int64), weight,
                                buyers.home_country.astype(np.int64), len(COUNTRIES))
    return np.where(domestic >= 0, domestic, choose_weighted(rng, weight, domestic.size))
