"""Fates and what is learned of them, when.

Each order has one fate drawn from its exact chances (the generator's truth): fraud,
regret or nothing. A fraud fate is reported as a fraud chargeback by the processor (weeks
to months later) or, faster, as an analyst's or seller's confirmation; regret as a
refund (days) or a non-fraud dispute (weeks). A few unremarkable orders get an analyst's
confirmed_legit. Every report is kept, even those far after the window: the test
labels are "everything ever reported".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .params import World

FATES = ("none", "fraud", "regret")


def draw_fates(rng: np.random.Generator, p_fraud: np.ndarray, p_regret: np.ndarray) -> np.ndarray:
    """0 none, 1 fraud, 2 regret, from one uniform per order (the chances are exclusive)."""
    u = rng.random(len(p_fraud))
    return np.where(u < p_fraud, 1, np.where(u < p_fraud + p_regret, 2, 0))


def reports(rng: np.random.Generator, world: World, order_ids: np.ndarray, created: pd.Series,
            fate: np.ndarray) -> pd.DataFrame:
    """The outcomes table: order_id, kind, reported_at, source."""
    n = len(fate)
    fraud, regret = fate == 1, fate == 2
    confirmed = fraud & (rng.random(n) < world.confirmed_share)
    dispute = regret & (rng.random(n) < world.dispute_share)
    legit = (fate == 0) & (rng.random(n) < world.legit_confirmations)
    kind = np.select([confirmed, fraud, dispute, regret, legit],
                     ["confirmed_fraud", "fraud_chargeback", "dispute", "refund", "confirmed_legit"], "")
    source = np.select([confirmed, fraud, dispute, regret, legit],
                       [np.where(rng.random(n) < 0.7, "analyst", "seller"), "processor", "processor",
                        np.where(rng.random(n) < 0.8, "buyer", "seller"), "analyst"], "")
    delay = np.zeros(n)
    for name, d in world.delays.items():
        rows = kind == name
        delay[rows] = d.draw(rng, int(rows.sum()))
    keep = kind != ""
    reported = created[keep].reset_index(drop=True) + pd.to_timedelta(np.round(delay[keep]), unit="s")
    table = pd.DataFrame({"order_id": order_ids[keep], "kind": kind[keep], "reported_at": reported,
                          "source": source[keep]})
    return table.sort_values("reported_at", kind="stable").reset_index(drop=True)
