"""Card fraud: bursts on stolen cards, and card testing.

Both leave their mark in history rather than in one row: a card, device or IP
that suddenly carries many orders, cards never seen before, many cards behind
one device.
"""

import numpy as np

from .accounts import fraud_accounts
from .clock import HOUR, MINUTE, SECOND, duration
from .fraud_kit import (
    STOLEN_FUNDING,
    FraudPlan,
    burst_offsets,
    event_starts,
    fraud_batch,
    fraud_ips,
    fresh_devices,
    pick_posts,
)
from .geo import BUYER_COUNTRY_SHARES, FRAUD_ORIGIN_COUNTRIES, draw_countries
from .ids import IdAllocator
from .instruments import PREPAID, Cards, cards_from_bins, new_cards
from .sampling import choose_weighted, split_events
from .schema import Batch
from .tables import blend, take_rows
from .world import World

VICTIM_CARD_SHARE = .3  # cards of platform users, rather than from a leaked list


def stolen_card_pool(rng: np.random.Generator, world: World, ids: IdAllocator, n: int) -> Cards:
    """Stolen cards: 30% belong to genuine buyers here, the rest are new to the
    platform; issued where victims live (mostly US), mostly credit."""
    leaked = new_cards(rng, ids, world.bins, draw_countries(rng, BUYER_COUNTRY_SHARES, n), STOLEN_FUNDING)
    owned = world.belongings.cards
    victims = take_rows(owned, rng.integers(0, owned.card_id.size, n))
    return blend(rng.random(n) < VICTIM_CARD_SHARE, victims, leaked)


def stolen_cards(rng: np.random.Generator, world: World, ids: IdAllocator, n: int) -> Batch:
    """Bursts of 2+ orders (4.5 on average, ~25 min apart) on one stolen card.

    Per burst: a throw-away account made hours before, a new device, one IP
    (55% in a fraud-origin country, else a proxy in the card's country), resale
    goods (60%) shipped to a drop address that does not match billing (85%).
    """
    event, e = split_events(2 + rng.poisson(2.5, n), n)
    t0 = event_starts(rng, world.window, e, 12 * HOUR)
    t = np.minimum(t0[event] + burst_offsets(rng.exponential(25 * MINUTE, n).astype(np.int64), event),
                   world.window.end - 1)
    cards = stolen_card_pool(rng, world, ids, e)
    origin = rng.choice(FRAUD_ORIGIN_COUNTRIES, size=e)
    country = np.where(rng.random(e) < .7, cards.country, origin)
    buyers = fraud_accounts(rng, ids, t0 - duration(rng, 6 * HOUR, 1.5, e), country)
    device, channel = fresh_devices(rng, ids, e, web_share=.7)
    ip = fraud_ips(rng, cards.country, origin_share=.55)
    post, t = pick_posts(rng, world.posts, t, np.where(rng.random(n) < .6, "resale", "any"))
    address_country = np.where(rng.random(e) < .5, cards.country, country)
    return fraud_batch(rng, FraudPlan(
        pattern="stolen_card", t=t, buyers=buyers, buyer=event, sellers=world.sellers, posts=world.posts,
        post=post, device=device[event], channel=channel[event], ip=ip[event], cards=cards, card=event,
        address=ids.take("address", e)[event], address_country=address_country[event],
        matches_billing=(rng.random(e) < .15)[event],
        quantity=rng.choice([1, 2, 3], size=n, p=[.7, .2, .1]),
    ))


def card_testing(rng: np.random.Generator, world: World, ids: IdAllocator, n: int) -> Batch:
    """Runs of 6+ orders (16 on average, ~40 s apart), each on a different card.

    Per run: one throw-away account, one new device and IP, cheap items. 70% of
    runs enumerate cards of a single BIN (prepaid ranges favoured).
    """
    event, e = split_events(6 + rng.poisson(10, n), n)
    t0 = event_starts(rng, world.window, e, HOUR)
    t = np.minimum(t0[event] + burst_offsets(rng.exponential(40 * SECOND, n).astype(np.int64), event),
                   world.window.end - 1)
    bins = world.bins
    bin_weight = np.where(bins.funding == PREPAID, 4.0, 1.0)
    event_bin = choose_weighted(rng, bin_weight, e)
    same_bin = (rng.random(e) < .7)[event]
    card_bin = np.where(same_bin, event_bin[event], choose_weighted(rng, bin_weight, n))
    cards = cards_from_bins(rng, ids, bins, card_bin)
    origin = rng.choice(FRAUD_ORIGIN_COUNTRIES, size=e)
    country = np.where(rng.random(e) < .5, bins.country[event_bin], origin)
    buyers = fraud_accounts(rng, ids, t0 - duration(rng, 2 * HOUR, 1.5, e), country)
    device, channel = fresh_devices(rng, ids, e, web_share=.8)
    ip = fraud_ips(rng, country, origin_share=.6)
    post, t = pick_posts(rng, world.posts, t, np.full(n, "cheap"))
    return fraud_batch(rng, FraudPlan(
        pattern="card_testing", t=t, buyers=buyers, buyer=event, sellers=world.sellers, posts=world.posts,
        post=post, device=device[event], channel=channel[event], ip=ip[event], cards=cards,
        card=np.arange(n), address=ids.take("address", e)[event], address_country=country[event],
        matches_billing=(rng.random(e) < .3)[event], quantity=np.ones(n, dtype=np.int64),
    ))
