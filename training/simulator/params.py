"""The parameters of a simulated world: the fixed one the simulator always had, or one drawn per seed.

A model, a feature or a training choice tuned on one world learns that world's quirks.
`varied` draws, from the seed, what a real platform would not know in advance and what
differs between platforms and over time: how much fraud there is and of which kinds, how
much of it is ever reported, how long each outcome kind takes to arrive (log-normal delays
with drawn medians and spreads, where the fixed world has uniform windows), how common
regret is, friendly fraud (genuine buyers who regret and file a fraud chargeback: label
noise a model cannot remove), noise in the fields (devices and addresses not captured, IP
countries wrong), and drift across the window (fraud and regret rising or falling).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

WORLDS = ("fixed", "varied")

FIXED_PATTERN_SHARES: dict[str, float] = {
    "stolen_card": .35,
    "card_testing": .20,
    "account_takeover": .15,
    "fraud_ring": .15,
    "new_account_high_value": .15,
}


@dataclass(frozen=True)
class Delay:
    """A reporting delay in days: uniform on [a, b], or log-normal with median a and log-sd b."""

    shape: str  # "uniform" or "lognormal"
    a: float
    b: float

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Delays in days; log-normal ones at least an hour and at most 180 days."""
        if self.shape == "uniform":
            return rng.uniform(np.full(n, self.a), np.full(n, self.b))
        return np.clip(self.a * np.exp(self.b * rng.standard_normal(n)), 1 / 24, 180.0)


FIXED_DELAYS: dict[str, Delay] = {
    "fraud_chargeback": Delay("uniform", 20, 60),
    "confirmed_fraud": Delay("uniform", 2, 20),
    "refund": Delay("uniform", 1, 14),
    "dispute": Delay("uniform", 15, 45),
    "confirmed_legit": Delay("uniform", 1, 5),
}


@dataclass(frozen=True)
class WorldParams:
    """Everything `varied` draws; the defaults are the fixed world."""

    fraud_share: float = .008  # of all orders
    pattern_shares: dict[str, float] = field(default_factory=lambda: dict(FIXED_PATTERN_SHARES))
    unreported_fraud: float = .10
    chargeback_share: float = .70  # of reported fraud; the rest is confirmed by analysts or sellers
    refund_share: float = .75  # of regret; the rest are disputes
    regret_share: float = .04  # of genuine orders
    delays: dict[str, Delay] = field(default_factory=lambda: dict(FIXED_DELAYS))
    friendly_fraud: float = 0.0  # share of regretted orders reported as fraud chargebacks
    field_noise: float = 0.0  # share of orders with device/address not captured; half that with a wrong IP country
    fraud_drift: float = 0.0  # in (-1, 1): fraud at the window's end vs its start is (1 + d) / (1 - d)
    regret_drift: float = 0.0  # added to regret log-odds, from -d at the start to +d at the end

    def describe(self) -> dict[str, object]:
        return {"fraud_share": round(self.fraud_share, 5),
                "pattern_shares": {k: round(v, 3) for k, v in self.pattern_shares.items()},
                "unreported_fraud": round(self.unreported_fraud, 3), "regret_share": round(self.regret_share, 4),
                "friendly_fraud": round(self.friendly_fraud, 3), "field_noise": round(self.field_noise, 3),
                "fraud_drift": round(self.fraud_drift, 3), "regret_drift": round(self.regret_drift, 3),
                "delays": {k: (d.shape, round(d.a, 2), round(d.b, 2)) for k, d in self.delays.items()}}


def varied_params(seed: int) -> WorldParams:
    """A world drawn from the seed (its own stream: the simulation's draws stay the seed's own)."""
    rng = np.random.default_rng([seed, 0x5EED])
    shares = rng.dirichlet(np.full(len(FIXED_PATTERN_SHARES), 2.0))
    return WorldParams(
        fraud_share=float(math.exp(rng.uniform(math.log(.003), math.log(.02)))),
        pattern_shares=dict(zip(FIXED_PATTERN_SHARES, shares.tolist(), strict=True)),
        unreported_fraud=float(rng.uniform(.03, .30)),
        chargeback_share=float(rng.uniform(.45, .90)),
        refund_share=float(rng.uniform(.55, .90)),
        regret_share=float(rng.uniform(.02, .08)),
        delays={
            "fraud_chargeback": Delay("lognormal", float(rng.uniform(18, 50)), float(rng.uniform(.2, .6))),
            "confirmed_fraud": Delay("lognormal", float(rng.uniform(2, 14)), float(rng.uniform(.4, 1.0))),
            "refund": Delay("lognormal", float(rng.uniform(2, 10)), float(rng.uniform(.4, .9))),
            "dispute": Delay("lognormal", float(rng.uniform(15, 40)), float(rng.uniform(.2, .6))),
            "confirmed_legit": Delay("lognormal", float(rng.uniform(1, 5)), float(rng.uniform(.3, .8))),
        },
        friendly_fraud=float(rng.uniform(0, .06)),
        field_noise=float(rng.uniform(0, .10)),
        fraud_drift=float(rng.uniform(-.5, .5)),
        regret_drift=float(rng.uniform(-.5, .5)),
    )


def world_params(world: str | WorldParams, seed: int) -> WorldParams:
    """The parameters a `world` argument names: "fixed", "varied" (drawn from the seed), or given."""
    if isinstance(world, WorldParams):
        return world
    if world == "fixed":
        return WorldParams()
    if world == "varied":
        return varied_params(seed)
    raise ValueError(f"world {world!r}: use one of {', '.join(WORLDS)}")
