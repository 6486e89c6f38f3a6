"""The Fraud Detection Handbook's evaluation protocol, for comparing with its published table.

The handbook (Le Borgne et al., chapters 3-7) tests on a week of transactions after a
7-day label delay and scores a model three ways: ROC AUC and average precision over
the pooled test transactions, and Card Precision@k (CP@k) per day. Two of its rules
are easy to get subtly wrong, so they live here, each in one small function:

- *known compromised cards*: on each test day, the transactions of cards with a fraud
  (by the fraud's transaction date) from `known_since` up to the test day minus the
  delay minus one day are removed; the investigators already know those cards.
- *detected cards*: CP@k drops, on each test day, the cards that were among an earlier
  test day's top-k cards and fraudulent on that day (the handbook's
  `card_precision_top_k` with `remove_detected_compromised_cards=True`).

Frames here have one row per transaction: `card`, `day` (midnight UTC of the
transaction), `fraud` (0/1, the truth) and, for scored ones, `score`.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from risk.contract import FRAUD_KINDS

DELAY = timedelta(days=7)
TOP_K = 100


def transactions_frame(orders: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """`order_id, card, day, fraud` of every order; fraud is any fraud outcome in the file, whenever reported."""
    fraud_ids = outcomes.loc[outcomes["kind"].isin(FRAUD_KINDS), "order_id"]
    return pd.DataFrame({
        "order_id": orders["order_id"],
        "card": orders["payment_card_fingerprint"],
        "day": orders["created_at"].dt.floor("D"),
        "fraud": orders["order_id"].isin(fraud_ids).astype("int8"),
    }).reset_index(drop=True)


def known_compromised_cards(
    transactions: pd.DataFrame, day: pd.Timestamp, known_since: pd.Timestamp, delay: timedelta = DELAY
) -> set[str]:
    """Cards with a fraud on a day in [known_since, day - delay - 1 day]: known to be compromised on `day`."""
    last = day - delay - timedelta(days=1)
    window = (transactions["day"] >= known_since) & (transactions["day"] <= last) & (transactions["fraud"] == 1)
    return set(transactions.loc[window, "card"])


def drop_known_compromised(
    transactions: pd.DataFrame, test_days: list[pd.Timestamp], known_since: pd.Timestamp, delay: timedelta = DELAY
) -> pd.DataFrame:
    """The transactions of `test_days`, without those of cards already known to be compromised on their day."""
    kept = []
    for day in test_days:
        of_day = transactions[transactions["day"] == day]
        known = known_compromised_cards(transactions, day, known_since, delay)
        kept.append(of_day[~of_day["card"].isin(known)])
    return pd.concat(kept, ignore_index=True)


def card_precision_day(scored: pd.DataFrame, k: int = TOP_K) -> tuple[float, set[str]]:
    """CP@k of one day and the cards it detected (top-k by max score, fraudulent that day).

    Each card counts once with its maximum score and maximum label; the precision is over
    k even when fewer than k cards were scored, as in the handbook.
    """
    cards = scored.groupby("card", sort=False).agg(score=("score", "max"), fraud=("fraud", "max"))
    top = cards.sort_values("score", ascending=False, kind="stable").head(k)
    detected = set(top.index[top["fraud"] == 1])
    return len(detected) / k, detected


def card_precision_at_k(scored: pd.DataFrame, k: int = TOP_K) -> list[float]:
    """CP@k of each test day in order, dropping the cards detected on an earlier day."""
    detected: set[str] = set()
    per_day = []
    for _, of_day in scored.groupby("day", sort=True):
        precision, found = card_precision_day(of_day[~of_day["card"].isin(detected)], k)
        per_day.append(precision)
        detected |= found
    return per_day


def handbook_metrics(scored: pd.DataFrame, k: int = TOP_K) -> dict[str, float]:
    """ROC AUC and average precision over all rows, CP@k averaged over the days, and the counts."""
    y, p = scored["fraud"].to_numpy(), scored["score"].to_numpy()
    both = 0 < y.sum() < len(y)
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "average_precision": float(average_precision_score(y, p)) if both else float("nan"),
        "card_precision": float(np.mean(card_precision_at_k(scored, k))),
        "transactions": int(len(scored)),
        "frauds": int(y.sum()),
    }


def test_transactions(
    transactions: pd.DataFrame, start: pd.Timestamp, days: int, delay: timedelta = DELAY
) -> pd.DataFrame:
    """The transactions evaluated on `days` days from `start`: known compromised cards removed.

    Known cards count from the start of the handbook's training week: delay + 7 days
    before `start` (2018-07-25 for the test week starting 2018-08-08).
    """
    test_days = [start + timedelta(days=i) for i in range(days)]
    return drop_known_compromised(transactions, test_days, start - delay - timedelta(days=7), delay)


def evaluate_period(
    transactions: pd.DataFrame, predictions: pd.DataFrame, start: pd.Timestamp, days: int,
    delay: timedelta = DELAY, k: int = TOP_K,
) -> dict[str, float]:
    """The handbook's metrics of `predictions` (order_id, fraud_score) on `days` days from `start`."""
    test = test_transactions(transactions, start, days, delay)
    scores = predictions.set_index("order_id")["fraud_score"]
    missing = ~test["order_id"].isin(scores.index)
    if missing.any():
        example = test["order_id"][missing].iloc[0]
        raise ValueError(f"{int(missing.sum())} test orders have no prediction, e.g. {example}")
    return handbook_metrics(test.assign(score=scores.reindex(test["order_id"]).to_numpy()), k)
