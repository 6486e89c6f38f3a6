"""Which kinds of history signal pay, over several varied simulated worlds: each kind dropped in turn.

    python bench/bench_signals.py                          # seeds 1-5, 100,000 orders over 90 days
    python bench/bench_signals.py --seeds 1 2 --orders 60000
    python bench/bench_signals.py --only all before simple # skip the per-kind ablations

For each seed, one varied world (training.simulator.params), every point-in-time feature
computed once (`features.batch`), then per risk LightGBM models trained as in
bench_signal.py (as of day 60, 30-day label maturity, the last 14 days of the mature
orders for early stopping and calibration; the fraud model with the catalog's monotone
directions, as `risk train` does) and tested on days 60-90 with every outcome ever
reported. Feature sets:

- all: the whole catalog;
- before: the catalog without the kinds of signal tried in issue 13 (`KINDS`): the 204
  features the engine had (most were not kept, see README "Features"; commits 7abaff6 and
  a202878 have them all; on today's catalog only `view_habit` is left to ablate);
- all - <kind>: the catalog without one kind (what that kind adds, given the others);
- before + <kind>: `before` and one kind (what that kind adds alone);
- simple: the order's own fields plus a dozen simple history counts, the "plain
  LightGBM" an engine has to beat.

Prints per seed and set fraud and regret AUC and average precision, then mean, spread
(sample standard deviation) and the mean paired difference against `all` over the seeds.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's code, not an installed copy

import pandas as pd
from bench_signal import split
from sklearn.metrics import average_precision_score, roc_auc_score

from features.batch import compute_features
from features.catalog import CATEGORICAL, FEATURE_NAMES, FRAUD_DIRECTIONS
from features.row import ROW_FEATURES
from models.risk_model import RiskModel
from risk.datasets import ORDERS, OUTCOMES, normalise
from training.simulator import simulate

from benchkit import print_table

KINDS: dict[str, str] = {
    "burst": r"_1m$",
    "sequence": r"^order_pace_by_",
    "sharing": r"^distinct_(buyers_by_address|cards_by_ip|devices_by_buyer)_",
    "drift": r"^(seconds_since_first_(buyer|buyer_ip)|new_on_established_buyer)$",
    "neighbour_reports": r"(report|reports|rate)_by_(address|post)(_|$)",
    "post_velocity": r"_by_post_",
    "bin_velocity": r"_by_bin_",
    "local_time": r"^hour_of_day_buyer_local$",
    # tried second (branch signals2): outcome rates and the buyer's own baseline
    "buyer_rates": r"^(fraud|regret)_rate_shrunk_by_buyer_",
    "seller_rates": r"^(fraud|regret)_rate_shrunk_by_seller_",
    "view_habit": r"^(buyer_usual_view_to_buy_seconds|view_to_buy_to_buyer_usual)_",
    "price_habit": r"^unit_price_to_buyer_usual_",
}
"""The kinds of signal tried for issue 13, as patterns of their feature names (the first eight: commit 7abaff6)."""
SIMPLE_HISTORY = ("order_count_by_card_24h", "order_count_by_device_24h", "order_count_by_ip_24h",
                  "order_count_by_buyer_30d", "amount_sum_by_card_24h", "distinct_cards_by_device_24h",
                  "distinct_buyers_by_ip_24h", "seconds_since_first_card", "seconds_since_first_device",
                  "first_purchase_from_seller", "fraud_reports_by_card_90d", "regret_rate_by_buyer_90d")
RISKS = ("fraud", "regret")


def kind_of(name: str) -> str | None:
    return next((kind for kind, pattern in KINDS.items() if re.search(pattern, name)), None)


def feature_sets(only: list[str] | None) -> dict[str, list[str]]:
    own = [f.name for f in ROW_FEATURES]
    sets = {"all": list(FEATURE_NAMES), "before": [n for n in FEATURE_NAMES if kind_of(n) is None]}
    for kind in KINDS:
        without = [n for n in FEATURE_NAMES if kind_of(n) != kind]
        if len(without) < len(FEATURE_NAMES):
            sets[f"all - {kind}"] = without
            sets[f"before + {kind}"] = [n for n in FEATURE_NAMES if kind_of(n) in (None, kind)]
    sets["simple"] = [n for n in FEATURE_NAMES if n in own or n in SIMPLE_HISTORY]
    return {name: names for name, names in sets.items() if only is None or name in only}


def fit_and_test(frame: pd.DataFrame, data, risk: str, names: list[str]) -> tuple[float, float]:
    X = frame[names].to_numpy("float32")
    y = data.train_labels[risk].fillna(0).to_numpy()
    y_test = data.test_labels[risk].fillna(0).to_numpy()[data.test]
    monotone = {n: d for n, d in FRAUD_DIRECTIONS.items() if n in names} if risk == "fraud" else None
    model = RiskModel(monotone=monotone).fit(
        X[data.fit], y[data.fit], X_valid=X[data.valid], y_valid=y[data.valid], feature_names=names,
        categorical=[c for c in CATEGORICAL if c in names])
    p = model.predict_proba(X[data.test])
    return float(roc_auc_score(y_test, p)), float(average_precision_score(y_test, p))


def world(kind: str, seed: int, orders: int, days: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Orders, outcomes and (world2 only) the generator's own chances of fraud and regret per order."""
    if kind == "world2":
        from bench.world2 import generate

        generated = generate(seed, orders, days)
        o, u = normalise(generated.orders, ORDERS), normalise(generated.outcomes, OUTCOMES)
        oracle = generated.truth.set_index("order_id")[["p_fraud", "p_regret"]]
        return o, u, oracle.rename(columns={"p_fraud": "fraud", "p_regret": "regret"})
    o, u = simulate(orders, days, seed, world="varied")
    return normalise(o, ORDERS), normalise(u, OUTCOMES), None


def summary(results: pd.DataFrame) -> list[dict[str, str]]:
    rows = []
    reference = results[results["set"] == "all"].set_index(["seed", "risk"])
    for (name, risk), group in results.groupby(["set", "risk"], sort=False):
        paired = group.set_index(["seed", "risk"])
        row = {"set": name, "risk": risk, "seeds": str(len(group))}
        for metric in ("AUC", "AP"):
            row[metric] = f"{group[metric].mean():.4f} ± {group[metric].std(ddof=1):.4f}"
            diff = (paired[metric] - reference[metric].reindex(paired.index)).dropna()
            row[f"{metric} - all"] = f"{diff.mean():+.4f} ({(diff < 0).sum()}/{len(diff)} below)"
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--only", nargs="+", help="feature sets to train (default: all of them)")
    parser.add_argument("--out", type=Path, help="write the per-seed results as CSV")
    parser.add_argument("--world", choices=("varied", "world2"), default="varied",
                        help="the simulator's varied world, or the independent bench/world2 (adds its oracle)")
    args = parser.parse_args()
    sets = feature_sets(args.only)
    print(f"{len(FEATURE_NAMES)} features; sets: " + ", ".join(f"{k} ({len(v)})" for k, v in sets.items()), flush=True)
    results = []
    for seed in args.seeds:
        started = time.perf_counter()
        orders, outcomes, oracle = world(args.world, seed, args.orders, args.days)
        frame = compute_features(orders, outcomes)
        data = split(orders, outcomes, 60, 30)
        print(f"seed {seed}: {len(orders):,} orders featurised in {time.perf_counter() - started:.0f} s", flush=True)
        if oracle is not None:
            truth = oracle.loc[orders["order_id"][data.test]]
            for risk in RISKS:
                y_test = data.test_labels[risk].fillna(0).to_numpy()[data.test]
                auc, ap = roc_auc_score(y_test, truth[risk]), average_precision_score(y_test, truth[risk])
                results.append({"seed": seed, "set": "oracle", "risk": risk, "AUC": auc, "AP": ap})
                print(f"  {'oracle':18s} {risk:6s} AUC {auc:.4f} AP {ap:.4f}", flush=True)
        for name, names in sets.items():
            for risk in RISKS:
                auc, ap = fit_and_test(frame, data, risk, names)
                results.append({"seed": seed, "set": name, "risk": risk, "AUC": auc, "AP": ap})
                print(f"  {name:18s} {risk:6s} AUC {auc:.4f} AP {ap:.4f}", flush=True)
    table = pd.DataFrame(results)
    if args.out:
        table.to_csv(args.out, index=False)
    print()
    print_table(summary(table))


if __name__ == "__main__":
    main()
