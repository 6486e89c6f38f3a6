"""What one world is like: every rate, mix, delay and drift, drawn from the seed.

A platform does not know these in advance, so no two seeds share them: the fraud rate
and the mix of attacks, how often a victim notices, how fast each kind of outcome is
reported, how impulsive purchases turn into refunds, how much noise the fields carry,
and how all of it drifts across the window. Ranges follow what payment and marketplace
teams report: fraud 0.5-1% of orders, regret (refunds and disputes) 3-5%, fraud
chargebacks weeks to months after the order, refunds within days.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PATTERNS = ("account_takeover", "stolen_cards", "card_testing", "ring")


@dataclass(frozen=True)
class Delay:
    """A reporting delay: log-normal with this median (days) and log-spread, never under `floor_hours`."""

    median_days: float
    sigma: float
    floor_hours: float = 2.0

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        days = self.median_days * np.exp(self.sigma * rng.standard_normal(n))
        return np.maximum(days * 86_400.0, self.floor_hours * 3_600.0)


@dataclass(frozen=True)
class World:
    """The parameters of one world (all probabilities are per order unless said otherwise)."""

    seed: int
    fraud_rate: float  # share of orders that end with a fraud outcome
    friendly_share: float  # of those, the share from genuine buyers disowning their own purchase
    pattern_mix: dict[str, float]  # how the rest of fraud splits over the attack patterns
    notice: dict[str, float]  # chance that a fraudulent order of a pattern is ever reported as fraud
    misreported: float  # of unnoticed-as-fraud attack orders, the share disputed with a non-fraud reason
    late_pattern: str | None  # an attack that starts only mid-window (new to the platform), if any
    late_start: float  # ... from this share of the window on
    fraud_trend: float  # campaign density at the end vs the start is (1 + trend) / (1 - trend)
    mimicry_start: float  # chance a crew uses aged accounts and same-country proxies, early in the window
    mimicry_end: float  # ... and at its end (fraudsters adapt)
    regret_rate: float  # share of genuine orders undone by a refund or dispute
    regret_effects: dict[str, float]  # log-odds weight of each impulse signal
    regret_drift: float  # regret log-odds move by this much from the start to the end of the window
    confirmed_share: float  # of fraud outcomes, the share confirmed by an analyst or seller (fast)
    dispute_share: float  # of regret outcomes, the share that are disputes (slow) rather than refunds
    delays: dict[str, Delay]  # per outcome kind
    legit_confirmations: float  # share of unremarkable orders an analyst marks confirmed_legit
    missing: dict[str, float] = field(default_factory=dict)  # per flat column, share left unknown
    wrong_ip_country: float = 0.0  # geo-IP errors


def draw_world(seed: int) -> World:
    """The world of `seed`: a separate random stream from the one that draws the orders."""
    rng = np.random.default_rng([seed, 20_261_201])
    u = rng.uniform
    mix = rng.dirichlet(np.full(len(PATTERNS), 1.5))
    late = PATTERNS[int(rng.integers(len(PATTERNS)))] if u() < 0.5 else None
    return World(
        seed=seed,
        fraud_rate=float(np.exp(u(np.log(0.005), np.log(0.011)))),
        friendly_share=u(0.08, 0.3),
        pattern_mix={p: float(m) for p, m in zip(PATTERNS, mix, strict=True)},
        notice={"account_takeover": u(0.75, 0.97), "stolen_cards": u(0.6, 0.92), "card_testing": u(0.2, 0.55),
                "ring": u(0.55, 0.9)},
        misreported=u(0.05, 0.3),
        late_pattern=late,
        late_start=u(0.22, 0.55),
        fraud_trend=u(-0.5, 0.5),
        mimicry_start=u(0.05, 0.35),
        mimicry_end=u(0.25, 0.75),
        regret_rate=u(0.03, 0.05),
        regret_effects={
            "impulsive_buyer": u(0.5, 1.2), "fast_purchase": u(0.2, 0.8), "slow_purchase": u(0.1, 0.4),
            "late_night": u(0.2, 0.7), "promoted": u(0.15, 0.6), "above_usual_price": u(0.3, 0.8),
            "seller_quality": u(0.6, 1.2), "first_from_seller": u(0.1, 0.5), "buyer_habit": u(0.4, 0.9),
            "hype": u(0.0, 0.4),
        },
        regret_drift=u(-0.6, 0.6),
        confirmed_share=u(0.08, 0.35),
        dispute_share=u(0.12, 0.35),
        delays={
            "fraud_chargeback": Delay(u(22, 50), u(0.4, 0.7), 24.0),
            "confirmed_fraud": Delay(u(2, 12), u(0.6, 1.0)),
            "refund": Delay(u(2, 8), u(0.5, 0.9)),
            "dispute": Delay(u(14, 35), u(0.35, 0.6), 24.0),
            "confirmed_legit": Delay(u(1, 10), u(0.5, 0.9)),
        },
        legit_confirmations=u(0.002, 0.015),
        missing={
            "session_device_id": u(0.01, 0.08), "session_ip": u(0.005, 0.04), "session_post_viewed_at": u(0.05, 0.25),
            "buyer_created_at": u(0.0, 0.03), "buyer_email_verified": u(0.0, 0.08), "buyer_phone_verified": u(0.0, 0.1),
            "buyer_followers": u(0.0, 0.15), "buyer_following": u(0.0, 0.15), "payment_card_bin": u(0.0, 0.03),
            "payment_funding": u(0.0, 0.06), "shipping_address_hash": u(0.0, 0.03), "seller_followers": u(0.0, 0.05),
            "post_views": u(0.0, 0.1), "buyer_email_domain": u(0.0, 0.05),
        },
        wrong_ip_country=u(0.0, 0.05),
    )
