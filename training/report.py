"""One self-contained HTML report of an evaluation, for a person opening it in a browser.

Self-contained (plots inlined as base64 PNG, CSS inline, nothing fetched) so the file
can be mailed, attached to a ticket or archived next to the model and still open.
Figures are drawn on matplotlib's Agg canvas directly, without pyplot, so nothing
global changes in the process that calls this (a notebook, a test, the CLI).
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve, roc_curve

from risk.files import write_text_atomically
from risk.money import format_money, minor_exponent
from risk.policy import Policy, percent
from training.evaluate import (
    RISKS,
    THRESHOLDS,
    Evaluation,
    compare,
    cost_by_fraud_threshold,
    flatten,
    json_ready,
    money_line,
    threshold_curves,
)

TOP_FEATURES = 25
LOW_SCORE = 1e-4  # log axes need a floor; scores below it are drawn at it
_COLOURS = {"ours": "#1f5fa8", "baseline": "#c0561b"}

_CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
nav a { margin-right: 1em; } p.note { color: #555; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; } thead th { background: #f3f3f3; }
img { max-width: 100%; }
"""


def write_report(
    path: str | Path,
    title: str,
    evaluation: Evaluation,
    baseline: Evaluation | None = None,
    importance: dict[str, dict[str, float]] | None = None,
    extra: dict | None = None,
    policy: Policy | None = None,
    policy_words: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write the report to `path` (one HTML file) and return the path.

    `policy` adds the cost and review curves against each of its thresholds; `policy_words`
    states it in a sentence at the top; `metadata` (a model directory's) adds the model's
    hyperparameters, trees, calibrators and the training diagnostics.
    """
    runs = {"ours": evaluation} if baseline is None else {"ours": evaluation, "baseline": baseline}
    sections = [("overview", "Overview", _overview(evaluation, extra, policy_words))]
    if metadata is not None:
        sections.append(("model", "Model and diagnostics", model_section(metadata)))
    if policy is not None:
        sections.append(("policy", "Policy thresholds", _policy_section(evaluation, policy)))
    sections += [
        ("roc", "ROC curves", _roc_section(runs)),
        ("precision-recall", "Precision-recall", _pr_section(runs)),
        ("calibration", "Calibration", _calibration_section(runs)),
        ("distributions", "Score distributions", _distribution_section(evaluation)),
        ("cost", "Cost vs. fraud threshold", _cost_section(evaluation)),
    ]
    if importance and any(importance.values()):
        sections.append(("importance", "Feature importance", _importance_section(importance)))
    sections.append(("per-week", "Metrics per week", _week_section(evaluation)))
    sections.append(("metrics", "All metrics", _metrics_section(evaluation)))
    if baseline is not None:
        sections.append(("baseline", "Baseline comparison", _baseline_section(evaluation, baseline)))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, _page(title, sections))  # a failure leaves the previous report whole
    return path


def _page(title: str, sections: list[tuple[str, str, str]]) -> str:
    nav = " ".join(f'<a href="#{anchor}">{html.escape(name)}</a>' for anchor, name, _ in sections)
    body = "\n".join(f'<section id="{anchor}">\n<h2>{html.escape(name)}</h2>\n{content}\n</section>'
                     for anchor, name, content in sections)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n<nav>{nav}</nav>\n{body}\n</body>\n</html>\n")


# ---- figures -----------------------------------------------------------------------------


def _figure(ncols: int = 2, height: float = 4.0) -> tuple[Figure, list[Axes]]:
    figure = Figure(figsize=(max(5.2 * ncols, 8.0), height), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, ncols, squeeze=False)[0]
    return figure, list(axes)


def _img(figure: Figure, alt: str) -> str:
    """The figure as an inline PNG <img>."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _per_risk(draw: Callable[[Axes, str], None], alt: str) -> str:
    figure, axes = _figure(len(RISKS))
    for ax, risk in zip(axes, RISKS, strict=True):
        draw(ax, risk)
        ax.set_title(risk)
        ax.grid(alpha=0.3)
    return _img(figure, alt)


def _has_both_classes(y: np.ndarray) -> bool:
    return 0 < int(y.sum()) < len(y)


LegendPlace = Literal["best", "upper left", "upper right", "lower right"]


def _legend(ax: Axes, loc: LegendPlace) -> None:
    if ax.get_legend_handles_labels()[0]:  # a panel may have nothing to label (no positives)
        ax.legend(loc=loc, fontsize="small")


def _no_data(ax: Axes, why: str) -> None:
    ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes, color="#777")


def _roc_section(runs: dict[str, Evaluation]) -> str:
    def draw(ax: Axes, risk: str) -> None:
        for name, run in runs.items():
            y = run.labels[risk]
            if not _has_both_classes(y):
                _no_data(ax, "needs positives and negatives")
                continue
            fpr, tpr, _ = roc_curve(y, run.scores[risk])
            auc = run.metrics[risk]["roc_auc"]
            ax.plot(np.maximum(fpr, LOW_SCORE), tpr, color=_COLOURS[name], label=f"{name} (AUC {auc:.3f})")
        for target in (0.001, 0.01):
            ax.axvline(target, color="#999", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        ax.set_xlim(LOW_SCORE, 1)
        ax.set_xlabel("false-positive rate (log scale)")
        ax.set_ylabel("recall (true-positive rate)")
        _legend(ax, "lower right")

    note = ("<p class='note'>The false-positive rate is on a log scale: at our volumes only the region "
            "below 1% (dotted lines at 0.1% and 1%) is an affordable operating point.</p>")
    return note + _per_risk(draw, "ROC curves")


def _pr_section(runs: dict[str, Evaluation]) -> str:
    def draw(ax: Axes, risk: str) -> None:
        for name, run in runs.items():
            y = run.labels[risk]
            if not y.any():
                _no_data(ax, "no positives")
                continue
            precision, recall, _ = precision_recall_curve(y, run.scores[risk])
            ap = run.metrics[risk]["average_precision"]
            ax.plot(recall, precision, color=_COLOURS[name], label=f"{name} (AP {ap:.3f})")
        prevalence = runs["ours"].metrics[risk]["prevalence"]
        ax.axhline(prevalence, color="#999", linestyle=":", linewidth=1, label=f"prevalence {prevalence:.2%}")
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_ylim(0, 1.02)
        _legend(ax, "upper right")

    note = "<p class='note'>With rare positives, precision-recall shows what ROC hides: how clean the top is.</p>"
    return note + _per_risk(draw, "precision-recall curves")


def _calibration_section(runs: dict[str, Evaluation]) -> str:
    def draw(ax: Axes, risk: str) -> None:
        top = 0.0
        for name, run in runs.items():
            table = run.reliability[risk]
            ax.plot(table["mean_predicted"], table["observed_rate"], marker="o", color=_COLOURS[name], label=name)
            top = max(top, float(table["mean_predicted"].max()), float(table["observed_rate"].max()))
        top = top * 1.05 or 1.0
        ax.plot([0, top], [0, top], color="#999", linestyle=":", linewidth=1, label="perfect")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_xlabel("mean predicted probability (per decile)")
        ax.set_ylabel("observed rate")
        _legend(ax, "upper left")

    tables = "".join(f"<h3>{risk}</h3>{_table(runs['ours'].reliability[risk])}" for risk in RISKS)
    note = ("<p class='note'>Ten equal-count bins of the score. Decisions price the scores as probabilities, "
            "so points off the diagonal mean mispriced decisions.</p>")
    return note + _per_risk(draw, "reliability diagrams") + tables


def _distribution_section(evaluation: Evaluation) -> str:
    bins = np.logspace(math.log10(LOW_SCORE), 0, 50)

    def draw(ax: Axes, risk: str) -> None:
        y, score = evaluation.labels[risk], np.clip(evaluation.scores[risk], LOW_SCORE, 1)
        for mask, label, colour in ((~y, "negative", "#7a7a7a"), (y, "positive", "#c0561b")):
            if mask.any():
                ax.hist(score[mask], bins=bins.tolist(), density=True, histtype="step", linewidth=1.5, color=colour,
                        label=f"{label} ({int(mask.sum()):,})")
        ax.set_xscale("log")
        ax.set_xlabel("score (log scale)")
        ax.set_ylabel("density")
        _legend(ax, "upper left")

    note = "<p class='note'>Each class normalised to its own area, so the rare positives stay visible.</p>"
    return note + _per_risk(draw, "score distributions by label")


def _cost_section(evaluation: Evaluation) -> str:
    currency = evaluation.costs.currency
    scale = 10 ** minor_exponent(currency)  # drawn in major units: "45.04 USD", not 4504
    fraud = evaluation.scores["fraud"]
    grid = np.unique(np.concatenate([np.quantile(fraud, np.linspace(0, 1, 401)), np.logspace(-4, 0, 81)]))
    curve = cost_by_fraud_threshold(evaluation, np.clip(grid, LOW_SCORE, 1))
    curve["cost_per_order"] /= scale
    policy = {k: v / scale if k.endswith("cost_per_order") else v for k, v in evaluation.metrics["policy"].items()}
    best = curve.iloc[curve["cost_per_order"].argmin()]
    figure, (ax,) = _figure(1, height=4.2)
    ax.plot(curve["threshold"], curve["cost_per_order"], color=_COLOURS["ours"], label="decline if fraud >= x")
    ax.axhline(policy["approve_all_cost_per_order"], color="#999", linestyle=":", label="approve everything")
    ax.axhline(policy["cost_per_order"], color="#176b2c", linestyle="--", label="the given decisions")
    ax.plot([best["threshold"]], [best["cost_per_order"]], marker="o", color="#a3261b",
            label=f"lowest: x = {percent(best['threshold'], 3)}")
    ceiling = 2.5 * max(policy["approve_all_cost_per_order"], policy["cost_per_order"])
    if ceiling > 0 and curve["cost_per_order"].max() > ceiling:  # declining everything dwarfs the useful range
        ax.set_ylim(0, ceiling)
    ax.set_xscale("log")
    ax.set_xlabel("fraud threshold x (log scale)")
    ax.set_ylabel(f"cost per order ({evaluation.costs.currency})")
    ax.grid(alpha=0.3)
    _legend(ax, "best")
    money = {key: format_money(value * scale, currency) for key, value in (
        ("best", best["cost_per_order"]), ("given", policy["cost_per_order"]),
        ("all", policy["approve_all_cost_per_order"]))}
    note = (f"<p class='note'>Cost per labelled order of the decline-only policy at each threshold, priced with "
            f"the same cost model as the decisions. Lowest: {money['best']} at x = "
            f"{percent(best['threshold'], 3)} ({int(best['declined']):,} declined); the given decisions cost "
            f"{money['given']}, approving everything {money['all']}. "
            "The y-axis may be cut: declining everything costs far more.</p>")
    return note + _img(figure, "cost vs fraud threshold")


def _policy_section(evaluation: Evaluation, policy: Policy) -> str:
    """Expected cost per order and reviews per day against each threshold, the other two held fixed."""
    curves = threshold_curves(evaluation, policy)
    currency, capacity = evaluation.costs.currency, evaluation.costs.review_capacity_per_day
    scale = 10 ** minor_exponent(currency)
    figure, axes = _figure(len(THRESHOLDS), height=4.0)
    for ax, name in zip(axes, THRESHOLDS, strict=True):
        curve = curves[curves["threshold"] == name]
        ax.plot(curve["value"], curve["cost_per_order"] / scale, color=_COLOURS["ours"], label="cost per order")
        ax.set_xscale("log")
        ax.set_xlabel(f"{name.replace('_', ' ')} threshold (log scale)")
        ax.set_ylabel(f"expected cost per order ({currency})", color=_COLOURS["ours"])
        chosen = getattr(policy, name)
        if chosen <= 1:
            ax.axvline(chosen, color="#176b2c", linestyle="--", label=f"chosen {percent(chosen)}")
        reviews = ax.twinx()
        reviews.plot(curve["value"], curve["reviews_per_day"], color=_COLOURS["baseline"], label="reviews a day")
        reviews.axhline(capacity, color=_COLOURS["baseline"], linestyle=":", linewidth=1)
        reviews.set_ylabel("reviews per day (dotted: capacity)", color=_COLOURS["baseline"])
        ax.grid(alpha=0.3)
        _legend(ax, "upper right")
    note = ("<p class='note'>Each panel moves one threshold and keeps the other two at the chosen policy's; costs "
            "are per labelled order of this slice, reviews per UTC day. A flat cost curve near the chosen value means "
            "the choice is robust; a review curve above the dotted capacity line is a queue analysts cannot clear."
            "</p>")
    return note + _img(figure, "expected cost and reviews per day against each threshold")


def model_section(metadata: dict[str, Any]) -> str:
    """Hyperparameters, trees, calibrators, label maturity and the warnings of training."""
    diagnostics = metadata.get("diagnostics", {})
    warnings = diagnostics.get("warnings", [])
    items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
    parts = [f"<p><b>Warnings:</b></p><ul>{items}</ul>" if warnings else "<p>No warnings.</p>"]
    facts = metadata.get("models", {})
    if facts:
        rows = {risk: {"trees": f["trees"], "calibrator": f["calibrator"], "positive weight used": f["pos_weight"],
                       "positives (train)": f["positives_train"], "positives (validation)": f["positives_valid"],
                       **f["params"]} for risk, f in facts.items()}
        parts.append(_table(pd.DataFrame(rows).rename_axis("setting").reset_index()))
    maturity = diagnostics.get("label_maturity")
    if maturity:
        rows = {risk: {"median delay (days)": m["delay_days"].get("p50"),
                       "p90 delay (days)": m["delay_days"].get("p90"),
                       "outcomes in the estimate": m["outcomes_in_estimate"],
                       "positives probably unreported, training": m["unreported_share_train"],
                       "positives probably unreported, validation": m["unreported_share_valid"]}
                for risk, m in maturity.items()}
        parts.append("<p class='note'>Reporting delays estimated from the outcomes known at the training moment "
                     "(orders old enough for their delays to be seen); the unreported share is 1 - observed / "
                     "expected positives given each order's age.</p>")
        parts.append(_table(pd.DataFrame(rows).rename_axis("label maturity").reset_index()))
    if metadata.get("seed_spread"):
        parts.append(_key_values({"seed spread": metadata["seed_spread"]}))
    code = metadata.get("code")
    if code:
        parts.append(_key_values({"code": code, "schema hash": metadata.get("schema_hash")}))
    return "\n".join(parts)


def _importance_section(importance: dict[str, dict[str, float]]) -> str:
    risks = [risk for risk, values in importance.items() if values]
    figure, axes = _figure(len(risks), height=0.22 * TOP_FEATURES + 1.2)
    for ax, risk in zip(axes, risks, strict=True):
        top = pd.Series(importance[risk], dtype="float64").sort_values(ascending=False).head(TOP_FEATURES)
        ax.barh(top.index[::-1], top.to_numpy()[::-1], color=_COLOURS["ours"])
        ax.set_ylim(len(top) - TOP_FEATURES - 0.5, len(top) - 0.5)  # same bar height whatever the count
        ax.set_title(risk)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_xlabel("importance")
    note = f"<p class='note'>The {TOP_FEATURES} most important features per risk.</p>"
    return note + _img(figure, "feature importance")


def _week_section(evaluation: Evaluation) -> str:
    weeks = evaluation.per_week
    figure, axes = _figure(2, height=3.6)
    for ax, metric in zip(axes, ("auc", "ap"), strict=True):
        for risk, style in zip(RISKS, ("-", "--"), strict=True):
            ax.plot(weeks["week"], weeks[f"{risk}_{metric}"], marker="o", linestyle=style, label=risk)
        ax.set_title("ROC AUC" if metric == "auc" else "average precision")
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        ax.grid(alpha=0.3)
        _legend(ax, "best")
    note = "<p class='note'>ISO weeks of the order's creation time; weeks with few positives are noisy.</p>"
    return note + _img(figure, "metrics per week") + _table(weeks)


# ---- tables ------------------------------------------------------------------------------


def _overview(evaluation: Evaluation, extra: dict | None, policy_words: str | None = None) -> str:
    data = evaluation.metrics["data"]
    currency = evaluation.costs.currency
    words = f"<p><b>Policy:</b> {html.escape(policy_words)}</p>" if policy_words else ""
    money = (f"<p class='note'>Costs in {html.escape(currency)} (minor units converted for display; "
             f"{html.escape(money_line(evaluation.metrics['money']))}); review capacity "
             f"{evaluation.costs.review_capacity_per_day:,.0f} a day.</p>")
    lines = words + money + (f"<p>Labels as known at <b>{html.escape(data['as_of'])}</b> "
             f"(maturity {data['maturity_days']:g} days): "
             f"{data['n_labelled']:,} labelled orders scored of {data['n_predictions']:,} predictions; "
             f"{data['n_unlabelled']:,} left out because their label was not known yet. "
             f"Orders from {html.escape(data['first_order'])} to {html.escape(data['last_order'])}.</p>")
    headline = {f"{risk} {name}": evaluation.metrics[risk][key] for risk in RISKS
                for name, key in (("positives", "positives"), ("ROC AUC", "roc_auc"),
                                  ("average precision", "average_precision"))}
    policy = evaluation.metrics["policy"]
    headline |= {"cost per order": format_money(policy["cost_per_order"], currency),
                 "approve-all cost per order": format_money(policy["approve_all_cost_per_order"], currency),
                 "saving vs approve-all": policy["saving_rate"],
                 "reviews per day (mean, max)": f"{policy['reviews_per_day_mean']:,.1f}, "
                                                f"{policy['reviews_per_day_max']:,.0f}",
                 "days over review capacity": f"{policy['days_over_capacity']} of {policy['days']}"}
    details = _key_values(extra) if extra else ""
    return lines + _key_values(headline) + details


def _key_values(values: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(_cell(v))}</td></tr>"
                   for k, v in flatten(json_ready(values)).items())
    return f"<table><tbody>{rows}</tbody></table>"


def _metrics_section(evaluation: Evaluation) -> str:
    return _key_values(evaluation.metrics)


def _baseline_section(ours: Evaluation, baseline: Evaluation) -> str:
    table = compare(ours, baseline)
    note = ("<p class='note'>Both evaluated on the same orders, outcomes and as-of time. "
            "delta = ours - baseline.</p>")
    return note + _table(table.reset_index())


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        value = float(value)
        if not math.isfinite(value):
            return "n/a"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)
