"""What the benchmarks share: the printed table, and a simulated world in the contract's types."""

from __future__ import annotations

import pandas as pd

from risk.datasets import ORDERS, OUTCOMES, normalise
from training.simulator import simulate


def print_table(rows: list[dict[str, str]]) -> None:
    """A plain text table, columns as wide as their widest cell."""
    headers = list(rows[0])
    widths = {h: max(len(h), *(len(r[h]) for r in rows)) for h in headers}
    print("  ".join(h.rjust(widths[h]) for h in headers))
    for row in rows:
        print("  ".join(row[h].rjust(widths[h]) for h in headers))


def simulated_world(n_orders: int, days: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders and outcomes of a simulated world, typed as a data set read from disk would be."""
    orders, outcomes = simulate(n_orders, days, seed=seed)
    return normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
