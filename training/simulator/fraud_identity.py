"""Account fraud: takeovers of old genuine accounts, and new accounts cashing out.

Takeovers are visible as a break with the account's own history: a device, IP
and address never seen with it, an amount above its habit, often several at
once. In one row they are an established account buying something, from a
proxy in its own country. Cash-outs through new accounts look like keen genuine
sign-ups buying electronics; their tell is the crew's kit (devices, IPs, drop
addresses) behind account after account.
"""

import numpy as np

from .accounts import fraud_accounts
from .belongings import mostly_home
from .clock import DAY, HOUR, MINUTE, Window
from .fraud_kit import (
    Crowd,
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
from .instruments import new_cards
from .sampling import choose_weighted, split_events
from .schema import Batch
from .tables import blend, take_rows
from .world import World

NEW_ACCOUNT_FUNDING = np.array([.55, .27, .16, .02])  # prepaid cards are easy to get


def takeover_victims(rng: np.random.Generator, world: World, crowd: Crowd, t0: np.ndarray) -> np.ndarray:
    """Established (180+ days) accounts that bought in the 30 days before: they
    have a history to break, and phishing finds the active ones."""
    old = world.buyers.created_at < world.window.start - 180 * DAY
    victim = choose_weighted(rng, world.buyers.activity * old if old.any() else world.buyers.activity, t0.size)
    low, high = np.searchsorted(crowd.t, t0 - 30 * DAY), np.searchsorted(crowd.t, t0)
    pending = np.flatnonzero(high > low)
    for _ in range(20):
        pick = crowd.buyer[low[pending] + (rng.random(pending.size) * (high - low)[pending]).astype(np.int64)]
        ok = old[pick]
        victim[pending[ok]] = pick[ok]
        pending = pending[~ok]
        if pending.size == 0:
            break
    return victim


def account_takeover(rng: np.random.Generator, world: World, ids: IdAllocator, scene: FraudScene, n: int) -> Batch:
    """1-4 orders (~2 h apart) from an old genuine account in its attacker's hands.

    A device never seen with the account (one of the crew's 40%), an IP never
    seen with it (a residential proxy in its home country 75%, else the crew's
    line abroad), the victim's own saved card (70%) or a stolen one from home;
    resaleable goods (45%) or the crowd's, but dearer than the victim's habit
    (1-2.5 times), shipped to a new address at home or a crew drop (40%),
    matching billing in 30% of takeovers.
    Takeovers start after the window's first fifteenth (six days of ninety), once
    victims have some history in it.
    """
    event, e = split_events(1 + rng.poisson(1.2, n), n)
    window = world.window
    crews = scene.crews
    crew = crews.assign(rng, e)
    t0 = event_starts(rng, Window(window.start + window.length // 15, window.end), 6 * HOUR, crews.utc_offset[crew])
    gaps = rng.exponential(2 * HOUR, n).astype(np.int64)
    t = np.minimum(t0[event] + burst_offsets(gaps, event), window.end - 1)
    victim = takeover_victims(rng, world, scene.crowd, t0)
    home = world.buyers.home_country[victim]
    owned = world.belongings
    cards = blend(rng.random(e) < .7, take_rows(owned.cards, owned.card_of.first[victim]),
                  new_cards(rng, ids, world.bins, home, np.array([.72, .22, .04, .02])))
    device, channel = crews.devices(rng, ids, crew, reuse=.4, web_share=.5)
    ip = np.where(rng.random(e) < .75, crews.ips(rng, crew, home, reuse=.3), crews.origin_ips(rng, crew))
    above_habit = world.buyers.habit_amount[victim] * rng.uniform(1, 2.5, e)
    post, t = pick_posts(rng, world.posts, scene.crowd, t, np.where(rng.random(n) < .45, "resale", "any"),
                         floor=above_habit[event])
    drop, _ = crews.addresses(rng, ids, crew, reuse=1.0)
    to_drop = (rng.random(e) < .4) & (crews.country[crew] == home)
    address = np.where(to_drop, drop, ids.take("address", e))
    return fraud_batch(rng, FraudPlan(
        pattern="account_takeover", t=t, buyers=world.buyers, buyer=victim[event], sellers=world.sellers,
        posts=world.posts, post=post, device=device[event], channel=channel[event], ip=ip[event], cards=cards,
        card=event, address=address[event], address_country=mostly_home(rng, home, .1)[event],
        matches_billing=(rng.random(e) < .3)[event], quantity=fraud_quantities(rng, n),
    ))


def new_account_high_value(
    rng: np.random.Generator, world: World, ids: IdAllocator, scene: FraudScene, n: int
) -> Batch:
    """An account made minutes to hours earlier buys resaleable goods (the dearer
    the better in 40%), 1-2 orders.

    The crew makes its accounts on its own devices (75%) behind its own proxies
    (60%) and ships to its drops (60%): account after account on the same kit.
    Cards are new, from the crew's market, sometimes prepaid (16%).
    """
    event, e = split_events(1 + rng.binomial(1, .3, n), n)
    crews = scene.crews
    crew = crews.assign(rng, e)
    t0 = event_starts(rng, world.window, 2 * HOUR, crews.utc_offset[crew])
    t = np.minimum(t0[event] + burst_offsets(rng.exponential(30 * MINUTE, n).astype(np.int64), event),
                   world.window.end - 1)
    market = crews.country[crew]
    cards = new_cards(rng, ids, world.bins, market, NEW_ACCOUNT_FUNDING)
    buyers = fraud_accounts(rng, ids, account_creation(rng, t0, aged_share=0.0), t0, market)
    device, channel = crews.devices(rng, ids, crew, reuse=.75, web_share=.45)
    ip = np.where(rng.random(e) < .85, crews.ips(rng, crew, market, reuse=.6), crews.origin_ips(rng, crew))
    post, t = pick_posts(rng, world.posts, scene.crowd, t, np.where(rng.random(n) < .4, "dear", "resale"))
    address, address_country = crews.addresses(rng, ids, crew, reuse=.6)
    return fraud_batch(rng, FraudPlan(
        pattern="new_account_high_value", t=t, buyers=buyers, buyer=event, sellers=world.sellers,
        posts=world.posts, post=post, device=device[event], channel=channel[event], ip=ip[event], cards=cards,
        card=event, address=address[event], address_country=address_country[event],
        matches_billing=(rng.random(e) < .5)[event], quantity=rng.choice([1, 2], size=n, p=[.85, .15]),
    ))
