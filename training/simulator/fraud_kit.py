"""Building blocks shared by the fraud patterns.

A pattern decides *who, what, when and with which instruments* (a FraudPlan);
`fraud_batch` turns a plan into order columns exactly as genuine orders are
filled, so the only differences are the ones the pattern chose.
"""

from dataclasses import dataclass

import numpy as np

from .accounts import Buyers, Sellers
from .clock import MINUTE, Window
from .fill import (
    fill_buyer,
    fill_card,
    fill_goods,
    fill_post,
    fill_seller,
    fill_session,
    fill_shipping,
    fill_wallet,
)
from .geo import FRAUD_ORIGIN_COUNTRIES
from .ids import IdAllocator
from .instruments import Cards, ip_addresses
from .posts import Posts, fraud_post_weights
from .sampling import choose_among_earlier
from .schema import Batch, empty_batch

PATTERNS: tuple[str, ...] = (
    "genuine", "stolen_card", "card_testing", "account_takeover", "fraud_ring", "new_account_high_value",
)
# Funding of stolen cards (credit, debit, prepaid, unknown): mostly credit,
# which has the highest limits.
STOLEN_FUNDING = np.array([.75, .20, .03, .02])


@dataclass(frozen=True)
class FraudPlan:
    """Per-order choices of a fraud pattern; tables are indexed by the arrays."""

    pattern: str
    t: np.ndarray
    buyers: Buyers
    buyer: np.ndarray
    sellers: Sellers
    posts: Posts
    post: np.ndarray
    device: np.ndarray
    channel: np.ndarray
    ip: np.ndarray
    cards: Cards
    card: np.ndarray
    address: np.ndarray
    address_country: np.ndarray
    matches_billing: np.ndarray
    quantity: np.ndarray


def fraud_batch(rng: np.random.Generator, plan: FraudPlan) -> Batch:
    """Order columns of a plan.

    Fraudsters rarely pay through a wallet (5%) and buy about 40 s after opening
    the post, which overlaps the impulsive genuine buyers.
    """
    n = plan.t.size
    batch = empty_batch(n)
    batch["created_at"] = plan.t
    batch["_pattern"] = np.full(n, PATTERNS.index(plan.pattern), dtype=np.int8)
    fill_buyer(batch, plan.buyers, plan.buyer)
    fill_seller(batch, plan.sellers, plan.posts.seller[plan.post])
    in_post = rng.random(n) >= .05
    fill_post(batch, plan.posts, plan.post, in_post)
    seconds = 1.0 + 40.0 * np.exp(1.2 * rng.standard_normal(n))
    post_created = plan.posts.created_at[plan.post]
    fill_session(rng, batch, plan.device, plan.channel, plan.ip, seconds, post_created, in_post)
    fill_card(batch, plan.cards, plan.card)
    fill_wallet(rng, batch, wallet_share=.05)
    digital = plan.posts.digital[plan.post]
    fill_goods(rng, batch, plan.posts.price[plan.post], plan.quantity, digital)
    fill_shipping(rng, batch, digital, plan.address, plan.address_country, plan.matches_billing)
    return batch


def event_starts(rng: np.random.Generator, window: Window, n: int, span: int) -> np.ndarray:
    """Uniform start times leaving `span` before the window's end where possible.

    Fraud runs around the clock, unlike the diurnal genuine traffic.
    """
    latest = max(window.end - span, window.start + 1)
    return window.start + (rng.random(n) * (latest - window.start)).astype(np.int64)


def burst_offsets(gaps: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Time since the event's first order: cumulative gaps, restarting per event."""
    total = np.cumsum(gaps) - gaps
    first = np.flatnonzero(np.r_[True, event[1:] != event[:-1]])
    starts = np.repeat(total[first], np.diff(np.r_[first, event.size]))
    return total - starts


def fraud_ips(rng: np.random.Generator, local_country: np.ndarray, origin_share: float) -> np.ndarray:
    """IPs in a fraud-origin country, or (proxies) in `local_country`."""
    origin = rng.choice(FRAUD_ORIGIN_COUNTRIES, size=local_country.size)
    country = np.where(rng.random(local_country.size) < origin_share, origin, local_country)
    return ip_addresses(rng, country, ipv6_share=.1)


def fresh_devices(
    rng: np.random.Generator, ids: IdAllocator, n: int, web_share: float
) -> tuple[np.ndarray, np.ndarray]:
    """Never seen devices (emulators, wiped phones) and their channel."""
    return ids.take("device", n), (rng.random(n) < web_share).astype(np.int16)


def pick_posts(
    rng: np.random.Generator, posts: Posts, t: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A post already published at each time, by `target` weights (see
    `fraud_post_weights`), and the times moved after it where none existed."""
    seen_by = t - MINUTE  # the fraudster needs a moment to find the post
    post = np.full(t.size, -1)
    for name in np.unique(target):
        rows = np.flatnonzero(target == name)
        weights = fraud_post_weights(posts, str(name))
        post[rows] = choose_among_earlier(rng, posts.created_at, weights, seen_by[rows])
    lost = post < 0
    post[lost] = choose_among_earlier(rng, posts.created_at, posts.appeal, seen_by[lost])
    post = np.where(post < 0, int(np.argmin(posts.created_at)), post)
    return post, np.maximum(t, posts.created_at[post] + MINUTE)
