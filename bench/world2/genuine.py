"""Genuine shopping: who buys when, from which post, on which of their own card, device, IP and address.

Genuine behaviour carries the same surface traits as fraud, in the proportions real
platforms see: a new phone, a partner's account on the same device, a carrier IP shared
by thousands, travel, gifts shipped elsewhere, a new sign-up buying electronics.
"""

from __future__ import annotations

import numpy as np

from .geography import BASE_PRICE, COUNTRIES, DIGITAL, at_local_hours
from .population import DAY, Population
from .tables import Table

OUTSIDE_POST = 0.06  # purchases from a seller's shop rather than from a post
CANDIDATES = 4  # posts a buyer is shown in a category before choosing one


def genuine_orders(rng: np.random.Generator, population: Population, draft: Table, n: int, days: float) -> None:
    buyers, accounts, posts = population.buyers, population.accounts, population.posts
    end = days * DAY
    opens = np.maximum(accounts["created"][: len(buyers.activity)], 0) + 600
    weight = buyers.activity * np.maximum(end - opens, 0) / DAY
    buyer = np.repeat(np.arange(len(weight)), rng.multinomial(n, weight / weight.sum()))
    uniform = opens[buyer] + rng.random(n) * (end - opens[buyer])
    t = at_local_hours(rng, uniform, accounts["country"][buyer])
    t = np.where((t >= opens[buyer]) & (t < end), t, uniform)  # the window's edges keep the uniform time
    by_time = np.argsort(t, kind="stable")
    buyer, t = buyer[by_time], t[by_time]
    post = choose_posts(rng, population, buyer, t)
    in_post = post >= 0
    post0 = np.maximum(post, 0)
    seller = np.where(in_post, posts["seller"][post0], shop_sellers(rng, population, n))
    category = np.where(in_post, posts["category"][post0], population.sellers["first"][seller])
    shop_price = BASE_PRICE[category] * population.sellers["price_level"][seller] * np.exp(rng.normal(0, 0.5, n))
    price = np.where(in_post, posts["price"][post0], np.round(shop_price).astype(np.int64) + 1)
    quantity = rng.choice([1, 2, 3], n, p=[0.86, 0.1, 0.04])
    shipping = np.where(DIGITAL[category], 0, rng.choice([0, 0, 399, 599, 899], n))
    promoted = in_post & posts["promoted"][post0].astype(bool)
    ttb = np.exp(np.log(1500) - 3.2 * (buyers.impulsivity[buyer] - 0.28) - 0.4 * promoted + 1.4 * rng.normal(size=n))
    viewed = np.minimum(np.maximum(t - np.clip(ttb, 3, 20 * DAY), posts["created"][post0] + 30), t)
    app = rng.random(n) < buyers.app_share[buyer]
    card = own_cards(rng, population, buyer)
    address, gift = shipping_addresses(rng, population, buyer, category)
    wallet = np.where(app & population.cards["wallet"][card].astype(bool) & (rng.random(n) < 0.7),
                      rng.choice([1, 2], n, p=[0.6, 0.4]), 0)
    draft.add(n, t=t, account=buyer, seller=seller, post=post, device=own_devices(rng, population, buyer),
              ip=own_ips(rng, population, buyer), card=card, address=address, gift=gift, app=app,
              ttb=np.where(in_post, t - viewed, np.nan), quantity=quantity, amount=price * quantity + shipping,
              wallet=wallet, email=-1, pattern=0, p_fraud=np.nan, p_regret=np.nan)


def choose_posts(rng: np.random.Generator, population: Population, buyer: np.ndarray, t: np.ndarray) -> np.ndarray:
    """A post of a category the buyer likes, among recent ones, popular and promoted ones more often; -1: none."""
    posts, sellers = population.posts, population.sellers
    n = len(buyer)
    cumulative = np.cumsum(population.buyers.preferences[buyer], axis=1)
    category = np.minimum((cumulative < rng.random(n)[:, None]).sum(axis=1), cumulative.shape[1] - 1)
    appeal = np.log(posts["virality"] * sellers["popularity"][posts["seller"]] * (1 + posts["promoted"]))
    chosen = np.full(n, -1)
    for c in np.unique(category):
        rows = np.flatnonzero(category == c)
        in_category = np.flatnonzero(posts["category"] == c)
        in_category = in_category[np.argsort(posts["created"][in_category], kind="stable")]
        created = posts["created"][in_category]
        seen = t[rows, None] - rng.exponential(12 * DAY, (len(rows), CANDIDATES))
        at = np.searchsorted(created, seen, side="right") - 1
        score = np.where(at >= 0, appeal[in_category[np.maximum(at, 0)]] + rng.gumbel(size=at.shape), -np.inf)
        best = at[np.arange(len(rows)), np.argmax(score, axis=1)]
        chosen[rows] = np.where(best >= 0, in_category[np.maximum(best, 0)], -1)
    chosen[rng.random(n) < OUTSIDE_POST] = -1
    return chosen


def shop_sellers(rng: np.random.Generator, population: Population, n: int) -> np.ndarray:
    """Sellers of purchases outside a post: established shops, popular ones more often."""
    sellers = population.sellers
    weight = sellers["popularity"] * (sellers["created"] < 0)
    return rng.choice(sellers.size, n, p=weight / weight.sum())


def own_cards(rng: np.random.Generator, population: Population, buyer: np.ndarray) -> np.ndarray:
    """Mostly the first card, sometimes another of the buyer's, rarely a card never seen (a partner's)."""
    n, cards = len(buyer), population.buyers.cards[buyer]
    slot = rng.choice(3, n, p=[0.8, 0.15, 0.05])
    card = cards[np.arange(n), slot]
    card = np.where(card >= 0, card, cards[:, 0])
    other = np.flatnonzero(rng.random(n) < 0.01)
    card[other] = population.new_cards(rng, population.accounts["country"][buyer[other]], [0.5, 0.4, 0.08, 0.02])
    return card


def own_devices(rng: np.random.Generator, population: Population, buyer: np.ndarray) -> np.ndarray:
    n, devices = len(buyer), population.buyers.devices[buyer]
    device = np.where((rng.random(n) < 0.3) & (devices[:, 1] >= 0), devices[:, 1], devices[:, 0])
    borrowed = np.flatnonzero(rng.random(n) < 0.012)  # a work laptop, a friend's phone, a new phone
    device[borrowed] = population.devices.add(len(borrowed), crew=False)
    return device


def own_ips(rng: np.random.Generator, population: Population, buyer: np.ndarray) -> np.ndarray:
    """Home network, a carrier's shared IP on the move, or a foreign IP while travelling."""
    n, country = len(buyer), population.accounts["country"][buyer]
    ip = population.buyers.home_ip[buyer].copy()
    where = rng.random(n)
    mobile = np.flatnonzero((where >= 0.68) & (where < 0.98))
    pools = population.nat_pools
    ip[mobile] = [pools[c][rng.integers(len(pools[c]))] for c in country[mobile]]
    travel = np.flatnonzero(where >= 0.98)
    abroad = (country[travel] + rng.integers(1, len(COUNTRIES), len(travel))) % len(COUNTRIES)
    ip[travel] = population.new_ips(rng, abroad)
    return ip


def shipping_addresses(rng: np.random.Generator, population: Population, buyer: np.ndarray,
                       category: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Home, or now and then a gift sent to a new address; none for digital goods. Also whether it is a gift."""
    n = len(buyer)
    address = population.buyers.address[buyer].copy()
    gift = rng.random(n) < 0.07
    rows = np.flatnonzero(gift)
    country = population.accounts["country"][buyer[rows]]
    country = np.where(rng.random(len(rows)) < 0.85, country, rng.integers(0, len(COUNTRIES), len(rows)))
    address[rows] = population.addresses.add(len(rows), country=country)
    digital = DIGITAL[category]
    return np.where(digital, -1, address), gift & ~digital
