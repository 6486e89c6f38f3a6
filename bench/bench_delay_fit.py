"""The reporting delays `risk train` estimates as of a moment, against the simulator's true ones.

    python bench/bench_delay_fit.py                   # 5 varied worlds, as of day 30, 60 and 90

For each world and history length: per outcome kind of each label, the fitted log-normal
(median days, log-sd) beside the world's own, and per label the reported share F(7) and
F(30) estimated vs true (the true kinds mixed by their eventual counts), and the base rate
estimated vs the eventual one (every outcome the simulator ever reports, for orders before
the as-of) with their ratio (and the Horvitz-Thompson base rate `risk train` used before
`with_exposure`), beside the "up to" ratio `risk train` warns with
(`LabelDelay.underestimate_up_to`: each kind's delay as slow as its reports allow, the
"slow end" median). No features or models: it takes seconds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's code, not an installed copy

import numpy as np
import pandas as pd
from scipy import stats

from risk.datasets import ORDERS, OUTCOMES, normalise
from training.label_delay import LABEL_KINDS, estimate_delays, with_exposure
from training.simulator import DEFAULT_START, simulate
from training.simulator.params import varied_params


def true_share(counts: pd.Series, seed: int, age_days: float) -> float:
    """The true F(age) of a label: its kinds' log-normals mixed by their eventual counts."""
    delays = varied_params(seed).delays
    total = counts.sum()
    return float(sum(n / total * stats.norm.cdf((np.log(age_days) - np.log(delays[k].a)) / delays[k].b)
                     for k, n in counts.items()))


def world_rows(seed: int, orders_per_day: int, histories: list[int], test_days: int) -> None:
    days = max(histories) + test_days  # the same world as bench_label_delay.py's
    orders, outcomes = simulate(orders_per_day * days, days, seed, world="varied")
    orders, outcomes = normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
    truth = varied_params(seed).delays
    for history in histories:
        as_of = DEFAULT_START + pd.Timedelta(days=history)
        before = orders[orders["created_at"] < as_of]
        age = ((as_of - before["created_at"]).dt.total_seconds() / 86400).to_numpy()
        fitted = estimate_delays(before, outcomes[outcomes["reported_at"] <= as_of], as_of)
        for label, delay in with_exposure(fitted, age).items():  # as training.train.delay_corrected_set does
            ids = before["order_id"]
            eventual = outcomes[outcomes["kind"].isin(LABEL_KINDS[label]) & outcomes["order_id"].isin(ids)]
            counts = eventual.drop_duplicates("order_id")["kind"].value_counts()
            fits = ", ".join(f"{k.kind} {k.median_days():.1f}/{k.sigma:.2f} (true {truth[k.kind].a:.1f}/"
                             f"{truth[k.kind].b:.2f}, {k.reports} reports, slow end {k.slow_median_days or 0:.0f})"
                             for k in delay.kinds)
            shares = " ".join(f"F({a}) {float(delay.cdf(np.array([a]))[0]):.2f}/{true_share(counts, seed, a):.2f}"
                              for a in (7, 30))
            eventual = counts.sum() / len(before)
            horvitz = sum(k.expected_reports for k in fitted[label].kinds) / len(before)
            print(f"seed {seed} day {history} {label}: {fits}; {shares}; base rate {delay.base_rate:.4f} "
                  f"(Horvitz-Thompson {horvitz:.4f}) "
                  f"(eventual {eventual:.4f}: {eventual / max(delay.base_rate, 1e-12):.2f}x; up to "
                  f"{delay.underestimate_up_to():.2f}x said)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--orders-per-day", type=int, default=1000)
    parser.add_argument("--histories", type=int, nargs="+", default=[30, 60, 90])
    parser.add_argument("--test-days", type=int, default=14)
    args = parser.parse_args()
    for seed in args.seeds:
        world_rows(seed, args.orders_per_day, args.histories, args.test_days)


if __name__ == "__main__":
    main()
