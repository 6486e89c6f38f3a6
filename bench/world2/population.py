"""The genuine platform: buyers with habits and belongings, sellers, their posts, cards, devices, IPs, addresses.

Hidden traits (how active, impulsive or refund-prone a buyer is, how a seller's goods
disappoint) drive what happens later; the orders only show their consequences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geography import (
    BASE_PRICE,
    BUYER_COUNTRY_P,
    CATEGORIES,
    CATEGORY_P,
    COUNTRIES,
    EMAIL_P,
    SELLER_COUNTRIES,
    SELLER_COUNTRY_P,
)
from .params import World
from .tables import Table

DAY = 86_400.0
FUNDING = np.array(["credit", "debit", "prepaid", "unknown"])
BINS_PER_COUNTRY = 8


@dataclass
class Buyers:
    """Genuine buyers' hidden traits and belongings; buyer i is account i."""

    activity: np.ndarray
    impulsivity: np.ndarray  # 0..1: how quickly a post turns into a purchase
    habit: np.ndarray  # log-odds of undoing purchases, beyond the order's own signals
    friendly: np.ndarray  # log-odds of disowning a purchase with a fraud chargeback
    spend: np.ndarray  # usual price level, relative to the category's
    preferences: np.ndarray  # buyers x categories, each row sums to 1
    app_share: np.ndarray
    cards: np.ndarray  # buyers x 3 card rows (-1 where the buyer has fewer)
    devices: np.ndarray  # buyers x 2 device rows (-1 where fewer)
    home_ip: np.ndarray
    address: np.ndarray


@dataclass
class Population:
    accounts: Table  # created, country, email, email_verified, phone_verified, followers, following
    sellers: Table  # created, country, verified, followers, quality, popularity, price_level, promote, first, second
    posts: Table  # seller, created, category, price, promoted, virality
    cards: Table  # bin, country, funding, wallet
    devices: Table  # crew (True for a fraud crew's device)
    ips: Table  # address, country
    addresses: Table  # country
    buyers: Buyers
    bins: np.ndarray  # the issuers' BINs, BINS_PER_COUNTRY per country in COUNTRIES order
    nat_pools: list[np.ndarray]  # per country, carrier IPs shared by many buyers

    def new_ips(self, rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
        return self.ips.add(len(country), address=random_addresses(rng, len(country)), country=country)

    def new_cards(self, rng: np.random.Generator, country: np.ndarray, funding_p: list[float]) -> np.ndarray:
        n = len(country)
        bins = self.bins[country * BINS_PER_COUNTRY + rng.integers(0, BINS_PER_COUNTRY, n)]
        return self.cards.add(n, bin=bins, country=country, funding=rng.choice(4, n, p=funding_p),
                              wallet=rng.random(n) < 0.35)


def random_addresses(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(11 << 24, 223 << 24, n, dtype=np.int64)


def make_population(rng: np.random.Generator, world: World, n_buyers: int, n_sellers: int, days: float) -> Population:
    bins = rng.integers(400_000, 560_000, len(COUNTRIES) * BINS_PER_COUNTRY)
    ips, countries = Table("address", "country"), len(COUNTRIES)
    nat_pools = [ips.add(max(4, int(n_buyers * p / 30)), address=random_addresses(rng, max(4, int(n_buyers * p / 30))),
                         country=c) for c, p in zip(range(countries), BUYER_COUNTRY_P, strict=True)]
    population = Population(
        accounts=Table("created", "country", "email", "email_verified", "phone_verified", "followers", "following"),
        sellers=Table("created", "country", "verified", "followers", "quality", "popularity", "price_level",
                      "promote", "first", "second"),
        posts=Table("seller", "created", "category", "price", "promoted", "virality"),
        cards=Table("bin", "country", "funding", "wallet"), devices=Table("crew"), ips=ips,
        addresses=Table("country"), buyers=None, bins=bins, nat_pools=nat_pools)  # type: ignore[arg-type]
    make_sellers(rng, population, n_sellers, days)
    population.buyers = make_buyers(rng, world, population, n_buyers, days)
    return population


def make_sellers(rng: np.random.Generator, population: Population, n: int, days: float) -> None:
    old = rng.random(n) < 0.88
    created = np.where(old, -np.exp(rng.normal(np.log(400), 0.8, n)), rng.uniform(-20, days * 0.8, n)) * DAY
    verified = old & (rng.random(n) < 0.3)
    bad = rng.random(n) < 0.06
    popularity = np.exp(rng.normal(0, 1, n))
    sellers = population.sellers.add(
        n, created=created, country=SELLER_COUNTRIES[rng.choice(len(SELLER_COUNTRIES), n, p=SELLER_COUNTRY_P)],
        verified=verified, followers=np.exp(rng.normal(5.5 + 1.2 * verified, 1.4, n)).astype(np.int64),
        quality=rng.normal(0, 0.6, n) + 1.8 * bad, popularity=popularity,
        price_level=np.exp(rng.normal(0, 0.3, n)), promote=np.minimum(rng.beta(1.2, 6, n) + 0.15 * bad, 1),
        first=rng.choice(len(CATEGORIES), n, p=CATEGORY_P), second=rng.choice(len(CATEGORIES), n, p=CATEGORY_P))
    counts = 1 + rng.poisson(3 + 8 * np.sqrt(popularity))
    seller = np.repeat(sellers, counts)
    first_post = np.r_[0, np.cumsum(counts)[:-1]]
    opens = np.maximum(created[seller], -30 * DAY)
    created_at = opens + rng.random(len(seller)) * (days * DAY - opens)
    head = first_post  # each seller's first post is up by the window start (or soon after a new seller opens)
    created_at[head] = opens[head] + rng.random(len(head)) * np.maximum(-opens[head], 2 * DAY)
    add_posts(rng, population, seller, created_at)


def add_posts(rng: np.random.Generator, population: Population, seller: np.ndarray, created: np.ndarray,
              appeal: float = 1.0) -> np.ndarray:
    n, s = len(seller), population.sellers
    categories = np.where(rng.random(n) < 0.8, s["first"][seller], s["second"][seller])
    price = BASE_PRICE[categories] * s["price_level"][seller] * np.exp(rng.normal(0, 0.45, n))
    price = np.maximum(np.round(price / 100) * 100 - 1, 99).astype(np.int64)
    return population.posts.add(n, seller=seller, created=created, category=categories, price=price,
                                promoted=rng.random(n) < s["promote"][seller],
                                virality=appeal * np.exp(rng.normal(0, 1, n)))


def make_buyers(rng: np.random.Generator, world: World, population: Population, n: int, days: float) -> Buyers:
    old = rng.random(n) < 0.72
    created = np.where(old, -np.exp(rng.normal(np.log(500), 0.9, n)), rng.uniform(-20, days - 2, n)) * DAY
    country = rng.choice(len(COUNTRIES), n, p=BUYER_COUNTRY_P)
    population.accounts.add(
        n, created=created, country=country, email=rng.choice(len(EMAIL_P), n, p=EMAIL_P / EMAIL_P.sum()),
        email_verified=rng.random(n) < np.where(old, 0.9, 0.6), phone_verified=rng.random(n) < 0.55,
        followers=np.exp(rng.normal(3.5, 1.5, n)).astype(np.int64),
        following=np.exp(rng.normal(4.0, 1.2, n)).astype(np.int64))
    n_cards = 1 + rng.binomial(2, 0.25, n)
    card_rows = population.new_cards(rng, np.repeat(country, n_cards), [0.55, 0.38, 0.05, 0.02])
    cards = np.full((n, 3), -1)
    cards[np.repeat(np.arange(n), n_cards), np.concatenate([np.arange(k) for k in n_cards])] = card_rows
    devices = np.full((n, 2), -1)
    devices[:, 0] = population.devices.add(n, crew=False)
    second = np.flatnonzero(rng.random(n) < 0.4)
    devices[second, 1] = population.devices.add(len(second), crew=False)
    address = population.addresses.add(n, country=country)
    own_ip = rng.random(n) < 0.65
    home_ip = np.empty(n, dtype=np.int64)
    home_ip[own_ip] = population.new_ips(rng, country[own_ip])
    shared = np.flatnonzero(~own_ip)
    home_ip[shared] = [rng.choice(population.nat_pools[c]) for c in country[shared]]
    households = np.flatnonzero(rng.random(n) < 0.08)  # a partner's account on the same phone and address
    partner = rng.integers(0, n, len(households))
    devices[households, 0], address[households] = devices[partner, 0], address[partner]
    return Buyers(activity=np.exp(rng.normal(0, 1.0, n)), impulsivity=rng.beta(2, 5, n),
                  habit=rng.normal(0, world.regret_effects["buyer_habit"], n),
                  friendly=rng.normal(0, 0.4, n) + 3.5 * (rng.random(n) < 0.02), spend=np.exp(rng.normal(0, 0.45, n)),
                  preferences=rng.dirichlet(CATEGORY_P * 6, n), app_share=rng.beta(3, 2, n), cards=cards,
                  devices=devices, home_ip=home_ip, address=address)
