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
from .params import WorldParams
from .schema import Batch

KINDS: tuple[str, ...] = OUTCOME_KINDS
SOURCES: tuple[str, ...] = OUTCOME_SOURCES
_KIND = {name: code for code, name in enumerate(KINDS)}
_SOURCE = {name: code for code, name in enumerate(SOURCES)}
UNREPORTED_FRAUD = WorldParams().unreported_fraud  # in the fixed world


@dataclass(frozen=True)
class Outcomes:
    """Outcome rows: the order's row in the batch, kind and source codes, time."""

    row: np.ndarray
    kind: np.ndarray
    source: np.ndarray
    reported_at: np.ndarray


def _delays(rng: np.random.Generator, kind: np.ndarray, params: WorldParams) -> np.ndarray:
    """Reporting delays of outcomes of these kinds. Uniform windows are drawn in one call (as the fixed
    world always was, so its output stays the same); other shapes kind by kind."""
    specs = [params.delays[name] for name in KINDS]
    if all(spec.shape == "uniform" for spec in specs):
        low, high = np.array([spec.a for spec in specs]), np.array([spec.b for spec in specs])
        return (rng.uniform(low[kind], high[kind]) * DAY).astype(np.int64)
    days = np.zeros(kind.size)
    for code, spec in enumerate(specs):
        at = kind == code
        days[at] = spec.draw(rng, int(at.sum()))
    return (days * DAY).astype(np.int64)


def fraud_outcomes(rng: np.random.Generator, rows: np.ndarray, params: WorldParams | None = None) -> np.ndarray:
    """Stacked (row, kind, source, delay) for the reported share of fraud orders."""
    params = params or WorldParams()
    rows = rows[rng.random(rows.size) >= params.unreported_fraud]
    chargeback = rng.random(rows.size) < params.chargeback_share
    kind = np.where(chargeback, _KIND["fraud_chargeback"], _KIND["confirmed_fraud"])
    confirmer = np.where(rng.random(rows.size) < .6, _SOURCE["analyst"], _SOURCE["seller"])
    source = np.where(chargeback, _SOURCE["processor"], confirmer)
    delay = _delays(rng, kind, params)
    return np.stack([rows, kind, source, delay])


def regret_outcomes(rng: np.random.Generator, rows: np.ndarray, params: WorldParams | None = None) -> np.ndarray:
    """Refunds come from the buyer within two weeks; disputes later, via the processor."""
    params = params or WorldParams()
    refund = rng.random(rows.size) < params.refund_share
    kind = np.where(refund, _KIND["refund"], _KIND["dispute"])
    delay = _delays(rng, kind, params)
    source = np.where(refund, _SOURCE["buyer"], _SOURCE["processor"])
    return np.stack([rows, kind, source, delay])


def friendly_fraud(rng: np.random.Generator, regret: np.ndarray, params: WorldParams) -> np.ndarray:
    """A share of regret outcomes turned into fraud chargebacks ("I never made this order"), with a
    chargeback's delay: genuine buyers' label noise, which no model can tell from fraud."""
    turned = rng.random(regret.shape[1]) < params.friendly_fraud
    out = regret.copy()
    out[1, turned] = _KIND["fraud_chargeback"]
    out[2, turned] = _SOURCE["processor"]
    out[3, turned] = _delays(rng, out[1, turned], params)
    return out


def suspicious(batch: Batch) -> np.ndarray:
    """Genuine orders an analyst would look at: young account, odd shipping, IP abroad."""
    created = batch["buyer_created_at"]
    young = (created != NAT) & (batch["created_at"] - created < 7 * DAY)
    mismatch = batch["shipping_matches_billing"] == 0
    ip_country, country = batch["session_ip_country"], batch["buyer_country"]
    abroad = (ip_country >= 0) & (country >= 0) & (ip_country != country)
    return young | mismatch | abroad


def legit_outcomes(rng: np.random.Generator, batch: Batch, candidates: np.ndarray,
                   params: WorldParams | None = None) -> np.ndarray:
    """Analyst confirmations of genuine orders, mostly of suspicious-looking ones."""
    p = np.where(suspicious(batch), .022, .002)
    rows = np.flatnonzero(candidates & (rng.random(candidates.size) < p))
    kind, source = np.full(rows.size, _KIND["confirmed_legit"]), np.full(rows.size, _SOURCE["analyst"])
    delay = _delays(rng, kind, params or WorldParams())
    return np.stack([rows, kind, source, delay])


def draw_outcomes(rng: np.random.Generator, batch: Batch, regret: np.ndarray, params: WorldParams | None = None,
                  extra_rng: np.random.Generator | None = None) -> Outcomes:
    """All outcomes, sorted by the time they are reported (`extra_rng` draws friendly fraud, if any)."""
    params = params or WorldParams()
    fraud = batch["_pattern"] > 0
    frauds = fraud_outcomes(rng, np.flatnonzero(fraud), params)  # draws in the fixed world's order
    regretted = regret_outcomes(rng, np.flatnonzero(regret), params)
    if params.friendly_fraud > 0 and extra_rng is not None:
        regretted = friendly_fraud(extra_rng, regretted, params)
    parts = np.concatenate([
        frauds,
        regretted,
        legit_outcomes(rng, batch, ~fraud & ~regret, params),
    ], axis=1)
    reported = batch["created_at"][parts[0]] + parts[3]
    order = np.argsort(reported, kind="stable")
    return Outcomes(row=parts[0][order], kind=parts[1][order].astype(np.int16),
                    source=parts[2][order].astype(np.int16), reported_at=reported[order])
