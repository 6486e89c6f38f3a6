"""Posts that sell something: what they offer, how much attention they get, when.

Attention follows an exponential decay after publication with a post-specific
time scale. The same curve drives both the rate of purchases from a post and
its engagement counters (cumulative attention), so viral posts have big
counters and many orders.
"""

from dataclasses import dataclass

import numpy as np

from .accounts import Sellers, bernoulli, hide
from .catalog import CATEGORY_SHARES, digital_flags, listed_prices, price_tiers
from .clock import DAY, NAT, Window
from .ids import IdAllocator
from .sampling import choose_weighted

PROMOTION_BOOST = 2.5  # promoted posts are shown more, hence bought from more


@dataclass(frozen=True)
class Posts:
    """Posts of one table of sellers (`seller` indexes that table)."""

    post_id: np.ndarray
    seller: np.ndarray
    created_at: np.ndarray
    created_reported: np.ndarray
    category: np.ndarray
    category_reported: np.ndarray
    digital: np.ndarray
    digital_reported: np.ndarray
    price: np.ndarray
    price_reported: np.ndarray
    tier: np.ndarray
    promoted: np.ndarray            # reported, int8 with -1 unknown
    engagement_known: np.ndarray
    final_views: np.ndarray         # views once attention has died out
    attention_scale: np.ndarray     # exponential time scale of attention, ns
    like_rate: np.ndarray
    repost_rate: np.ndarray
    reply_rate: np.ndarray
    appeal: np.ndarray              # purchase attraction, before time effects


@dataclass(frozen=True)
class Engagement:
    """Counters of posts as of given times; -1 where unknown."""

    views: np.ndarray
    likes: np.ndarray
    reposts: np.ndarray
    replies: np.ndarray


def make_posts(
    rng: np.random.Generator, ids: IdAllocator, sellers: Sellers, seller: np.ndarray,
    created_at: np.ndarray, category: np.ndarray, reach: np.ndarray,
) -> Posts:
    """Posts with drawn prices, promotion, virality and engagement rates.

    `reach` is the audience a post starts from; virality multiplies it.
    """
    n = seller.size
    price = listed_prices(rng, category)
    digital = digital_flags(rng, category)
    promoted = bernoulli(rng, .08, n)
    virality = np.exp(1.1 * rng.standard_normal(n))
    final_views = (reach * .25 + 300) * virality * np.where(promoted == 1, 3.0, 1.0)
    return Posts(
        post_id=ids.take("post", n), seller=seller, created_at=created_at,
        created_reported=hide(rng, created_at, .02, NAT),
        category=category.astype(np.int16),
        category_reported=hide(rng, category.astype(np.int16), .02, -1),
        digital=digital, digital_reported=hide(rng, digital.astype(np.int8), .01, -1),
        price=price, price_reported=hide(rng, price, .02, -1),
        tier=price_tiers(price)[0],
        promoted=hide(rng, promoted, .01, -1),
        engagement_known=rng.random(n) >= .04,
        final_views=final_views,
        attention_scale=2 * DAY * np.exp(.7 * rng.standard_normal(n)),
        like_rate=np.minimum(.03 * np.exp(.5 * rng.standard_normal(n)), .3),
        repost_rate=np.minimum(.08 * np.exp(.5 * rng.standard_normal(n)), .5),
        reply_rate=np.minimum(.05 * np.exp(.6 * rng.standard_normal(n)), .5),
        appeal=np.sqrt(sellers.followers[seller] + 50.0) * virality
        * np.where(promoted == 1, PROMOTION_BOOST, 1.0),
    )


def build_posts(
    rng: np.random.Generator, ids: IdAllocator, n: int, sellers: Sellers, window: Window
) -> Posts:
    """The world's posts, published from 30 days before the window to its end.

    Sellers post in proportion to a damped audience size and mostly in their
    own main category.
    """
    seller = choose_weighted(rng, (sellers.followers + 50.0) ** .3, n)
    earliest = np.maximum(sellers.created_at[seller], window.start - 30 * DAY)
    created = earliest + (rng.random(n) * (window.end - earliest)).astype(np.int64)
    shares = CATEGORY_SHARES / CATEGORY_SHARES.sum()
    main_category = rng.choice(shares.size, size=sellers.account_id.size, p=shares)
    category = np.where(rng.random(n) < .7, main_category[seller], rng.choice(shares.size, size=n, p=shares))
    return make_posts(rng, ids, sellers, seller, created, category, sellers.followers[seller])


def attention_in(posts: Posts, window: Window) -> np.ndarray:
    """Share of each post's total attention that falls inside the window."""
    low = np.maximum(window.start - posts.created_at, 0)
    high = np.maximum(window.end - posts.created_at, 0)
    scale = posts.attention_scale
    return np.exp(-low / scale) - np.exp(-high / scale)


def engagement_at(posts: Posts, post: np.ndarray, t: np.ndarray) -> Engagement:
    """Engagement counters of `post` as seen at time `t` (they only grow)."""
    age = np.maximum(t - posts.created_at[post], 0)
    seen = -np.expm1(-age / posts.attention_scale[post])
    views = np.floor(posts.final_views[post] * seen)
    likes = np.floor(views * posts.like_rate[post])
    known = posts.engagement_known[post]

    def report(values: np.ndarray) -> np.ndarray:
        return np.where(known, values, -1).astype(np.int64)

    return Engagement(
        views=report(views), likes=report(likes),
        reposts=report(np.floor(likes * posts.repost_rate[post])),
        replies=report(np.floor(likes * posts.reply_rate[post])),
    )

