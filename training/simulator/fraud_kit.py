"""Building blocks shared by the fraud patterns.

A pattern decides *who, what, when and with which instruments* (a FraudPlan);
`fraud_batch` turns a plan into order columns exactly as genuine orders are
filled, so the only differences are the ones the pattern chose. Fraudsters
mimic genuine rows on purpose: they shop the posts the crowd is buying at the
moment, at human hours, through aged or bought accounts and proxies in the
card's country, so what gives them away is mostly history.
"""

from dataclasses import dataclass

import numpy as np

from .accounts import Buyers, Sellers
from .catalog import RESALEABLE
from .clock import DAY, HOUR, MINUTE, Window, activity, duration
from .fill import fill_buyer, fill_card, fill_goods, fill_post, fill_seller, fill_session, fill_shipping, fill_wallet
from .fraud_crews import Crews
from .geo import FRAUD_ORIGIN_COUNTRIES
from .ids import IdAllocator
from .instruments import Cards, ip_addresses
from .posts import Posts
from .sampling import choose_among_earlier
from .schema import Batch, empty_batch

PATTERNS: tuple[str, ...] = (
    "genuine", "stolen_card", "card_testing", "account_takeover", "fraud_ring", "new_account_high_value",
)
# Funding of stolen cards (credit, debit, prepaid, unknown): mostly credit,
# which has the highest limits.
STOLEN_FUNDING = np.array([.72, .20, .06, .02])
FRAUD_QUANTITY_WEIGHTS = np.array([.80, .14, .06])  # of 1, 2, 3 items; genuine buyers are alike
DEAR_CENTS = 20000  # "dear" posts are accepted in proportion to price up to $200


@dataclass(frozen=True)
class Crowd:
    """Genuine orders by time (`t` sorted): who is buying which post at each moment."""

    t: np.ndarray
    post: np.ndarray
    buyer: np.ndarray


@dataclass(frozen=True)
class FraudScene:
    """What every fraud pattern can draw on besides the genuine world."""

    crews: Crews
    crowd: Crowd


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
    seconds_median: float = 80.0  # from opening the post to buying (genuine: 150 s, wider)


def fraud_batch(rng: np.random.Generator, plan: FraudPlan) -> Batch:
    """Order columns of a plan.

    Fraudsters pay through a wallet less often than genuine buyers (12% vs 25%)
    and buy a little faster after opening the post, well inside the spread of
    genuine buyers.
    """
    n = plan.t.size
    batch = empty_batch(n)
    batch["created_at"] = plan.t
    batch["_pattern"] = np.full(n, PATTERNS.index(plan.pattern), dtype=np.int8)
    fill_buyer(batch, plan.buyers, plan.buyer)
    fill_seller(batch, plan.sellers, plan.posts.seller[plan.post])
    in_post = rng.random(n) >= .05
    fill_post(batch, plan.posts, plan.post, in_post)
    seconds = 1.0 + plan.seconds_median * np.exp(1.4 * rng.standard_normal(n))
    post_created = plan.posts.created_at[plan.post]
    fill_session(rng, batch, plan.device, plan.channel, plan.ip, seconds, post_created, in_post)
    fill_card(batch, plan.cards, plan.card)
    fill_wallet(rng, batch, wallet_share=.12)
    digital = plan.posts.digital[plan.post]
    fill_goods(rng, batch, plan.posts.price[plan.post], plan.quantity, digital)
    fill_shipping(rng, batch, digital, plan.address, plan.address_country, plan.matches_billing)
    return batch


def event_starts(
    rng: np.random.Generator, window: Window, span: int, utc_offset: np.ndarray
) -> np.ndarray:
    """Start times of events, leaving `span` before the window's end where possible.

    Fraudsters keep office hours where they work (`utc_offset`, minutes), a
    little flatter than genuine shoppers: uniform draws thinned by activity**0.7.
    """
    n = utc_offset.size
    latest = max(window.end - span, window.start + 1)
    t = np.empty(n, dtype=np.int64)
    pending = np.arange(n)
    for _ in range(40):
        candidate = window.start + (rng.random(pending.size) * (latest - window.start)).astype(np.int64)
        accept = rng.random(pending.size) < activity(candidate, utc_offset[pending]) ** .7
        t[pending] = candidate
        pending = pending[~accept]
        if pending.size == 0:
            break
    return t


def account_creation(rng: np.random.Generator, first_use: np.ndarray, aged_share: float) -> np.ndarray:
    """When fraud accounts were made: `aged_share` are aged or bought accounts
    (a month to years old), the rest made minutes to hours before first use."""
    n = first_use.size
    aged = np.clip(450 * np.exp(.9 * rng.standard_normal(n)), 30, 8 * 365) * DAY
    fresh = duration(rng, 2 * HOUR, 1.2, n) + 5 * MINUTE
    return first_use - np.where(rng.random(n) < aged_share, aged, fresh).astype(np.int64)


def fraud_quantities(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice([1, 2, 3], size=n, p=FRAUD_QUANTITY_WEIGHTS)


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


def post_acceptance(posts: Posts, target: str) -> np.ndarray:
    """How willing each fraud target is to take each post, in [0, 1].

    `resale`: goods that turn into cash (electronics, gift cards); `dear`: the
    same, the dearer the better; `cheap`: items up to $10, to test cards; `any`: all.
    """
    if target == "resale":
        return RESALEABLE[posts.category].astype(np.float64)
    if target == "dear":
        return RESALEABLE[posts.category] * np.minimum(posts.price / DEAR_CENTS, 1.0)
    if target == "cheap":
        return (posts.price <= 1000).astype(np.float64)
    return np.ones(posts.post_id.size)


def pick_posts(
    rng: np.random.Generator, posts: Posts, crowd: Crowd, t: np.ndarray, target: np.ndarray,
    floor: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A post per order among those genuine buyers bought in the 6 hours before it,
    filtered by `target` (see `post_acceptance`) and priced at least `floor`
    (cents, per order); and the times moved after the post.

    Shopping with the crowd gives fraud the post ages, engagement and prices of
    genuine orders. Where the crowd offers nothing suitable, any post already
    published is taken, by appeal.
    """
    floor = np.zeros(t.size) if floor is None else floor
    post = np.full(t.size, -1)
    low = np.searchsorted(crowd.t, t - 6 * HOUR)
    high = np.searchsorted(crowd.t, t)
    for name in np.unique(target):
        accept = post_acceptance(posts, str(name))
        pending = np.flatnonzero((target == name) & (high > low))
        for _ in range(40):
            if pending.size == 0:
                break
            pick = low[pending] + (rng.random(pending.size) * (high - low)[pending]).astype(np.int64)
            candidate = crowd.post[np.minimum(pick, crowd.t.size - 1)]
            ok = ((posts.created_at[candidate] <= t[pending] - MINUTE) & (posts.price[candidate] >= floor[pending])
                  & (rng.random(pending.size) < accept[candidate]))
            post[pending[ok]] = candidate[ok]
            pending = pending[~ok]
    lost = post < 0
    post[lost] = choose_among_earlier(rng, posts.created_at, posts.appeal, t[lost] - MINUTE)
    post = np.where(post < 0, int(np.argmin(posts.created_at)), post)
    return post, np.maximum(t, posts.created_at[post] + MINUTE)
