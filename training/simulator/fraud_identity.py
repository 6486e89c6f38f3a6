"""Account fraud: takeovers of old genuine accounts, and brand-new accounts cashing out.

Takeovers are visible as a break with the account's own history (new device,
country, address, a much higher amount); new accounts as newness itself, which
genuine sign-ups share, so it is a noisy signal.
"""

import numpy as np

from .accounts import fraud_accounts
from .belongings import mostly_home
from .clock import DAY, HOUR, MINUTE, Window, duration
from .fraud_kit import (
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
from .instruments import ip_addresses, new_cards
from .sampling import choose_weighted, split_events
from .schema import Batch
from .tables import blend, take_rows
from .world import World

NEW_ACCOUNT_FUNDING = np.array([.45, .18, .35, .02])  # prepaid cards are easy to get


def takeover_victims(rng: np.random.Generator, world: World, n: int) -> np.ndarray:
    """Established (180+ days), active accounts: they have a history to break."""
    buyers = world.buyers
    old = buyers.created_at < world.window.start - 180 * DAY
    weight = buyers.activity * old if old.any() else buyers.activity
    return choose_weighted(rng, weight, n)


def account_takeover(rng: np.random.Generator, world: World, ids: IdAllocator, n: int) -> Batch:
    """1-4 orders (~2 h apart) from an old genuine account in its attacker's hands.

    New device, an IP abroad (60% a fraud-origin country), the victim's own saved
    card (65%) or a stolen one, resale goods (80%) to a new address.
    Takeovers start after the first fifth of the window, once victims have history.
    """
    event, e = split_events(1 + rng.poisson(1.2, n), n)
    window = world.window
    t0 = event_starts(rng, Window(window.start + window.length // 5, window.end), e, 6 * HOUR)
    gaps = rng.exponential(2 * HOUR, n).astype(np.int64)
    t = np.minimum(t0[event] + burst_offsets(gaps, event), window.end - 1)
    victim = takeover_victims(rng, world, e)
    home = world.buyers.home_country[victim]
    origin = rng.choice(FRAUD_ORIGIN_COUNTRIES, size=e)
    ip_country = np.where(rng.random(e) < .6, origin, mostly_home(rng, home, 1.0))
    owned = world.belongings
    cards = blend(rng.random(e) < .65, take_rows(owned.cards, owned.card_of.first[victim]),
                  new_cards(rng, ids, world.bins, home, np.array([.75, .20, .03, .02])))
    device, channel = fresh_devices(rng, ids, e, web_share=.6)
    post, t = pick_posts(rng, world.posts, t, np.where(rng.random(n) < .8, "resale", "any"))
    address_country = np.where(rng.random(e) < .6, home, ip_country)
    return fraud_batch(rng, FraudPlan(
        pattern="account_takeover", t=t, buyers=world.buyers, buyer=victim[event], sellers=world.sellers,
        posts=world.posts, post=post, device=device[event], channel=channel[event],
        ip=ip_addresses(rng, ip_country, ipv6_share=.1)[event], cards=cards, card=event,
        address=ids.take("address", e)[event], address_country=address_country[event],
        matches_billing=(rng.random(e) < .05)[event],
        quantity=rng.choice([1, 2, 3], size=n, p=[.6, .25, .15]),
    ))


def new_account_high_value(rng: np.random.Generator, world: World, ids: IdAllocator, n: int) -> Batch:
    """An account made minutes to hours earlier buys resaleable goods, 1-2 orders.

    Cards are often prepaid (35%); the IP mostly looks local (60%), so the row
    alone resembles a keen genuine sign-up.
    """
    event, e = split_events(1 + rng.binomial(1, .3, n), n)
    t0 = event_starts(rng, world.window, e, 2 * HOUR)
    t = np.minimum(t0[event] + burst_offsets(rng.exponential(30 * MINUTE, n).astype(np.int64), event),
                   world.window.end - 1)
    cards = new_cards(rng, ids, world.bins, draw_countries(rng, BUYER_COUNTRY_SHARES, e), NEW_ACCOUNT_FUNDING)
    country = np.where(rng.random(e) < .85, cards.country, rng.choice(FRAUD_ORIGIN_COUNTRIES, size=e))
    buyers = fraud_accounts(rng, ids, t0 - duration(rng, 40 * MINUTE, 1.2, e), country)
    device, channel = fresh_devices(rng, ids, e, web_share=.5)
    post, t = pick_posts(rng, world.posts, t, np.full(n, "resale"))
    return fraud_batch(rng, FraudPlan(
        pattern="new_account_high_value", t=t, buyers=buyers, buyer=event, sellers=world.sellers,
        posts=world.posts, post=post, device=device[event], channel=channel[event],
        ip=fraud_ips(rng, cards.country, origin_share=.4)[event], cards=cards, card=event,
        address=ids.take("address", e)[event], address_country=country[event],
        matches_billing=(rng.random(e) < .45)[event], quantity=rng.choice([1, 2], size=n, p=[.75, .25]),
    ))
