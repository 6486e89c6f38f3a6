"""Buyer and seller accounts: who they are and what the platform knows about them.

Each entity keeps its true attributes (used to generate behaviour) next to the
reported ones (what an order carries; -1 or NAT where the platform does not
know). A field is unknown for an account on every one of its orders.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .catalog import N_PRICE_TIERS
from .clock import DAY, NAT, Window
from .geo import (
    BUYER_COUNTRY_SHARES,
    EMAIL_DOMAINS,
    FRAUD_EMAIL_WEIGHTS,
    GENUINE_EMAIL_WEIGHTS,
    LOCAL_EMAIL_SHARE,
    SELLER_COUNTRY_SHARES,
    UTC_OFFSET_MINUTES,
    draw_countries,
    local_email_table,
)
from .ids import IdAllocator

REGRET_PROPENSITY_SIGMA = 1.4  # spread of personal regret log-odds: serial refunders
NEW_SELLER_SHARE = .10


@dataclass(frozen=True)
class Buyers:
    """Paying accounts; behavioural traits are hidden from the orders."""

    account_id: np.ndarray
    created_at: np.ndarray         # true creation time
    created_reported: np.ndarray
    home_country: np.ndarray
    country_reported: np.ndarray
    email_domain: np.ndarray
    email_verified: np.ndarray
    phone_verified: np.ndarray
    followers: np.ndarray
    following: np.ndarray
    activity: np.ndarray           # relative order rate
    habit_tier: np.ndarray         # price band the buyer usually shops in
    habit_amount: np.ndarray       # typical order amount, cents
    regret_propensity: np.ndarray  # personal regret log-odds (serial refunders)

    @property
    def utc_offset(self) -> np.ndarray:
        return UTC_OFFSET_MINUTES[self.home_country]


@dataclass(frozen=True)
class Sellers:
    """Accounts that publish posts and receive the money."""

    account_id: np.ndarray
    created_at: np.ndarray
    created_reported: np.ndarray
    home_country: np.ndarray
    country_reported: np.ndarray
    verified: np.ndarray
    followers: np.ndarray          # true audience
    followers_reported: np.ndarray


def hide(rng: np.random.Generator, values: np.ndarray, rate: float, missing: int) -> np.ndarray:
    """A copy of `values` with a `rate` share replaced by the missing marker."""
    return np.where(rng.random(values.size) < rate, missing, values).astype(values.dtype)


def bernoulli(rng: np.random.Generator, p: np.ndarray | float, size: int) -> np.ndarray:
    """0/1 draws as int8, the internal encoding of a known boolean."""
    return (rng.random(size) < p).astype(np.int8)


def email_domains(rng: np.random.Generator, country: np.ndarray, genuine: bool) -> np.ndarray:
    """E-mail domain codes; genuine buyers often use their country's providers."""
    weights = GENUINE_EMAIL_WEIGHTS if genuine else FRAUD_EMAIL_WEIGHTS
    domain = rng.choice(len(EMAIL_DOMAINS), size=country.size, p=weights / weights.sum())
    if genuine:
        local = local_email_table()[country, rng.integers(0, 2, country.size)]
        use_local = (local >= 0) & (rng.random(country.size) < LOCAL_EMAIL_SHARE)
        domain = np.where(use_local, local, domain)
    return domain.astype(np.int16)


NEW_BUYER_SHARE = .15  # genuine accounts signing up during the window
YOUNG = 30 * DAY        # accounts younger than this have a sign-up's thin profile


@dataclass(frozen=True)
class Profile:
    """What an account shows about itself, as a function of its age only."""

    followers: np.ndarray
    following: np.ndarray
    email_verified: np.ndarray
    phone_verified: np.ndarray


def account_profiles(rng: np.random.Generator, age: np.ndarray) -> Profile:
    """Audience and verification of accounts of the given ages (ns, negative for sign-ups).

    Genuine and fraud accounts draw from this same law: fraudsters buy or age
    accounts, so an old account with followers and a verified e-mail is no proof
    of honesty, and a fresh unverified one no proof of fraud.
    """
    n = age.size
    seniority = np.clip(age / (365 * DAY), 0, 1)
    young = age < YOUNG
    followers = np.where(rng.random(n) < .12, 0, 60 * np.exp(1.6 * rng.standard_normal(n)))
    followers = np.where(young, rng.geometric(.2, n) - 1, followers).astype(np.int64)
    following = (150 * np.exp(rng.standard_normal(n)) * np.where(young, .1, 1)).astype(np.int64)
    return Profile(followers=followers, following=following,
                   email_verified=bernoulli(rng, .6 + .35 * seniority, n),
                   phone_verified=bernoulli(rng, .3 + .45 * seniority, n))


def build_buyers(
    rng: np.random.Generator, ids: IdAllocator, n: int, window: Window, tier_medians: np.ndarray
) -> Buyers:
    """Genuine buyers: mostly established accounts, 15% signing up during the window.

    Sign-ups get a provisional creation time; `settle_signups` moves it to just
    before their first order. They shop more than others (they came to buy).
    """
    country = draw_countries(rng, BUYER_COUNTRY_SHARES, n)
    new = rng.random(n) < NEW_BUYER_SHARE
    age = np.clip(500 * np.exp(1.0 * rng.standard_normal(n)), 1, 12 * 365) * DAY
    created = np.where(new, window.start + (rng.random(n) * window.length).astype(np.int64),
                       window.start - age.astype(np.int64))
    profile = account_profiles(rng, np.where(new, -1, window.start - created))
    hidden_social = rng.random(n) < .04
    tier = rng.integers(0, N_PRICE_TIERS, n).astype(np.int8)
    return Buyers(
        **_buyer_identity(rng, ids, created, country.astype(np.int16), profile, genuine=True),
        followers=np.where(hidden_social, -1, profile.followers),
        following=np.where(hidden_social, -1, profile.following),
        activity=np.exp(.8 * rng.standard_normal(n)) * np.where(new, 2.0, 1.0),
        habit_tier=tier,
        habit_amount=tier_medians[tier] * 1.15 * np.exp(.25 * rng.standard_normal(n)),
        regret_propensity=REGRET_PROPENSITY_SIGMA * rng.standard_normal(n),
    )


def _buyer_identity(
    rng: np.random.Generator, ids: IdAllocator, created: np.ndarray, country: np.ndarray, profile: Profile,
    *, genuine: bool,
) -> dict[str, np.ndarray]:
    """Who a buyer account says it is, with the fields an order may leave out hidden at their rates.

    Genuine and fraud accounts go through this one function (in this order of draws):
    only the e-mail provider depends on which they are.
    """
    n = created.size
    return {
        "account_id": ids.take("account", n),
        "created_at": created,
        "created_reported": hide(rng, created, .01, NAT),
        "home_country": country,
        "country_reported": hide(rng, country, .02, -1),
        "email_domain": hide(rng, email_domains(rng, country, genuine=genuine), .02, -1),
        "email_verified": hide(rng, profile.email_verified, .02, -1),
        "phone_verified": hide(rng, profile.phone_verified, .03, -1),
    }


def settle_signups(buyers: Buyers, first_order_at: np.ndarray, gap: np.ndarray) -> Buyers:
    """Creation moved to `gap` before the first order where it came after it.

    Sign-ups typically buy soon after creating the account; this also keeps
    every account older than each of its orders.
    """
    has_orders = first_order_at != NAT
    created = np.where(has_orders, np.minimum(buyers.created_at, first_order_at - gap), buyers.created_at)
    reported = np.where(buyers.created_reported == NAT, NAT, created)
    return replace(buyers, created_at=created, created_reported=reported)


def fraud_accounts(
    rng: np.random.Generator, ids: IdAllocator, created_at: np.ndarray, first_use: np.ndarray,
    country: np.ndarray,
) -> Buyers:
    """Accounts used for fraud, made (or bought) at `created_at` and first used at `first_use`.

    Their audience and verification follow the genuine law for their age; only
    the e-mail provider (not a feature) leans towards disposable domains.
    """
    n = created_at.size
    country = country.astype(np.int16)
    profile = account_profiles(rng, first_use - created_at)
    return Buyers(
        **_buyer_identity(rng, ids, created_at, country, profile, genuine=False),
        followers=np.where(rng.random(n) < .04, -1, profile.followers),
        following=profile.following,
        activity=np.zeros(n),
        habit_tier=np.zeros(n, dtype=np.int8),
        habit_amount=np.full(n, np.nan),
        regret_propensity=np.zeros(n),
    )


def build_sellers(rng: np.random.Generator, ids: IdAllocator, n: int, window: Window) -> Sellers:
    """Sellers: heavy-tailed audiences, big ones verified, 10% brand new."""
    country = draw_countries(rng, SELLER_COUNTRY_SHARES, n)
    new = rng.random(n) < NEW_SELLER_SHARE
    new_from = window.start - 14 * DAY
    new_created = new_from + (rng.random(n) * (window.end - DAY - new_from)).astype(np.int64)
    age = np.maximum(600 * np.exp(.8 * rng.standard_normal(n)), 20) * DAY
    created = np.where(new, new_created, window.start - age.astype(np.int64))
    followers = np.where(new, 40 * np.exp(1.2 * rng.standard_normal(n)),
                         1500 * np.exp(1.8 * rng.standard_normal(n))).astype(np.int64)
    p_verified = np.where(new, 0.0, 1 / (1 + np.exp(9.5 - np.log1p(followers))))
    return _sellers(rng, ids, created, country, followers, lambda: bernoulli(rng, p_verified, n))


def colluding_sellers(
    rng: np.random.Generator, ids: IdAllocator, created_at: np.ndarray, country: np.ndarray
) -> Sellers:
    """Seller accounts set up (or bought) by a fraud ring to receive its money.

    They look like ordinary small sellers: a bought or farmed audience of a few
    hundred, no badge.
    """
    n = created_at.size
    followers = (300 * np.exp(1.3 * rng.standard_normal(n))).astype(np.int64)
    return _sellers(rng, ids, created_at, country, followers, lambda: np.zeros(n, dtype=np.int8))


def _sellers(
    rng: np.random.Generator, ids: IdAllocator, created: np.ndarray, country: np.ndarray, followers: np.ndarray,
    verified: Callable[[], np.ndarray],
) -> Sellers:
    """Seller accounts as orders show them, optional fields hidden at their rates.

    `verified` draws the badges when its turn comes, so every seller kind keeps one order of draws.
    """
    n = created.size
    return Sellers(
        account_id=ids.take("account", n),
        created_at=created,
        created_reported=hide(rng, created, .02, NAT),
        home_country=country.astype(np.int16),
        country_reported=hide(rng, country.astype(np.int16), .03, -1),
        verified=hide(rng, verified(), .02, -1),
        followers=followers,
        followers_reported=hide(rng, followers, .03, -1),
    )
