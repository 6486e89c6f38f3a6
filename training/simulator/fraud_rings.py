"""Fraud rings: new accounts sharing devices, IPs and addresses, buying from their own sellers.

No single order stands out much (a young account buying from a small seller,
as genuine sign-ups do every day); the ring shows in the graph: several young
accounts behind one or two devices, IPs and addresses, all paying the same few
sellers (dormant accounts woken up, or new ones), for one to three weeks.
"""

from dataclasses import dataclass

import numpy as np

from .accounts import Sellers, colluding_sellers, fraud_accounts
from .belongings import runs
from .catalog import CATEGORY_NAMES, CATEGORY_SHARES, GIFT_CARD
from .clock import DAY, HOUR, MINUTE, duration
from .fraud_kit import FraudPlan, FraudScene, burst_offsets, event_starts, fraud_batch, fraud_ips, fresh_devices
from .geo import BUYER_COUNTRY_SHARES, SELLER_COUNTRY_SHARES, UTC_OFFSET_MINUTES, draw_countries
from .ids import IdAllocator
from .instruments import new_cards
from .posts import Posts, make_posts
from .sampling import split_events
from .schema import Batch
from .world import World

RING_FUNDING = np.array([.55, .25, .18, .02])
GROWTH = 10 * DAY  # members join over the first ten days of a ring
ELECTRONICS = CATEGORY_NAMES.index("electronics")


@dataclass(frozen=True)
class RingShops:
    """Colluding sellers and their posts; ring r owns posts first[r]..first[r]+count[r]-1."""

    sellers: Sellers
    posts: Posts
    first: np.ndarray
    count: np.ndarray


@dataclass(frozen=True)
class RingMembers:
    """Accounts of the rings, with the shared instruments each account uses."""

    ring: np.ndarray         # ring of each account
    created_at: np.ndarray
    device: np.ndarray       # device code
    channel: np.ndarray
    ip: np.ndarray
    address: np.ndarray      # address code


def ring_shops(rng: np.random.Generator, ids: IdAllocator, t0: np.ndarray, country: np.ndarray) -> RingShops:
    """1-3 sellers per ring: dormant accounts woken up (60%, months to years old)
    or accounts made 3-20 days before the ring strikes; each with 1-2 posts
    published in the 20 days before then, 30% of them electronics or gift cards."""
    seller_of, seller_ring = runs(1 + rng.binomial(2, .3, t0.size))
    n_sellers = seller_ring.size
    dormant = np.clip(400 * np.exp(.8 * rng.standard_normal(n_sellers)), 60, 3000)
    age = np.where(rng.random(n_sellers) < .6, dormant, rng.uniform(3, 20, n_sellers))
    created = t0[seller_ring] - (age * DAY).astype(np.int64)
    sellers = colluding_sellers(rng, ids, created, country[seller_ring])
    post_of, post_seller = runs(1 + rng.binomial(1, .5, n_sellers))
    until = t0[seller_ring[post_seller]]
    since = np.maximum(sellers.created_at[post_seller], until - 20 * DAY)
    published = since + (rng.random(post_seller.size) * (until - since)).astype(np.int64)
    n_posts, shares = post_seller.size, CATEGORY_SHARES / CATEGORY_SHARES.sum()
    category = np.where(rng.random(n_posts) < .3, rng.choice([ELECTRONICS, GIFT_CARD], size=n_posts),
                        rng.choice(shares.size, size=n_posts, p=shares))
    posts = make_posts(rng, ids, sellers, post_seller, published, category, sellers.followers[post_seller])
    return RingShops(sellers=sellers, posts=posts, first=post_of.first[seller_of.first],
                     count=np.add.reduceat(post_of.count, seller_of.first))


def ring_members(
    rng: np.random.Generator, ids: IdAllocator, ring: np.ndarray,
    t0: np.ndarray, country: np.ndarray, end: int,
) -> RingMembers:
    """Accounts created over the ring's first ten days, sharing the ring's 1-2
    devices, 1-2 IPs (proxies in its country, 85%) and 1-2 addresses."""
    n_rings, n = t0.size, ring.size
    device_of, device_ring = runs(1 + rng.binomial(1, .5, n_rings))
    ip_of, ip_ring = runs(1 + rng.binomial(1, .5, n_rings))
    address_of, address_ring = runs(1 + rng.binomial(1, .4, n_rings))
    device_ids, channel = fresh_devices(rng, ids, device_ring.size, web_share=.5)
    ips = fraud_ips(rng, country[ip_ring], origin_share=.15)
    addresses = ids.take("address", address_ring.size)
    device = device_of.pick(rng, ring, 0.0)
    return RingMembers(
        ring=ring,
        created_at=np.minimum(t0[ring] + (rng.random(n) * GROWTH).astype(np.int64), end - 1 - MINUTE),
        device=device_ids[device], channel=channel[device],
        ip=ips[ip_of.pick(rng, ring, 0.0)], address=addresses[address_of.pick(rng, ring, 0.0)],
    )


def ring_accounts(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The account of each of `n` orders and the ring of each account.

    Rings have 3 + Poisson(2) accounts; cutting at exactly `n` orders can leave
    the last ring with fewer than 3, and those then join the ring before it.
    """
    ring_size = 3 + rng.poisson(2, n // 3 + 1)
    account_ring = np.repeat(np.arange(ring_size.size), ring_size)
    account, n_accounts = split_events(1 + rng.poisson(1.5, account_ring.size), n)
    account_ring = account_ring[:n_accounts].copy()
    last = account_ring[-1]
    if last > 0 and np.count_nonzero(account_ring == last) < 3:
        account_ring[account_ring == last] = last - 1
    return account, account_ring


def fraud_rings(rng: np.random.Generator, world: World, ids: IdAllocator, scene: FraudScene, n: int) -> Batch:
    """Rings of 3+ accounts (5 on average), each placing 1+ orders (2.5 on
    average), the first hours after sign-up, the next days apart, on fresh
    cards (18% prepaid). Rings keep office hours of their country."""
    account, account_ring = ring_accounts(rng, n)
    n_accounts, n_rings = account_ring.size, int(account_ring[-1]) + 1
    country = draw_countries(rng, SELLER_COUNTRY_SHARES, n_rings)
    t0 = event_starts(rng, world.window, GROWTH + 5 * DAY, UTC_OFFSET_MINUTES[country])
    shops = ring_shops(rng, ids, t0, country)
    members = ring_members(rng, ids, account_ring, t0, country, world.window.end)
    card_country = np.where(rng.random(n_accounts) < .8, country[account_ring],
                            draw_countries(rng, BUYER_COUNTRY_SHARES, n_accounts))
    ring = account_ring[account]
    first = members.created_at[account] + duration(rng, 6 * HOUR, 1.0, n)
    t = np.minimum(first + burst_offsets(rng.exponential(1.5 * DAY, n).astype(np.int64), account),
                   world.window.end - 1)
    return fraud_batch(rng, FraudPlan(
        pattern="fraud_ring", t=t,
        buyers=fraud_accounts(rng, ids, members.created_at, members.created_at, country[account_ring]),
        buyer=account, sellers=shops.sellers, posts=shops.posts,
        post=shops.first[ring] + (rng.random(n) * shops.count[ring]).astype(np.int64),
        device=members.device[account], channel=members.channel[account], ip=members.ip[account],
        cards=new_cards(rng, ids, world.bins, card_country, RING_FUNDING), card=account,
        address=members.address[account], address_country=country[ring],
        matches_billing=rng.random(n) < .45, quantity=rng.choice([1, 2], size=n, p=[.85, .15]),
    ))
