"""Genuine orders: buyers shopping from posts in their price band, at human hours.

Draw order: buyer (by activity) -> post (30% from the buyer's favourite seller,
else same country 85%, in the buyer's usual price tier 75%, by post appeal) ->
time (the post's attention decay, thinned by the buyer's local diurnal and
weekly cycle). Buyers reuse their own cards, devices and addresses, with
genuine novelty (new phone or browser 2%, travel 5%, gifts to a new address 8%)
so that novelty or a mismatch in one row is no proof of fraud.
"""

import numpy as np

from .accounts import Buyers, settle_signups
from .belongings import mostly_home
from .catalog import N_PRICE_TIERS
from .clock import HOUR, MINUTE, NAT, Window, activity, duration
from .fill import fill_buyer, fill_card, fill_goods, fill_post, fill_seller, fill_session, fill_shipping, fill_wallet
from .geo import COUNTRIES
from .ids import IdAllocator
from .posts import Posts, attention_in
from .sampling import choose_in_groups, choose_weighted, truncated_exponential
from .schema import Batch, empty_batch
from .world import World

HABITUAL_TIER_SHARE = .75
DOMESTIC_SHARE = .85
OUTSIDE_POST_SHARE = .10
REPEAT_SHARE = .30        # orders from the buyer's favourite seller
NEW_DEVICE_SHARE = .02    # a phone or browser never seen before
ABROAD_SHARE = .05        # travelling: an IP in another country
GIFT_SHARE = .08          # shipped to someone else's (new) address
QUANTITIES = np.array([1, 2, 3, 4, 5])
QUANTITY_WEIGHTS = np.array([.80, .13, .04, .02, .01])


def choose_posts(rng: np.random.Generator, world: World, buyer: np.ndarray) -> np.ndarray:
    """A post per order, by appeal within the window, tier and (mostly) country."""
    posts, n = world.posts, buyer.size
    weight = posts.appeal * attention_in(posts, world.window)
    tier = np.where(rng.random(n) < HABITUAL_TIER_SHARE, world.buyers.habit_tier[buyer],
                    rng.integers(0, N_PRICE_TIERS, n)).astype(np.int64)
    post_tier = posts.tier.astype(np.int64)
    post_country = world.sellers.home_country[posts.seller].astype(np.int64)
    buyer_country = world.buyers.home_country[buyer].astype(np.int64)
    domestic = choose_in_groups(rng, post_country * N_PRICE_TIERS + post_tier, weight,
                                buyer_country * N_PRICE_TIERS + tier, len(COUNTRIES) * N_PRICE_TIERS)
    anywhere = choose_in_groups(rng, post_tier, weight, tier, N_PRICE_TIERS)
    anywhere = np.where(anywhere < 0, choose_weighted(rng, weight, n), anywhere)
    post = np.where((rng.random(n) < DOMESTIC_SHARE) & (domestic >= 0), domestic, anywhere)
    n_sellers, seller = world.sellers.account_id.size, posts.seller.astype(np.int64)
    favourite = world.favourite_seller[buyer].astype(np.int64)
    in_tier = choose_in_groups(rng, seller * N_PRICE_TIERS + post_tier, weight, favourite * N_PRICE_TIERS + tier,
                               n_sellers * N_PRICE_TIERS)
    any_tier = choose_in_groups(rng, seller, weight, favourite, n_sellers)
    favourite_post = np.where(in_tier >= 0, in_tier, any_tier)
    return np.where((rng.random(n) < REPEAT_SHARE) & (favourite_post >= 0), favourite_post, post)


def purchase_times(
    rng: np.random.Generator, posts: Posts, post: np.ndarray, utc_offset: np.ndarray, window: Window
) -> np.ndarray:
    """Order times: attention decay of the post, accepted by local activity level.

    Rejected draws are redrawn; the few still rejected after 40 rounds keep
    their last draw.
    """
    created = posts.created_at[post]
    low = np.maximum(window.start - created, 0).astype(np.float64)
    high = (window.end - created).astype(np.float64)
    scale = posts.attention_scale[post]
    t = np.empty(post.size, dtype=np.int64)
    pending = np.arange(post.size)
    for _ in range(40):
        candidate = created[pending] + truncated_exponential(
            rng, scale[pending], low[pending], high[pending]).astype(np.int64)
        accept = rng.random(pending.size) < activity(candidate, utc_offset[pending])
        t[pending] = candidate
        pending = pending[~accept]
        if pending.size == 0:
            break
    return np.clip(t, np.maximum(created, window.start), window.end - 1)


def plan_genuine(rng: np.random.Generator, world: World, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who buys which post when: (buyer, post, created_at) per order."""
    buyer = choose_weighted(rng, world.buyers.activity, n)
    post = choose_posts(rng, world, buyer)
    t = purchase_times(rng, world.posts, post, world.buyers.utc_offset[buyer], world.window)
    return buyer, post, t


def settle_buyers(rng: np.random.Generator, buyers: Buyers, buyer: np.ndarray, t: np.ndarray) -> Buyers:
    """Sign-ups created 10 minutes to a few days before their first order."""
    first = np.full(buyers.account_id.size, np.iinfo(np.int64).max)
    np.minimum.at(first, buyer, t)
    first = np.where(first == np.iinfo(np.int64).max, NAT, first)
    return settle_signups(buyers, first, duration(rng, 3 * HOUR, 1.5, first.size) + 10 * MINUTE)


def fill_genuine(
    rng: np.random.Generator, world: World, ids: IdAllocator,
    buyer: np.ndarray, post: np.ndarray, t: np.ndarray,
) -> Batch:
    """The full columns of genuine orders planned by `plan_genuine`."""
    posts, n = world.posts, buyer.size
    batch = empty_batch(n)
    batch["created_at"] = t
    fill_buyer(batch, world.buyers, buyer)
    fill_seller(batch, world.sellers, posts.seller[post])
    in_post = rng.random(n) >= OUTSIDE_POST_SHARE
    fill_post(batch, posts, post, in_post)
    _session(rng, world, ids, batch, buyer, posts.created_at[post], in_post)
    fill_card(batch, world.belongings.cards, world.belongings.card_of.pick(rng, buyer, .8))
    fill_wallet(rng, batch, wallet_share=.25)
    digital = posts.digital[post]
    fill_goods(rng, batch, posts.price[post], rng.choice(QUANTITIES, size=n, p=QUANTITY_WEIGHTS), digital)
    _shipping(rng, world, ids, batch, buyer, digital)
    return batch


def _session(
    rng: np.random.Generator, world: World, ids: IdAllocator, batch: Batch,
    buyer: np.ndarray, post_created: np.ndarray, in_post: np.ndarray,
) -> None:
    """Own devices (2% a brand-new one); home IP, carrier IP, or abroad (5%)."""
    owned, n = world.belongings, buyer.size
    device = owned.device_of.pick(rng, buyer, .7)
    device_id, channel = owned.device_id[device], owned.device_channel[device]
    new_device = rng.random(n) < NEW_DEVICE_SHARE
    device_id = device_id.copy()
    device_id[new_device] = ids.take("device", int(new_device.sum()))
    channel = np.where(new_device, rng.integers(0, 2, n), channel)
    home = world.buyers.home_country[buyer]
    source = rng.choice(3, size=n, p=[.57, .38, ABROAD_SHARE])
    ip = np.where(source == 0, owned.home_ip[buyer],
                  world.carriers.draw(rng, np.where(source == 2, mostly_home(rng, home, 1.0), home)))
    seconds = 1.0 + 150.0 * np.exp(1.6 * rng.standard_normal(n))
    fill_session(rng, batch, device_id, channel, ip, seconds, post_created, in_post)


def _shipping(
    rng: np.random.Generator, world: World, ids: IdAllocator,
    batch: Batch, buyer: np.ndarray, digital: np.ndarray,
) -> None:
    """Own addresses, 8% gifts to a new address (10% abroad); the first address is the billing one."""
    owned, n = world.belongings, buyer.size
    address = owned.address_of.pick(rng, buyer, .85)
    address_id, country = owned.address_id[address].copy(), owned.address_country[address]
    gift = rng.random(n) < GIFT_SHARE
    address_id[gift] = ids.take("address", int(gift.sum()))
    country = np.where(gift, mostly_home(rng, world.buyers.home_country[buyer], .1), country)
    first = address == owned.address_of.first[buyer]
    matches = np.where(first & ~gift, rng.random(n) >= .03, rng.random(n) < .15)
    fill_shipping(rng, batch, digital, address_id, country, matches)
