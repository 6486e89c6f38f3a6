"""Attacks, run by crews that keep their devices, proxies, drop addresses and card stock across campaigns.

- account takeover: an established buyer's account suddenly buys resale goods from a new
  device and IP, ships to a new address, sometimes with a changed email, on the card on file;
- stolen cards: a crew spreads a batch of cards over a few accounts of its own, new or
  bought aged ones, over days;
- card testing: one device tries tens of cards on cheap digital goods within minutes;
  the cards that pass feed later stolen-card campaigns;
- rings: accounts sharing a few devices, IPs and addresses buy from sellers the crew
  opened, at high prices (the seller cashes out).
Crews adapt: the share of campaigns that use aged accounts and proxies in the victim's
country grows across the window (World.mimicry_*). An attack order is reported as fraud
only if the victim notices (World.notice), else now and then disputed for another reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .geography import COUNTRIES, CREW_DOMAINS, DIGITAL, PROXY_COUNTRIES, RESALE
from .params import PATTERNS, World
from .population import DAY, Population, add_posts, random_addresses
from .tables import Table

VICTIM_COUNTRIES = np.array([0, 1, 5, 2, 3])  # where stolen cards come from
VICTIM_P = np.array([0.55, 0.15, 0.1, 0.1, 0.1])


@dataclass
class Crew:
    devices: np.ndarray
    ips: np.ndarray
    drops: np.ndarray
    domain: int
    stock: list[int] = field(default_factory=list)  # tested cards, ready to use


@dataclass
class Context:
    rng: np.random.Generator
    world: World
    population: Population
    days: float
    by_category: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def mimics(self, t: float) -> bool:
        w = self.world
        return bool(self.rng.random() < w.mimicry_start + (w.mimicry_end - w.mimicry_start) * t / (self.days * DAY))

    def posts_before(self, category: int, t: float) -> np.ndarray:
        if category not in self.by_category:
            posts = self.population.posts
            rows = np.flatnonzero(posts["category"] == category)
            rows = rows[np.argsort(posts["created"][rows], kind="stable")]
            self.by_category[category] = rows, posts["created"][rows]
        rows, created = self.by_category[category]
        return rows[: np.searchsorted(created, t)]

    def pick_post(self, t: float, categories: np.ndarray, prefer: str) -> int:
        """A post up at `t` in one of the categories: the dearest or cheapest of a few seen, or any."""
        for _ in range(10):
            rows = self.posts_before(int(self.rng.choice(categories)), t)
            if len(rows):
                seen = rows[self.rng.integers(0, len(rows), 6)]
                price = self.population.posts["price"][seen]
                if prefer == "dear":
                    return int(seen[np.argmax(price)])
                return int(seen[np.argmin(price)]) if prefer == "cheap" else int(seen[0])
        return -1


def make_crew(ctx: Context) -> Crew:
    rng, population = ctx.rng, ctx.population
    home = int(rng.choice(PROXY_COUNTRIES))
    n_ips = int(rng.integers(3, 11))
    ips = population.ips.add(n_ips, address=random_addresses(rng, n_ips), country=home)
    n_drops = int(rng.integers(1, 5))
    return Crew(devices=population.devices.add(int(rng.integers(2, 7)), crew=True), ips=ips,
                drops=population.addresses.add(n_drops, country=rng.choice(VICTIM_COUNTRIES, n_drops, p=VICTIM_P)),
                domain=int(rng.choice(CREW_DOMAINS)))


def fraud_orders(rng: np.random.Generator, world: World, population: Population, draft: Table, n_total: int,
                 days: float) -> int:
    """Run campaigns until each pattern has its share of the fraud; returns the number of attack orders."""
    ctx = Context(rng, world, population, days)
    budgets = {p: n_total * world.fraud_rate * (1 - world.friendly_share) * world.pattern_mix[p] / world.notice[p]
               for p in PATTERNS}
    crews = [make_crew(ctx) for _ in range(max(3, int(sum(budgets.values()) / 80)))]
    made = 0
    for pattern in PATTERNS:
        done, tries = 0, 0
        while done < budgets[pattern] and tries < 100_000:
            tries += 1
            rows = CAMPAIGNS[pattern](ctx, crews[int(rng.integers(len(crews)))], campaign_start(ctx, pattern))
            rows = [r for r in rows if r["t"] < days * DAY]
            for row in rows:
                row.update(pattern=PATTERNS.index(pattern) + 1, p_fraud=world.notice[pattern],
                           p_regret=(1 - world.notice[pattern]) * world.misreported)
            if rows:
                draft.add(len(rows), **{c: np.array([r[c] for r in rows]) for c in rows[0]})
            done += len(rows)
        made += done
    return made


def campaign_start(ctx: Context, pattern: str) -> float:
    """A start time: denser at one end of the window (World.fraud_trend); a late pattern only after its start."""
    w, rng = ctx.world, ctx.rng
    first = w.late_start if w.late_pattern == pattern else 0.0
    while True:
        x = rng.uniform(first, 0.97)
        if rng.random() * (1 + abs(w.fraud_trend)) < 1 + w.fraud_trend * (2 * x - 1):
            return float(x * ctx.days * DAY)


def order(ctx: Context, t: float, account: int, post: int, device: int, ip: int, card: int, address: int, *,
          app: bool, ttb: float, quantity: int = 1, email: int = -1) -> dict[str, Any]:
    posts = ctx.population.posts
    digital = post >= 0 and DIGITAL[posts["category"][post]]
    return dict(t=t, account=account, seller=int(posts["seller"][post]), post=post, device=device, ip=ip, card=card,
                address=-1 if digital else address, gift=not digital, app=app, ttb=ttb, quantity=quantity,
                amount=int(posts["price"][post]) * quantity + (0 if digital else 599), wallet=0, email=email)


def new_accounts(ctx: Context, crew: Crew, t0: float, n: int, aged: bool, country: int) -> np.ndarray:
    rng = ctx.rng
    age = rng.uniform(100, 1500, n) * DAY if aged else rng.uniform(0.02, 3, n) * DAY
    return ctx.population.accounts.add(
        n, created=t0 - age, country=country, email=crew.domain if not aged else 0, email_verified=aged,
        phone_verified=aged & (rng.random(n) < 0.5),
        followers=(np.exp(rng.normal(3, 1, n)) if aged else rng.integers(0, 6, n)).astype(np.int64),
        following=(np.exp(rng.normal(3.5, 1, n)) if aged else rng.integers(0, 30, n)).astype(np.int64))


def proxy(ctx: Context, crew: Crew, country: int, mimic: bool) -> int:
    """The crew's own IP, or, when hiding, a fresh residential proxy in the victim's country."""
    if mimic:
        return int(ctx.population.new_ips(ctx.rng, np.array([country]))[0])
    return int(ctx.rng.choice(crew.ips))


def stolen_cards(ctx: Context, crew: Crew, n: int, funding: list[float]) -> np.ndarray:
    country = np.full(n, ctx.rng.choice(VICTIM_COUNTRIES, p=VICTIM_P))
    return ctx.population.new_cards(ctx.rng, country, funding)


def account_takeover(ctx: Context, crew: Crew, t0: float) -> list[dict[str, Any]]:
    rng, population = ctx.rng, ctx.population
    buyers, accounts = population.buyers, population.accounts
    weight = buyers.activity * (accounts["created"][: len(buyers.activity)] < t0 - 60 * DAY)
    victim = int(rng.choice(len(weight), p=weight / weight.sum()))
    country, mimic = int(accounts["country"][victim]), ctx.mimics(t0)
    device = int(buyers.devices[victim, 0]) if rng.random() < 0.12 else int(rng.choice(crew.devices))
    ip = proxy(ctx, crew, country, mimic)
    card = int(buyers.cards[victim, 0]) if rng.random() < 0.75 else int(stolen_cards(ctx, crew, 1, [0.8, 0.2, 0, 0])[0])
    email = crew.domain if rng.random() < 0.35 else -1
    address = int(rng.choice(crew.drops)) if not mimic or rng.random() < 0.5 else int(
        population.addresses.add(1, country=country)[0])
    favourite = np.array([int(np.argmax(buyers.preferences[victim]))])
    rows, t = [], t0
    for _ in range(min(int(rng.geometric(0.45)), 6)):
        categories = RESALE if rng.random() < (0.6 if mimic else 0.85) else favourite
        post = ctx.pick_post(t, categories, "dear")
        if post >= 0:
            rows.append(order(ctx, t, victim, post, device, ip, card, address, app=bool(rng.random() < 0.3),
                              ttb=float(rng.lognormal(np.log(45), 0.8)), quantity=int(rng.choice([1, 2], p=[.8, .2])),
                              email=email))
        t += rng.exponential(25 * 60)
    return rows


def stolen_card_campaign(ctx: Context, crew: Crew, t0: float) -> list[dict[str, Any]]:
    rng = ctx.rng
    mimic = ctx.mimics(t0)
    tested = [crew.stock.pop() for _ in range(min(len(crew.stock), int(rng.integers(0, 8))))]
    fresh = stolen_cards(ctx, crew, int(rng.integers(3, 12)), [.7, .25, .05, 0])
    cards = np.r_[np.array(tested, dtype=np.int64), fresh]
    country = int(ctx.population.cards["country"][cards[-1]])
    accounts = new_accounts(ctx, crew, t0, int(rng.integers(1, 6)), mimic, country)
    devices = rng.choice(crew.devices, int(rng.integers(1, 4)))
    duration = rng.uniform(1, 14) * DAY
    rows = []
    for card in cards:
        for _ in range(1 + int(rng.poisson(0.8))):
            t = t0 + rng.random() * duration
            post = ctx.pick_post(t, RESALE if rng.random() < 0.8 else np.arange(8), "dear" if rng.random() < .5 else "")
            if post >= 0:
                rows.append(order(ctx, t, int(rng.choice(accounts)), post, int(rng.choice(devices)),
                                  proxy(ctx, crew, country, mimic), int(card), int(rng.choice(crew.drops)),
                                  app=bool(rng.random() < 0.4), ttb=float(rng.lognormal(np.log(90), 1.0))))
    return rows


def card_testing(ctx: Context, crew: Crew, t0: float) -> list[dict[str, Any]]:
    rng, population = ctx.rng, ctx.population
    device = int(population.devices.add(1, crew=True)[0])
    accounts = new_accounts(ctx, crew, t0, int(rng.integers(1, 3)), False, int(rng.choice(COUNTRIES.size)))
    ips = rng.choice(crew.ips, int(rng.integers(1, 3)))
    cards = np.concatenate([stolen_cards(ctx, crew, k, [.5, .3, .2, 0]) for k in rng.multinomial(
        int(rng.integers(8, 41)), [0.7, 0.3])])
    rows, t = [], t0
    for card in cards:
        for _ in range(1 + int(rng.random() < 0.1)):
            post = ctx.pick_post(t, np.array([4, 5]), "cheap")
            if post >= 0:
                rows.append(order(ctx, t, int(rng.choice(accounts)), post, device, int(rng.choice(ips)), int(card),
                                  -1, app=bool(rng.random() < 0.1), ttb=float(rng.uniform(4, 30))))
            t += rng.exponential(20)
    crew.stock += [int(c) for c in cards if rng.random() < 0.6]
    return rows


def ring(ctx: Context, crew: Crew, t0: float) -> list[dict[str, Any]]:
    rng, population = ctx.rng, ctx.population
    mimic = ctx.mimics(t0)
    n_sellers = int(rng.integers(1, 3))
    sellers = population.sellers.add(
        n_sellers, created=t0 - rng.uniform(5, 40, n_sellers) * DAY, country=rng.choice([0, 1, 5], n_sellers),
        verified=False, followers=rng.integers(0, 200, n_sellers), quality=0.5, popularity=0.05,
        price_level=rng.uniform(1.2, 2.5, n_sellers), promote=0.3, first=rng.choice(RESALE, n_sellers),
        second=rng.choice(RESALE, n_sellers))
    n_posts = int(rng.integers(2, 6)) * n_sellers
    seller = rng.choice(sellers, n_posts)  # the ring's own posts, which few genuine buyers engage with
    posts = add_posts(rng, population, seller, t0 - rng.uniform(0.5, 10, n_posts) * DAY, appeal=0.1)
    country = int(rng.choice(VICTIM_COUNTRIES, p=VICTIM_P))
    accounts = new_accounts(ctx, crew, t0 - rng.uniform(0, 30) * DAY, int(rng.integers(4, 13)), mimic, country)
    cards = {int(a): stolen_cards(ctx, crew, int(rng.integers(1, 3)), [.7, .25, .05, 0]) for a in accounts}
    devices, ips = rng.choice(crew.devices, 3), rng.choice(crew.ips, 3)
    duration = rng.uniform(5, 25) * DAY
    rows = []
    for _ in range(int(rng.integers(8, 41))):
        account = int(rng.choice(accounts))
        rows.append(order(ctx, t0 + rng.random() * duration, account, int(rng.choice(posts)), int(rng.choice(devices)),
                          int(rng.choice(ips)) if not mimic else proxy(ctx, crew, country, True),
                          int(rng.choice(cards[account])), int(rng.choice(crew.drops)), app=bool(rng.random() < 0.5),
                          ttb=float(rng.lognormal(np.log(120), 1.0)), quantity=int(rng.choice([1, 2]))))
    return rows


CAMPAIGNS = {"account_takeover": account_takeover, "stolen_cards": stolen_card_campaign,
             "card_testing": card_testing, "ring": ring}
