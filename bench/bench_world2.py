"""Our engine on an independent world (bench/world2), against the generator's own probabilities and a plain model.

    python bench/bench_world2.py                          # 5 seeds, 150,000 orders over 90 days each
    python bench/bench_world2.py --seeds 3 --orders 50000 --out runs.jsonl
    python bench/bench_world2.py --world varied --seeds 1 2 3 4 5 --no-plain \\
        --variant 'no-monotone={"monotone": false, "risks": ["fraud"]}' \\
        --variant 'regret-auc={"regret_params": {"metric": "auc"}, "risks": ["regret"]}'

For each seed: one world from bench/world2 (its own fraud mix, delays, drift, noise),
written and read back through the contract's data-set reader; our engine trained as of
day 60 as `risk train` fits each model by default (training.train.fit_risk with the CLI's
default TrainConfig: label-delay correction, monotone constraints, 14 validation days),
then scoring days 60-90 on the point-in-time features `risk score` computes (each order's
features see the outcomes known at its moment; computed once per world, see Variants). The test orders
are labelled with every outcome the world ever reports. Compared with:
- oracle: the generator's own chance of fraud and of regret for each order;
- plain: LightGBM on 14 point-in-time history counts (bench/world2/baseline.py), trained on
  the orders before day 60 labelled with the outcomes reported by then.
Prints fraud and regret AUC, average precision and predicted / observed (the sum of the
scores over the number of positives) per seed and as mean +- standard
deviation over seeds, and the ratios the goal is set on: ours / oracle fraud AP (goal
0.9x) and regret AUC (goal 0.95x).

Variants (`--variant NAME=JSON`, repeatable): settings of the engine's training compared on
the same worlds. The JSON holds TrainConfig fields (`fraud_params`, `regret_params`,
`monotone`, `search`, `valid_days`, ...) and two of the bench's own: `risks` (which models
to fit, default both) and `bag` (K: the average of the margins of K models trained with
seeds 7, 8, ..., calibrated as `risk train` calibrates one: what averaging seeds would
give). Each variant's model is fitted as `risk train` fits it (training.train.fit_risk:
search if asked, two passes under the delay correction) on features computed once per
world (`compute_features` over all orders: an order's features see only what was known at
its moment, so they serve training and the test period alike, as `risk score` computes
them); the first variant is the reference of the paired differences. `--world varied`
runs on the simulator's varied worlds (no oracle). `--cache DIR` keeps each world and its
features on disk for the next run (keyed by the feature schema).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's code, not an installed copy

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from bench.world2 import PATTERNS, generate
from bench.world2.baseline import fit_and_score, simple_features
from features.batch import compute_features
from features.catalog import FEATURE_NAMES, schema_hash
from models.risk_model import FEATURE_DTYPE, RiskModel
from risk.contract import FRAUD_KINDS, REGRET_KINDS
from risk.datasets import ORDERS, OUTCOMES, normalise, read_orders, read_outcomes, write_orders, write_outcomes
from risk.labels import labels_as_of
from training.delay_calibration import calibrate_delayed
from training.simulator import simulate
from training.train import TrainConfig, TrainingSet, fit_risk, training_set

RISKS = ("fraud", "regret")
METRICS = ("auc", "ap", "pred/obs")
GOALS = {"fraud ap": 0.9, "regret auc": 0.95}
BENCH_KEYS = ("risks", "bag")
SET_FIELDS = ("label_delay", "valid_days", "min_reported", "valid_reported", "maturity", "train_from")
"""TrainConfig fields the training set depends on (variants differing only elsewhere share one)."""


def final_labels(orders: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Fraud and regret once every outcome is in (fraud wins over regret)."""
    fraud = orders["order_id"].isin(outcomes.loc[outcomes["kind"].isin(FRAUD_KINDS), "order_id"]).to_numpy()
    regret = orders["order_id"].isin(outcomes.loc[outcomes["kind"].isin(REGRET_KINDS), "order_id"]).to_numpy()
    return pd.DataFrame({"fraud": fraud.astype(int), "regret": (regret & ~fraud).astype(int)})


def read_back(world_orders: pd.DataFrame, world_outcomes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Through the files a data scientist would get: written and read with the contract's reader."""
    with tempfile.TemporaryDirectory() as folder:
        write_orders(world_orders, Path(folder) / "orders.parquet")
        write_outcomes(world_outcomes, Path(folder) / "outcomes.parquet")
        return read_orders(Path(folder) / "orders.parquet"), read_outcomes(Path(folder) / "outcomes.parquet")


def plain_scores(orders: pd.DataFrame, outcomes: pd.DataFrame, as_of: pd.Timestamp,
                 test: np.ndarray) -> dict[str, np.ndarray]:
    features = simple_features(orders)
    before = (orders["created_at"] < as_of).to_numpy()
    known = labels_as_of(orders.loc[before, ["order_id", "created_at"]], outcomes, as_of, pd.Timedelta(0))
    scores = {}
    for risk in RISKS:
        y = known[risk].to_numpy(dtype="int64") if risk in known else np.zeros(int(before.sum()), dtype=np.int64)
        scores[risk] = fit_and_score(features[before], y, features[test])
    return scores


def load_world(kind: str, seed: int, n_orders: int, days: int, cache: Path | None,
               say: Any) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None, pd.DataFrame]:
    """Orders, outcomes, the generator's truth (world2 only) and every order's features, from `cache` if there."""
    folder = None if cache is None else cache / f"{kind}-{seed}-{n_orders}-{days}-{schema_hash()[:12]}"
    if folder is not None and (folder / "features.parquet").exists():
        truth_file = folder / "truth.parquet"
        truth_read = pd.read_parquet(truth_file) if truth_file.exists() else None
        return (pd.read_parquet(folder / "orders.parquet"), pd.read_parquet(folder / "outcomes.parquet"), truth_read,
                pd.read_parquet(folder / "features.parquet"))
    truth = None
    if kind == "world2":
        world = generate(seed, n_orders, days)
        orders, outcomes = read_back(world.orders, world.outcomes)
        truth = world.truth
    else:
        orders, outcomes = simulate(n_orders, days, seed, world="varied")
        orders, outcomes = normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
    say("computing features")
    features = compute_features(orders, outcomes)
    if folder is not None:  # features last: a folder with them is whole (two runs may fill one cache)
        folder.mkdir(parents=True, exist_ok=True)
        tables = {"orders": orders, "outcomes": outcomes, "features": features} | (
            {} if truth is None else {"truth": truth})
        for name in ("orders", "outcomes", "truth", "features"):
            if name in tables:
                write_atomically(tables[name], folder / f"{name}.parquet")
    return orders, outcomes, truth, features


def write_atomically(frame: pd.DataFrame, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    frame.to_parquet(temporary)
    os.replace(temporary, path)


def variant_config(base: TrainConfig, variant: dict[str, Any]) -> TrainConfig:
    known = {f.name for f in fields(TrainConfig)}
    unknown = [k for k in variant if k not in known and k not in BENCH_KEYS]
    if unknown:
        raise SystemExit(f"bench_world2: unknown variant setting {unknown[0]!r}; valid: "
                         f"{', '.join(sorted(known | set(BENCH_KEYS)))}")
    return replace(base, **{k: v for k, v in variant.items() if k in known})


Fits = dict[str, RiskModel]
"""Models already fitted on one world, by everything that decides them: a bag's first member is the plain fit."""


def fit_once(fits: Fits, data_key: tuple[object, ...], data: TrainingSet, config: TrainConfig, risk: str,
             params: dict[str, Any]) -> RiskModel:
    key = json.dumps([repr(data_key), risk, params, config.monotone, config.search, config.seed], sort_keys=True,
                     default=str)
    if key not in fits:
        fits[key] = fit_risk(data, risk, params, config, lambda message: None).model
    return fits[key]


def fit_variant(fits: Fits, data_key: tuple[object, ...], data: TrainingSet, config: TrainConfig, risk: str, bag: int,
                X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Calibrated scores and margins of the test orders by one variant's model of `risk` (or its bag), and facts."""
    started = time.process_time()
    params = config.fraud_params if risk == "fraud" else config.regret_params
    if bag <= 1:
        model = fit_once(fits, data_key, data, config, risk, params)
        facts = {"trees": float(model.trees), "cpu s": time.process_time() - started}
        return model.predict_proba(X_test), model.predict_margin(X_test), facts
    members = [fit_once(fits, data_key, data, config, risk, {**params, "seed": config.seed + k} if k else params)
               for k in range(bag)]
    valid = data.valid
    margin_valid = np.mean([m.predict_margin(data.X[valid]) for m in members], axis=0)
    margin_test = np.mean([m.predict_margin(X_test) for m in members], axis=0)
    if data.delays and data.age_days is not None:
        calibrator, _, _ = calibrate_delayed(margin_valid, data.labels[risk].to_numpy()[valid] == 1,
                                             data.delays[risk].cdf(data.age_days[valid]), seed=config.seed)
        proba = calibrator.apply(margin_test)
    else:
        proba = 1.0 / (1.0 + np.exp(-margin_test))
    facts = {"trees": float(sum(m.trees for m in members)), "cpu s": time.process_time() - started}
    return proba, margin_test, facts


def run_world(kind: str, seed: int, n_orders: int, days: int, as_of_day: int, variants: dict[str, dict[str, Any]],
              plain: bool, cache: Path | None, verbose: bool = False, threads: int | None = None) -> dict[str, object]:
    started = time.perf_counter()
    say = (lambda message: print(f"  {time.perf_counter() - started:6.0f} s  {message}", flush=True)) if verbose else (
        lambda message: None)
    orders, outcomes, truth_table, features = load_world(kind, seed, n_orders, days, cache, say)
    start = orders["created_at"].min().normalize()
    as_of = start + pd.Timedelta(days=as_of_day)
    end = start + pd.Timedelta(days=days)
    test = ((orders["created_at"] >= as_of) & (orders["created_at"] < end)).to_numpy()
    X_test = features[list(FEATURE_NAMES)].to_numpy(dtype=FEATURE_DTYPE)[test]
    y = final_labels(orders, outcomes)[test].reset_index(drop=True)
    scores: dict[str, dict[str, np.ndarray]] = {}
    row: dict[str, object] = {"world": kind, "seed": seed, "orders": len(orders), "test orders": int(test.sum()),
                              "fraud rate": float(y["fraud"].mean()), "regret rate": float(y["regret"].mean())}
    thread_params = {} if threads is None else {"num_threads": threads}
    base = TrainConfig(as_of=as_of)
    sets: dict[tuple[object, ...], TrainingSet] = {}
    fits: Fits = {}
    for name, variant in variants.items():
        config = variant_config(base, variant)
        config = replace(config, fraud_params={**thread_params, **config.fraud_params},
                         regret_params={**thread_params, **config.regret_params})
        key = tuple(getattr(config, f) for f in SET_FIELDS)
        if key not in sets:
            sets[key] = training_set(orders, outcomes, config, say, features)
        scores[name] = {}
        for risk in variant.get("risks", RISKS):
            proba, margin, facts = fit_variant(fits, key, sets[key], config, risk, int(variant.get("bag", 1)), X_test)
            scores[name][risk] = proba
            row[f"{name} {risk} margin auc"] = float(roc_auc_score(y[risk], margin))
            row[f"{name} {risk} margin ap"] = float(average_precision_score(y[risk], margin))
            row.update({f"{name} {risk} {fact}": value for fact, value in facts.items()})
            say(f"{name} {risk}: {facts['trees']:.0f} trees, {facts['cpu s']:.0f} s CPU, "
                f"AP {average_precision_score(y[risk], proba):.4f}")
    if truth_table is not None:
        truth = truth_table.set_index("order_id").loc[orders["order_id"][test]]
        scores["oracle"] = {"fraud": truth["p_fraud"].to_numpy(), "regret": truth["p_regret"].to_numpy()}
    if plain:
        scores["plain"] = plain_scores(orders, outcomes, as_of, test)
    for model, by_risk in scores.items():
        for risk, score in by_risk.items():
            row[f"{model} {risk} auc"] = float(roc_auc_score(y[risk], score))
            row[f"{model} {risk} ap"] = float(average_precision_score(y[risk], score))
            row[f"{model} {risk} pred/obs"] = float(score.sum() / max(int(y[risk].sum()), 1))
    row.update(regret_by_kind(scores, orders["order_id"][test], outcomes, y))
    if truth_table is not None:
        row.update(percentiles(scores, truth))
        for metric in GOALS:
            for model in scores:
                if model != "oracle" and f"{model} {metric}" in row:
                    row[f"{model}/oracle {metric}"] = float(row[f"{model} {metric}"]) / float(row[f"oracle {metric}"])
    row["seconds"] = time.perf_counter() - started
    return row


def regret_by_kind(scores: dict[str, dict[str, np.ndarray]], order_ids: pd.Series, outcomes: pd.DataFrame,
                   y: pd.DataFrame) -> dict[str, float]:
    """Regret AUC of each outcome kind alone (its regretted orders against the orders without regret): whether one
    kind (disputes, say, where unnoticed attacks are disputed too) is what the model ranks worse."""
    out = {}
    for kind in sorted(REGRET_KINDS):
        regret = y["regret"].to_numpy() == 1
        of_kind = order_ids.isin(outcomes.loc[outcomes["kind"] == kind, "order_id"]).to_numpy() & regret
        rows = of_kind | ~regret
        if of_kind.sum() == 0:
            continue
        for model, by_risk in scores.items():
            if "regret" in by_risk:
                out[f"{model} regret auc {kind}"] = float(roc_auc_score(of_kind[rows], by_risk["regret"][rows]))
    return out


def percentiles(scores: dict[str, dict[str, np.ndarray]], truth: pd.DataFrame) -> dict[str, float]:
    """Per kind of fraud, the mean percentile of its orders' fraud scores among genuine orders that stayed genuine.

    Kinds: each attack pattern (all its orders, reported or not) and friendly fraud (genuine
    buyers' orders that came back as fraud). 1.0 is above every genuine order, 0.5 is chance.
    """
    pattern, fate = truth["pattern"].to_numpy(), truth["fate"].to_numpy()
    groups = {p: pattern == p for p in PATTERNS} | {"friendly": (pattern == "genuine") & (fate == "fraud")}
    out = {}
    for model, by_risk in scores.items():
        if "fraud" not in by_risk:
            continue
        genuine = np.sort(by_risk["fraud"][(pattern == "genuine") & (fate != "fraud")])
        for name, rows in groups.items():
            if rows.any():
                out[f"{model} percentile {name}"] = float(np.mean(
                    np.searchsorted(genuine, by_risk["fraud"][rows], side="left") / len(genuine)))
    return out


def models_of(frame: pd.DataFrame) -> list[str]:
    """The models with results in `frame`, in the order their columns appear."""
    seen: list[str] = []
    for column in frame.columns:
        for risk in RISKS:
            if column.endswith(f" {risk} auc") and "margin" not in column and "/oracle" not in column:
                model = column[: -len(f" {risk} auc")]
                if model not in seen:
                    seen.append(model)
    return seen


def pattern_table(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    lines = []
    for kind in (*PATTERNS, "friendly"):
        line: dict[str, object] = {"fraud kind": kind}
        for model in models_of(frame):
            column = f"{model} percentile {kind}"
            line[model] = f"{frame[column].mean():.3f}" if column in frame and frame[column].notna().any() else "-"
        lines.append(line)
    return pd.DataFrame(lines)


def _cell(frame: pd.DataFrame, column: str, digits: int = 3) -> str:
    if column not in frame or frame[column].isna().all():
        return "-"
    return f"{frame[column].mean():.{digits}f} +- {frame[column].std():.{digits}f}"


def table(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    lines = []
    for model in models_of(frame):
        for _, run in frame.iterrows():
            lines.append({"seed": run["seed"], "model": model, **{
                f"{risk} {m}": f"{run[f'{model} {risk} {m}']:.3f}" if f"{model} {risk} {m}" in run
                and pd.notna(run[f"{model} {risk} {m}"]) else "-" for risk in RISKS for m in METRICS}})
        lines.append({"seed": "mean +- sd", "model": model, **{
            f"{risk} {m}": _cell(frame, f"{model} {risk} {m}") for risk in RISKS for m in METRICS}})
    return pd.DataFrame(lines)


def paired(rows: list[dict[str, object]], reference: str) -> pd.DataFrame:
    """Each variant against `reference`, seed by seed: mean +- sd, the mean paired difference and its sd,
    how many seeds it was above, and (for the score's ranking) the margin's figures and trees."""
    frame = pd.DataFrame(rows)
    lines = []
    for model in models_of(frame):
        for risk in RISKS:
            for metric in ("auc", "ap"):
                column = f"{model} {risk} {metric}"
                if column not in frame or frame[column].isna().all():
                    continue
                line = {"model": model, "metric": f"{risk} {metric}", "mean +- sd": _cell(frame, column, 4)}
                ref = f"{reference} {risk} {metric}"
                if model != reference and ref in frame:
                    diff = (frame[column] - frame[ref]).dropna()
                    line["minus " + reference] = f"{diff.mean():+.4f} +- {diff.std():.4f}"
                    line["seeds above"] = f"{int((diff > 0).sum())}/{len(diff)}"
                line["margin"] = _cell(frame, f"{model} {risk} margin {metric}", 4)
                trees = f"{model} {risk} trees"
                line["trees"] = f"{frame[trees].mean():.0f}" if trees in frame and frame[trees].notna().any() else "-"
                cpu = f"{model} {risk} cpu s"
                line["cpu s"] = f"{frame[cpu].mean():.0f}" if cpu in frame and frame[cpu].notna().any() else "-"
                lines.append(line)
    return pd.DataFrame(lines).fillna("")


def ratios(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    lines = []
    for metric, goal in GOALS.items():
        for model in models_of(frame):
            column = f"{model}/oracle {metric}"
            if column not in frame or frame[column].isna().all():
                continue
            values = frame[column]
            lines.append({"ratio to oracle": metric, "model": model, "goal": f"{goal:.2f}",
                          **{f"seed {s}": f"{v:.3f}" for s, v in zip(frame["seed"], values, strict=True)},
                          "mean +- sd": f"{values.mean():.3f} +- {values.std():.3f}",
                          "met": f"{int((values >= goal).sum())}/{len(values)}"})
    return pd.DataFrame(lines)


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    name, _, settings = text.partition("=")
    try:
        variant = json.loads(settings) if settings else {}
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"--variant {name}: not JSON ({exc.msg})") from None
    if not name or not isinstance(variant, dict):
        raise argparse.ArgumentTypeError("--variant NAME=JSON, the JSON an object of settings")
    return name, variant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", choices=("world2", "varied"), default="world2",
                        help="bench/world2 (with its oracle), or the simulator's varied worlds")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--orders", type=int, default=150_000, help="orders per world (default 150,000: about 2 "
                        "minutes of CPU per world)")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--as-of-day", type=int, default=60)
    parser.add_argument("--variant", type=parse_variant, action="append", metavar="NAME=JSON",
                        help="a training setting to compare (repeatable; default: ours={}, risk train's defaults)")
    parser.add_argument("--no-plain", dest="plain", action="store_false", help="skip the plain LightGBM")
    parser.add_argument("--threads", type=int, help="LightGBM threads of every model (default: RiskModel's)")
    parser.add_argument("--cache", type=Path, help="keep each world and its features here for later runs")
    parser.add_argument("--out", type=Path, help="also write each world's row as JSON lines here")
    parser.add_argument("--verbose", action="store_true", help="print the steps of each world with their times")
    args = parser.parse_args()
    variants = dict(args.variant or [("ours", {})])
    for variant in variants.values():
        variant_config(TrainConfig(as_of=pd.Timestamp("2026-01-01T00:00:00Z")), variant)  # a typo fails now
    started = time.perf_counter()
    rows = []
    for seed in args.seeds:
        rows.append(run_world(args.world, seed, args.orders, args.days, args.as_of_day, variants, args.plain,
                              args.cache, args.verbose, args.threads))
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in rows[-1].items()}), flush=True)
        if args.out:
            args.out.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    print(f"\n{args.world}: {args.orders:,} orders over {args.days} days per world; trained as of day "
          f"{args.as_of_day}, tested on days {args.as_of_day}-{args.days} with every outcome ever reported")
    print(table(rows).to_string(index=False))
    if len(variants) > 1:
        print()
        print(paired(rows, next(iter(variants))).to_string(index=False))
    by_kind = pd.DataFrame(rows)
    print("\nregret AUC of each outcome kind alone (its orders against the orders without regret)")
    kinds = [{"model": model, **{kind: _cell(by_kind, f"{model} regret auc {kind}") for kind in sorted(REGRET_KINDS)}}
             for model in models_of(by_kind)]
    print(pd.DataFrame(kinds).to_string(index=False))
    if args.world == "world2":
        print()
        print(ratios(rows).to_string(index=False))
        print("\nmean percentile of each kind of fraud's scores among genuine orders (1.0: above all; 0.5: chance)")
        print(pattern_table(rows).to_string(index=False))
    print(f"\nwall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
