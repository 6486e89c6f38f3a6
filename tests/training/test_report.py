"""The HTML report is one self-contained file with every section a reader expects."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from training.evaluate import Evaluation, evaluate
from training.report import TOP_FEATURES, write_report

START = pd.Timestamp("2026-01-05T10:00:00Z")
AS_OF = START + timedelta(days=120)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def make_evaluation(seed: int, informative: bool = True, regret_positives: bool = True) -> Evaluation:
    """400 mature orders over four weeks with a few fraud and regret outcomes."""
    rng = np.random.default_rng(0)
    n = 400
    ids = [f"o{i}" for i in range(n)]
    created = START + pd.to_timedelta(np.arange(n) * 100, unit="min")
    fraud = rng.random(n) < 0.05
    regret = (rng.random(n) < 0.1) & ~fraud & regret_positives
    noise = np.random.default_rng(seed).random(n)
    fraud_score = np.clip(0.3 * fraud + 0.2 * noise, 0, 1) if informative else noise
    regret_score = np.clip(0.2 * regret + 0.1 * noise, 0, 1)
    decision = np.where(fraud_score > 0.35, "decline", np.where(regret_score > 0.25, "review", "approve"))
    orders = pd.DataFrame({"order_id": ids, "created_at": created, "amount": rng.integers(500, 50_000, n),
                           "currency": "USD"})
    kinds = np.where(fraud, "fraud_chargeback", np.where(regret, "refund", ""))
    outcomes = pd.DataFrame({"order_id": ids, "kind": kinds, "reported_at": created + timedelta(days=10)})
    outcomes = outcomes[kinds != ""]
    predictions = pd.DataFrame({"order_id": ids, "fraud_score": fraud_score, "regret_score": regret_score,
                                "decision": decision})
    return evaluate(predictions, orders, outcomes, as_of=AS_OF)


@pytest.fixture(scope="module")
def ours() -> Evaluation:
    return make_evaluation(1)


@pytest.fixture(scope="module")
def baseline() -> Evaluation:
    return make_evaluation(2, informative=False)


def section_ids(text: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)"', text)


def images(text: str) -> list[bytes]:
    return [base64.b64decode(data) for data in re.findall(r'<img src="data:image/png;base64,([^"]+)"', text)]


def test_report_is_one_html_file_with_every_section_and_inline_pngs(tmp_path, ours) -> None:
    path = write_report(tmp_path / "out" / "report.html", "Model A", ours)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert section_ids(text) == ["overview", "roc", "precision-recall", "calibration", "distributions", "cost",
                                 "per-week", "metrics"]
    pngs = images(text)
    assert len(pngs) == 6 and all(png.startswith(PNG_SIGNATURE) for png in pngs)
    assert "2026-W02" in text and "reviews_per_day_mean" in text


def test_report_fetches_nothing_from_elsewhere(tmp_path, ours) -> None:
    text = write_report(tmp_path / "report.html", "Model A", ours).read_text()
    assert not re.search(r'(src|href)="(?!data:|#)', text)
    assert "<script" not in text and "<link" not in text


def test_baseline_and_importance_add_their_sections(tmp_path, ours, baseline) -> None:
    importance = {"fraud": {f"feature_{i}": float(i) for i in range(40)}, "regret": {"amount": 1.0}}
    text = write_report(tmp_path / "report.html", "A vs B", ours, baseline, importance=importance).read_text()
    ids = section_ids(text)
    assert "importance" in ids and ids[-1] == "baseline"
    assert "fraud.roc_auc" in text and "delta" in text
    assert len(images(text)) == 7


def test_importance_shows_only_the_top_features(tmp_path, ours) -> None:
    importance = {"fraud": {f"feature_{i}": float(i) for i in range(TOP_FEATURES + 10)}}
    text = write_report(tmp_path / "report.html", "A", ours, importance=importance).read_text()
    assert "importance" in section_ids(text)
    assert f"The {TOP_FEATURES} most important features" in text


def test_title_and_extra_details_are_escaped(tmp_path, ours) -> None:
    extra = {"model": "<gbm & co>", "params": {"learning_rate": 0.05}}
    text = write_report(tmp_path / "report.html", "Risk <v2>", ours, extra=extra).read_text()
    assert "<title>Risk &lt;v2&gt;</title>" in text
    assert "&lt;gbm &amp; co&gt;" in text and "params.learning_rate" in text


def test_a_risk_without_positives_still_gives_a_report(tmp_path) -> None:
    evaluation = make_evaluation(1, regret_positives=False)
    text = write_report(tmp_path / "report.html", "No regret", evaluation).read_text()
    assert len(images(text)) == 6
    assert "n/a" in text


def test_policy_words_and_threshold_curves_are_drawn_with_the_currency(tmp_path, ours) -> None:
    from risk.policy import Policy

    words = "decline if fraud >= 45%; review if fraud >= 3.1% or regret >= 17%: about 28 reviews a day"
    text = write_report(tmp_path / "report.html", "A", ours, policy=Policy(0.45, 0.031, 0.17),
                        policy_words=words).read_text()
    assert section_ids(text)[:2] == ["overview", "policy"]
    assert "decline if fraud &gt;= 45%" in text and "Costs in USD" in text
    assert "expected cost and reviews per day against each threshold" in text
    assert len(images(text)) == 7
    assert re.search(r"cost per order</td><td>\d+\.\d\d USD</td>", text)


def test_model_section_shows_settings_and_escapes_the_warnings(tmp_path, ours) -> None:
    metadata = {"models": {"fraud": {"trees": 3, "calibrator": "platt", "pos_weight": 9.0, "positives_train": 12,
                                     "positives_valid": 4, "params": {"num_leaves": 31}}},
                "diagnostics": {"warnings": ["fraud: early stopping kept only 3 trees <script>"]}}
    text = write_report(tmp_path / "report.html", "A", ours, metadata=metadata).read_text()
    assert "model" in section_ids(text)
    assert "kept only 3 trees &lt;script&gt;" in text and "<script>" not in text
    assert "num_leaves" in text and "platt" in text
