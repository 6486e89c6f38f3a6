"""What is learned about orders later, and when.

    fraud  -> 10% never reported; else fraud_chargeback (70%, processor, 20-60 days)
              or confirmed_fraud (30%, analyst 60% / seller 40%, 2-20 days)
    regret -> refund (75%, buyer, 1-14 days) or dispute (25%, processor, 15-45 days)
    other genuine orders -> confirmed_legit (analyst, 1-5 days) for 0.2%, or 2.2%
              of those that look suspicious (new account, shipping mismatch,
              IP abroad): analysts review what looks odd.
"""

from dataclasses import dataclass

import numpy as np

from risk.contract import OUTCOME_KINDS, OUTCOME_SOURCES

from .clock import DAY, NAT
from .schema import Batch

KINDS: tuple[str, ...] = OUTCOME_KINDS
SOURCES: tuple[str, ...] = OUTCOME_SOURCES
_KIND = {name: code for code, name in enumerate(KINDS)}
_SOURCE = {name: code for code, name in enumerate(SOURCES)}
UNREPORTED_FRAUD = .10


@dataclass(frozen=True)
class Outcomes:
    """Outcome rows: the order's row in the batch, kind and source codes, time."""

    row: np.ndarray
    kind: np.ndarray
    source: np.ndarray
    reported_at: np.ndarray


def _delays(rng: np.random.Generator, low_days: np.ndarray, high_days: np.ndarray) -> np.ndarray:
    return (rng.uniform(low_days, high_days) * DAY).astype(np.int64)


def fraud_outcomes(rng: np.random.Generator, rows: np.ndarray) -> np.ndarray:
    """Stacked (row, kind, source, delay) for the reported share of fraud orders."""
    rows = rows[rng.random(rows.size) >= UNREPORTED_FRAUD]
    chargeback = rng.random(rows.size) < .7
    kind = np.where(chargeback, _KIND["fraud_chargeback"], _KIND["confirmed_fraud"])
    confirmer = np.where(rng.random(rows.size) < .6, _SOURCE["analyst"], _SOURCE["seller"])
    source = np.where(chargeback, _SOURCE["processor"], confirmer)
    delay = _delays(rng, np.where(chargeback, 20, 2), np.where(chargeback, 60, 20))
    return np.stack([rows, kind, source, delay])


def regret_outcomes(rng: np.random.Generator, rows: np.ndarray) -> np.ndarray:
    """Refunds come from the buyer within two weeks; disputes later, via the processor."""
    refund = rng.random(rows.size) < .75
    delay = _delays(rng, np.where(refund, 1, 15), np.where(refund, 14, 45))
    kind = np.where(refund, _KIND["refund"], _KIND["dispute"])
    source = np.where(refund, _SOURCE["buyer"], _SOURCE["processor"])
    return np.stack([rows, kind, source, delay])


def suspicious(batch: Batch) -> np.ndarray:
    """Genuine orders an analyst would look at: young account, odd shipping, IP abroad."""
    created = batch["buyer_created_at"]
    young = (created != NAT) & (batch["created_at"] - created < 7 * DAY)
    mismatch = batch["shipping_matches_billing"] == 0
    ip_country, country = batch["session_ip_country"], batch["buyer_country"]
    abroad = (ip_country >= 0) & (country >= 0) & (ip_country != country)
    return young | mismatch | abroad


def legit_outcomes(rng: np.random.Generator, batch: Batch, candidates: np.ndarray) -> np.ndarray:
    """Analyst confirmations of genuine orders, mostly of suspicious-looking ones."""
    p = np.where(suspicious(batch), .022, .002)
    rows = np.flatnonzero(candidates & (rng.random(candidates.size) < p))
    delay = _delays(rng, np.full(rows.size, 1), np.full(rows.size, 5))
    kind, source = np.full(rows.size, _KIND["confirmed_legit"]), np.full(rows.size, _SOURCE["analyst"])
    return np.stack([rows, kind, source, delay])


def draw_outcomes(rng: np.random.Generator, batch: Batch, regret: np.ndarray) -> Outcomes:
    """All outcomes, sorted by the time they are reported."""
    fraud = batch["_pattern"] > 0
    parts = np.concatenate([
        fraud_outcomes(rng, np.flatnonzero(fraud)),
        regret_outcomes(rng, np.flatnonzero(regret)),
        legit_outcomes(rng, batch, ~fraud & ~regret),
    ], axis=1)
    reported = batch["created_at"][parts[0]] + parts[3]
    order = np.argsort(reported, kind="stable")
    return Outcomes(row=parts[0][order], kind=parts[1][order].astype(np.int16),
                    source=parts[2][order].astype(np.int16), reported_at=reported[order])
