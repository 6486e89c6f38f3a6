"""Card fraud: bursts on stolen cards, and card testing.

Both leave their mark in history rather than in one row: a card, device or IP
that suddenly carries many orders, cards never seen before, many cards behind
one device within minutes, a crew's device or drop address turning up again.
Row by row they look like ordinary shoppers: aged accounts, proxies in the
card's country, the crowd's posts.
"""

import numpy as np

from .accounts import fraud_accounts
from .clock import HOUR, MINUTE, SECOND
from .fraud_kit import (
    STOLEN_FUNDING,
    FraudPlan,
    FraudScene,
    account_creation,
    burst_offsets,
    event_starts,
    fraud_batch,
    fraud_quantities,
    pick_posts,
)
from .ids import IdAllocator
from .instruments import PREPAID, Cards, cards_from_bins, new_cards
from .sampling import choose_in_groups, split_events
from .schema import Batch
from .tables import blend, take_rows
from .world import World

VICTIM_CARD_SHARE = .3  # cards of platform users, rather than from a leaked list


def stolen_card_pool(rng: np.random.Generator, world: World, ids: IdAllocator, market: np.ndarray) -> Cards:
    """Stolen cards: 30% belong to genuine buyers here, the rest are new to the
    platform, leaked in the crew's market; mostly credit."""
    n = market.size
    leaked = new_cards(rng, ids, world.bins, market, STOLEN_FUNDING)
    owned = world.belongings.cards
    victims = take_rows(owned, rng.integers(0, owned.card_id.size, n))
    return blend(rng.random(n) < VICTIM_CARD_SHARE, victims, leaked)


def stolen_cards(rng: np.random.Generator, world: World, ids: IdAllocator, scene: FraudScene, n: int) -> Batch:
    """Bursts of 2+ orders (4.5 on average, ~25 min apart) on one stolen card.

    Per burst: an aged or bought account (55%) or one made hours before, in the
    card's country; one of the crew's devices (50%) or a new one; a proxy IP in
    the card's country (80%, the crew's own 40% of those) or the crew's line
    abroad; the crowd's posts, resaleable ones favoured (40%); a crew drop
    address (50%) that matches billing in 45% of bursts.
    """
    event, e = split_events(2 + rng.poisson(2.5, n), n)
    crews = scene.crews
    crew = crews.assign(rng, e)
    t0 = event_starts(rng, world.window, 12 * HOUR, crews.utc_offset[crew])
    t = np.minimum(t0[event] + burst_offsets(rng.exponential(25 * MINUTE, n).astype(np.int64), event),
                   world.window.end - 1)
    cards = stolen_card_pool(rng, world, ids, crews.country[crew])
    buyers = fraud_accounts(rng, ids, account_creation(rng, t0, aged_share=.55), t0, cards.country)
    device, channel = crews.devices(rng, ids, crew, reuse=.5, web_share=.5)
    ip = np.where(rng.random(e) < .8, crews.ips(rng, crew, cards.country, reuse=.4), crews.origin_ips(rng, crew))
    post, t = pick_posts(rng, world.posts, scene.crowd, t, np.where(rng.random(n) < .4, "resale", "any"))
    address, address_country = crews.addresses(rng, ids, crew, reuse=.5)
    return fraud_batch(rng, FraudPlan(
        pattern="stolen_card", t=t, buyers=buyers, buyer=event, sellers=world.sellers, posts=world.posts,
        post=post, device=device[event], channel=channel[event], ip=ip[event], cards=cards, card=event,
        address=address[event], address_country=address_country[event],
        matches_billing=(rng.random(e) < .45)[event], quantity=fraud_quantities(rng, n),
    ))


def card_testing(rng: np.random.Generator, world: World, ids: IdAllocator, scene: FraudScene, n: int) -> Batch:
    """Runs of 6+ orders (16 on average, ~40 s apart), each on a different card.

    Per run: one account (aged 45%), one of the crew's emulators (60%) or a new
    device, cheap items bought fast by a script. 70% of runs enumerate cards of
    a single BIN of the crew's market (prepaid ranges a little favoured); the IP
    is a proxy there (80%) or the crew's line abroad.
    """
    event, e = split_events(6 + rng.poisson(10, n), n)
    crews = scene.crews
    crew = crews.assign(rng, e)
    t0 = event_starts(rng, world.window, HOUR, crews.utc_offset[crew])
    t = np.minimum(t0[event] + burst_offsets(rng.exponential(40 * SECOND, n).astype(np.int64), event),
                   world.window.end - 1)
    bins = world.bins
    bin_weight = np.where(bins.funding == PREPAID, 2.0, 1.0)
    n_countries = int(bins.country.max()) + 1
    event_bin = choose_in_groups(rng, bins.country.astype(np.int64), bin_weight,
                                 crews.country[crew].astype(np.int64), n_countries)
    any_bin = choose_in_groups(rng, bins.country.astype(np.int64), bin_weight,
                               crews.country[crew][event].astype(np.int64), n_countries)
    card_bin = np.where((rng.random(e) < .7)[event], event_bin[event], any_bin)
    cards = cards_from_bins(rng, ids, bins, card_bin)
    country = bins.country[event_bin]
    buyers = fraud_accounts(rng, ids, account_creation(rng, t0, aged_share=.45), t0, country)
    device, channel = crews.devices(rng, ids, crew, reuse=.6, web_share=.6)
    ip = np.where(rng.random(e) < .8, crews.ips(rng, crew, country, reuse=.5), crews.origin_ips(rng, crew))
    post, t = pick_posts(rng, world.posts, scene.crowd, t, np.full(n, "cheap"))
    address, address_country = crews.addresses(rng, ids, crew, reuse=.5)
    return fraud_batch(rng, FraudPlan(
        pattern="card_testing", t=t, buyers=buyers, buyer=event, sellers=world.sellers, posts=world.posts,
        post=post, device=device[event], channel=channel[event], ip=ip[event], cards=cards,
        card=np.arange(n), address=address[event], address_country=address_country[event],
        matches_billing=(rng.random(e) < .5)[event], quantity=np.ones(n, dtype=np.int64), seconds_median=25.0,
    ))
