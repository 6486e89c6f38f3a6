"""How long outcomes take to be reported, estimated as of a moment, and the weights that correct for it.

A model trained as of `as_of` sees an order of age `a` labelled positive only if its
outcome was reported within `a`. Dropping young orders (maturity) throws away the most
recent, most relevant weeks; treating them as negatives teaches the model that fraud is
rarer than it is. This module does neither:

1. **Delay per outcome kind** (`estimate_delays`): for each kind (chargeback, confirmed
   fraud, refund, dispute...) a log-normal delay `reported_at - created_at`, fitted by
   maximum likelihood *under right truncation*: an order of age `A` at `as_of` can only
   have shown delays <= A, so each observed delay `d` contributes `log f(d) - log F(A)`.
   Without that term the fit would favour short delays (long ones of young orders are not
   seen yet). Only outcomes reported by `as_of` are used. Beyond the span of the history
   the fitted shape is an extrapolation: the data cannot say more.
2. **Delay per label**: the mixture of its kinds' delays, each kind weighted by how many of
   its reports will eventually exist: `estimate_delays` counts each observed report for
   1 / F_kind(A) (Horvitz-Thompson), `with_exposure` (what `risk train` uses) the reports over
   the sum of F_kind over every order's age, which does not fall short on the youngest orders.
   Where the history is short beside a kind's delay, how many are still to come is the prior's
   guess: `slow_end` and `LabelDelay.underestimate_up_to` say how far off it may be.
3. **Importance weights** (`delay_weights`), the correction of delayed feedback by
   importance weighting (as in Ktena et al. 2019), written for a known reporting curve F:
   with `p(x)` the eventual positive rate, an order of age `a` is reported positive with
   probability `p F(a)`. Weighting each reported positive by `1 / F(a)` and each order not
   (yet) reported by `(1 - p) / (1 - p F(a))` gives back, in expectation, exactly the masses
   `p` and `1 - p` of the fully reported data, so the Bayes-optimal classifier of the
   weighted data is `p(x)` again. `p` in the negative weight should be the order's own risk:
   with the label's base rate instead (rare, so the weight is within a percent of 1) the
   unreported positives of high-risk orders count as negatives, and on a varied simulated
   world the fraud scores came out at half the observed rate. `risk train` therefore weighs
   twice: base rate first, then each order's risk as the first model scores it (its
   calibrator fitted by training.delay_calibration). Orders whose label is still mostly unreported
   (`F(a) < min_reported`) get weight 0: their positives cannot be observed yet, and no
   weight brings back what is not there (it would only multiply noise). The cut is by age,
   never by outcome, so it biases nothing.

Why not Chapelle's (2014) delayed-feedback model: it fits a joint model of conversion and
delay (an exponential delay per order), which needs its own training loop beside
LightGBM's and assumes an exponential delay, where chargebacks come in a window weeks
after the order. The weighting keeps LightGBM's objective and calibrator as they are.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from risk.contract import FRAUD_KINDS, REGRET_KINDS

LABEL_KINDS: dict[str, tuple[str, ...]] = {"fraud": tuple(FRAUD_KINDS), "regret": tuple(REGRET_KINDS)}
PRIOR_MEDIAN_DAYS, PRIOR_LOG_SD = 14.0, 1.0
PRIOR_SIGMA, PRIOR_SIGMA_LOG_SD = 0.5, 0.7
"""A weak prior on each kind's log-normal delay (median about 5 to 40 days at one standard deviation,
spread 0.25 to 1.0). When the history is shorter than the delays (30 days of history, chargebacks after
20 to 60), the truncated likelihood cannot tell a 40-day median from a 200-day one, and the unpenalised fit
ran off to F(30 days) ~ 0; with a few hundred reports the data outweigh the prior."""
MAX_DELAY_DAYS = 400.0
"""The slowest median delay considered (card networks let a cardholder dispute up to about 120 days after
the charge, so a median beyond a year would be no payment data's)."""
MIN_REPORTS = 5
"""Fewer reports of a kind than this fit no delay: the kind then counts as reported at once (weight 1)."""
DAY_S = 86400.0


@dataclass(frozen=True)
class KindDelay:
    """A log-normal reporting delay, in days: log(delay) ~ N(mu, sigma)."""

    kind: str
    mu: float
    sigma: float
    reports: int  # observed by as-of
    expected_reports: float  # including those still to come (Horvitz-Thompson)
    slow_median_days: float | None = None  # training.label_delay.slow_end: as slow as the reports allow
    slow_sigma: float | None = None
    slow_expected_reports: float | None = None  # expected_reports if the delay were that slow

    def cdf(self, age_days: np.ndarray) -> np.ndarray:
        """The share of this kind's reports that arrive within `age_days` of the order."""
        age = np.maximum(np.asarray(age_days, dtype="float64"), 1e-9)
        return stats.norm.cdf((np.log(age) - self.mu) / self.sigma)

    def median_days(self) -> float:
        return math.exp(self.mu)


@dataclass(frozen=True)
class LabelDelay:
    """The reporting delay of one label: a mixture of its kinds'."""

    label: str
    kinds: tuple[KindDelay, ...]
    base_rate: float  # positives per order, including those still to be reported

    def cdf(self, age_days: np.ndarray) -> np.ndarray:
        """F(a): the share of this label's eventual positives reported within `a` days."""
        age = np.asarray(age_days, dtype="float64")
        total = sum(k.expected_reports for k in self.kinds)
        if total <= 0:
            return np.ones_like(age)
        shares = np.zeros_like(age)
        for k in self.kinds:
            shares = shares + k.expected_reports / total * k.cdf(age)
        return shares

    def age_reaching(self, share: float, horizon_days: float = 400.0) -> float:
        """The youngest age (days) at which at least `share` of positives are reported."""
        if float(self.cdf(np.array([horizon_days]))[0]) < share:
            return horizon_days
        if float(self.cdf(np.array([1e-6]))[0]) >= share:  # kinds reported at once (too few to fit) suffice
            return 0.0
        return float(optimize.brentq(lambda a: float(self.cdf(np.array([a]))[0]) - share, 1e-6, horizon_days))

    def underestimate_up_to(self) -> float:
        """How many times more positives there may be than the fit expects, each kind's delay as slow as its
        reports allow (`slow_end`): about 1 when the history is long beside the delays."""
        expected = sum(k.expected_reports for k in self.kinds)
        slow = sum(k.expected_reports if k.slow_expected_reports is None else max(k.slow_expected_reports,
                                                                                   k.expected_reports)
                   for k in self.kinds)
        return slow / expected if expected > 0 else 1.0

    def slowest_kind(self) -> KindDelay | None:
        """The kind whose slow end adds the most positives still to come (None without any)."""
        gain = {k.kind: (k.slow_expected_reports or 0.0) - k.expected_reports for k in self.kinds}
        return max(self.kinds, key=lambda k: gain[k.kind]) if gain and max(gain.values()) > 0 else None

    def to_dict(self) -> dict[str, object]:
        return {"base_rate": self.base_rate, "underestimate_up_to": round(self.underestimate_up_to(), 3),
                "kinds": {k.kind: {"median_days": round(k.median_days(), 3), "sigma": round(k.sigma, 4),
                                   "reports": k.reports, "expected_reports": round(k.expected_reports, 1),
                                   "slow_median_days": None if k.slow_median_days is None
                                   else round(k.slow_median_days, 1)} for k in self.kinds},
            "reported_share_at_days": {str(d): round(float(self.cdf(np.array([d]))[0]), 4)
                                       for d in (1, 7, 14, 30, 60, 90)}}


def first_reports(orders: pd.DataFrame, outcomes: pd.DataFrame, as_of: pd.Timestamp, label: str) -> pd.DataFrame:
    """Per order, its first report of `label` known at `as_of`: kind, delay and the order's age, in days."""
    known = outcomes[(outcomes["reported_at"] <= as_of) & outcomes["kind"].isin(LABEL_KINDS[label])]
    known = known.sort_values("reported_at", kind="stable").drop_duplicates("order_id")
    created = orders.set_index("order_id")["created_at"]
    joined = known.assign(created_at=created.reindex(known["order_id"]).set_axis(known.index))
    joined = joined.dropna(subset=["created_at"])
    delay = (joined["reported_at"] - joined["created_at"]).dt.total_seconds().to_numpy() / DAY_S
    age = (as_of - joined["created_at"]).dt.total_seconds().to_numpy() / DAY_S
    return pd.DataFrame({"order_id": joined["order_id"].to_numpy(), "kind": joined["kind"].to_numpy(),
                         "delay": np.maximum(delay, 1e-4), "age": np.maximum(age, 1e-4)})


def _penalised_nll(theta: np.ndarray, log_d: np.ndarray, log_a: np.ndarray) -> float:
    """Minus the log posterior of (mu, log sigma): the truncated log-normal likelihood and the weak prior."""
    mu, sigma = theta[0], math.exp(theta[1])
    z_d, z_a = (log_d - mu) / sigma, (log_a - mu) / sigma
    prior = (0.5 * ((mu - math.log(PRIOR_MEDIAN_DAYS)) / PRIOR_LOG_SD) ** 2
             + 0.5 * ((theta[1] - math.log(PRIOR_SIGMA)) / PRIOR_SIGMA_LOG_SD) ** 2)
    return prior - float(np.sum(stats.norm.logpdf(z_d) - math.log(sigma) - stats.norm.logcdf(z_a)))


def fit_truncated_lognormal(delay: np.ndarray, age: np.ndarray) -> tuple[float, float]:
    """(mu, sigma) of log(delay) by maximum likelihood (with a weak prior), each delay observed only because
    it was <= its age."""
    log_d, log_a = np.log(delay), np.log(np.maximum(age, delay))
    start = np.array([float(np.mean(log_d)), math.log(max(float(np.std(log_d)), 0.05))])
    result = optimize.minimize(_penalised_nll, start, args=(log_d, log_a), method="L-BFGS-B",
                               bounds=[(-8.0, 8.0), (math.log(0.02), math.log(5.0))])
    return float(result.x[0]), float(math.exp(result.x[1]))


def slow_end(delay: np.ndarray, age: np.ndarray, mu: float, sigma: float, spread: float = 2.0
             ) -> tuple[float, float]:
    """(mu, sigma) of a delay `spread` posterior standard deviations slower than the fit, as far as the
    reports seen can tell (a Laplace approximation of the posterior: the curvature of `_penalised_nll`).

    Where the history is long beside the delays, the reports pin the median down and this is close to
    the fit; where it is short (30 days of history, chargebacks after 20 to 60), only the fast tail has
    been seen, the curvature is the prior's, and a median several times longer fits as well: how many
    reports are still to come is then not known from the data.
    """
    log_d, log_a = np.log(delay), np.log(np.maximum(age, delay))
    theta, step = np.array([mu, math.log(sigma)]), 1e-3
    hessian = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            e_i, e_j = np.eye(2)[i] * step, np.eye(2)[j] * step
            hessian[i, j] = (_penalised_nll(theta + e_i + e_j, log_d, log_a)
                             - _penalised_nll(theta + e_i - e_j, log_d, log_a)
                             - _penalised_nll(theta - e_i + e_j, log_d, log_a)
                             + _penalised_nll(theta - e_i - e_j, log_d, log_a)) / (4 * step * step)
    try:
        covariance = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        return mu, sigma
    if not covariance[0, 0] > 0:  # the fit ended on a bound (not a minimum inside): nothing to say
        return mu, sigma
    # along the posterior's axis of mu: mu up by `spread` sd, log sigma as it moves with mu
    moved = theta + spread * covariance[:, 0] / math.sqrt(covariance[0, 0])
    return float(min(moved[0], math.log(MAX_DELAY_DAYS))), float(math.exp(np.clip(moved[1], math.log(0.02),
                                                                                   math.log(5.0))))


def estimate_delays(orders: pd.DataFrame, outcomes: pd.DataFrame, as_of: pd.Timestamp) -> dict[str, LabelDelay]:
    """Each label's reporting delay as known at `as_of`, from the outcomes reported by then."""
    history = orders[orders["created_at"] < as_of]
    delays = {}
    for label in LABEL_KINDS:
        reports = first_reports(history, outcomes, as_of, label)
        kinds = []
        for kind, rows in reports.groupby("kind", sort=True):
            delay, age = rows["delay"].to_numpy(), rows["age"].to_numpy()
            mu, sigma = fit_truncated_lognormal(delay, age)
            slow = KindDelay(str(kind), *slow_end(delay, age, mu, sigma), len(rows), 0.0)
            slow_expected = float(np.sum(1.0 / np.maximum(slow.cdf(age), 1e-3)))
            if len(rows) < MIN_REPORTS:
                kinds.append(KindDelay(str(kind), mu=-20.0, sigma=0.02, reports=len(rows),
                                       expected_reports=float(len(rows)), slow_median_days=slow.median_days(),
                                       slow_sigma=slow.sigma, slow_expected_reports=slow_expected))
                continue
            fitted = KindDelay(str(kind), mu, sigma, len(rows), 0.0)
            seen = np.maximum(fitted.cdf(age), 1e-3)
            kinds.append(KindDelay(str(kind), mu, sigma, len(rows), float(np.sum(1.0 / seen)), slow.median_days(),
                                   slow.sigma, slow_expected))
        expected = sum(k.expected_reports for k in kinds)
        delays[label] = LabelDelay(label, tuple(kinds), base_rate=expected / max(len(history), 1))
    return delays


def age_in_days(as_of: pd.Timestamp, created: pd.Series) -> np.ndarray:
    """Each order's age at `as_of`, in days: what the reporting curve and the weights read."""
    return ((as_of - created).dt.total_seconds() / DAY_S).to_numpy()


def with_exposure(delays: dict[str, LabelDelay], age_days: np.ndarray) -> dict[str, LabelDelay]:
    """The delays with each kind's eventual count estimated from every order's exposure, not Horvitz-Thompson.

    `age_days`: the age at as-of of every order before it. Each order's positive of kind `k` is
    reported by its age `a` with probability `F_k(a)`, so with a rate `r_k` per order the reports
    expected by now are `r_k * sum(F_k(a))`: the maximum-likelihood rate is the reports seen over that
    sum. Horvitz-Thompson (each report counts `1 / F_k(a)`) is unbiased in theory only: the youngest
    orders' positives are reported with a chance too small to be seen, so it came out short where
    it matters most (seed 0 of the varied worlds at 90 days, with the world's own delays: 664
    chargebacks expected for 812 eventual, 813 with the exposure; at 60 days 413 vs 522 and 581),
    and a label mixing a slow kind with a fast one leaned to the fast one, its F too early and the
    expected labels too low. The exposure assumes a steady rate over the history (as the weights do).
    """
    age = np.asarray(age_days, dtype="float64")
    out = {}
    for label, delay in delays.items():
        kinds = []
        for k in delay.kinds:
            exposure = float(np.sum(k.cdf(age)))
            expected = k.reports * len(age) / exposure if exposure > 0 else float(k.reports)
            slow = k.slow_expected_reports
            if slow is not None and k.slow_median_days is not None:
                slow_kind = KindDelay(k.kind, math.log(k.slow_median_days), k.slow_sigma or k.sigma, k.reports, 0.0)
                slow_exposure = float(np.sum(slow_kind.cdf(age)))
                slow = k.reports * len(age) / slow_exposure if slow_exposure > 0 else slow
            kinds.append(dataclasses.replace(k, expected_reports=max(expected, float(k.reports)),
                                             slow_expected_reports=slow))
        total = sum(k.expected_reports for k in kinds)
        out[label] = dataclasses.replace(delay, kinds=tuple(kinds), base_rate=total / max(len(age), 1))
    return out


MAX_RISK = 0.95
"""The highest per-order risk a negative's weight uses: an in-sample score of 0.999 would take an order
without a report out of training altogether (weight 0.001), on one model's word."""


def delay_weights(positive: np.ndarray, age_days: np.ndarray, delay: LabelDelay,
                  min_reported: float, risk: np.ndarray | None = None) -> np.ndarray:
    """Importance weights of orders of these ages and reported labels (0: too young to learn from).

    Reported positive: 1 / F(a); not reported (yet): (1 - p) / (1 - p F(a)); see the module.
    `p` is each order's own `risk` if given (a first model's calibrated score), else the label's
    base rate: right on average, but it counts most unreported positives of high-risk orders as
    negatives (training.delay_calibration measures it), so `risk train` weighs twice.
    """
    reported_share = delay.cdf(age_days)
    p = min(delay.base_rate, 0.5) if risk is None else np.clip(np.asarray(risk, dtype="float64"), 0.0, MAX_RISK)
    usable = reported_share >= min_reported
    share = np.maximum(reported_share, min_reported)
    weight = np.where(positive.astype(bool), 1.0 / share, (1.0 - p) / (1.0 - p * share))
    return np.where(usable, weight, 0.0)
