"""Benchmark of the simulator: time, throughput, peak memory and label rates.

    python bench/bench_simulator.py                 # 1,000,000 orders over 90 days, seed 7
    python bench/bench_simulator.py --patterns      # also rates per fraud pattern

The target is a million orders in under 60 s on a 2-core machine.
"""

import argparse
import resource
import sys
import time
from pathlib import Path

import pandas as pd

# Runs from a checkout without installing the project.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training.simulator import run_simulation, simulate

from benchkit import print_table

FRAUD_KINDS = ("fraud_chargeback", "confirmed_fraud")
REGRET_KINDS = ("refund", "dispute")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def label_rates(orders: pd.DataFrame, outcomes: pd.DataFrame) -> tuple[float, float]:
    """Reported fraud per order, and reported regret per order not reported as fraud."""
    fraud = int(outcomes["kind"].isin(FRAUD_KINDS).sum())
    regret = int(outcomes["kind"].isin(REGRET_KINDS).sum())
    return fraud / len(orders), regret / (len(orders) - fraud)


def bench(n_orders: int, days: int, seed: int) -> None:
    """Times one `simulate` call and prints the headline table."""
    started = time.perf_counter()
    orders, outcomes = simulate(n_orders, days, seed)
    seconds = time.perf_counter() - started
    fraud, regret = label_rates(orders, outcomes)
    print_table([{
        "orders": f"{len(orders):,}", "seconds": f"{seconds:.2f}",
        "orders/s": f"{len(orders) / seconds:,.0f}", "peak RSS MB": f"{peak_rss_mb():,.0f}",
        "fraud rate": f"{fraud:.3%}", "regret rate": f"{regret:.3%}",
    }])


def bench_patterns(n_orders: int, days: int, seed: int) -> None:
    """Orders, true share and reported fraud/regret per pattern, from the hidden truth."""
    simulation = run_simulation(n_orders, days, seed)
    kinds = simulation.outcomes.set_index("order_id")["kind"]
    truth = simulation.truth.assign(kind=simulation.truth["order_id"].map(kinds))
    rows = []
    for pattern, group in truth.groupby("pattern"):
        rows.append({
            "pattern": str(pattern), "orders": f"{len(group):,}", "share": f"{len(group) / len(truth):.3%}",
            "reported fraud": f"{group['kind'].isin(FRAUD_KINDS).mean():.1%}",
            "regret": f"{group['is_regret'].mean():.2%}",
        })
    print()
    print_table(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--patterns", action="store_true", help="also print rates per fraud pattern")
    args = parser.parse_args()
    bench(args.orders, args.days, args.seed)
    if args.patterns:
        bench_patterns(args.orders, args.days, args.seed)


if __name__ == "__main__":
    main()
