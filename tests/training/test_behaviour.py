"""Behaviour a risk analyst can defend, on a model trained on simulated data and scored online.

More evidence of fraud never lowers the fraud score: escalating velocity on a card, a
device or an IP address, and a fresh fraud report on the card, the device or the buyer.
Scenarios are built order by order through the online features (OnlineFeatures over an
EmbeddedState), as the service would see them. The first two kinds of checks change only
the features of one entity, everything else held; the burst of the issue (25 new cards of
one BIN on one new device, 7 s apart) changes much more at once (the device gets older, the
buyer's history grows), and is checked as an analyst would read it.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from features.online import OnlineFeatures, to_us
from features.state.embedded import EmbeddedState
from models.bundle import ModelBundle
from risk.contract import Order
from risk.datasets import ORDERS, OUTCOMES, normalise
from tests.builders import make_order
from training.simulator import simulate
from training.train import TrainConfig, train

T = datetime.fromisoformat("2026-03-10T12:00:00+00:00")
ENTITY_FIELDS = {"card": "payment.card_fingerprint", "device": "session.device_id", "ip": "session.ip",
                 "buyer": "buyer.account_id"}


@pytest.fixture(scope="module")
def bundle() -> ModelBundle:
    orders, outcomes = simulate(60_000, 60, 21)
    orders, outcomes = normalise(orders, ORDERS), normalise(outcomes, OUTCOMES)
    config = TrainConfig(as_of=pd.Timestamp("2026-03-01T00:00:00Z"), valid_days=7,
                         fraud_params={"n_estimators": 80}, regret_params={"n_estimators": 20})
    return train(orders, outcomes, config, lambda message: None).bundle


BENIGN = {"buyer.created_at": "2023-05-01T10:00:00Z", "buyer.email_verified": True, "buyer.phone_verified": True,
          "buyer.followers": 250, "session.ip_country": "US", "payment.card_country": "US",
          "payment.funding": "credit", "shipping.matches_billing": True}
"""The contract example as an ordinary order: an old, verified account paying with a domestic card."""


def _ip(tag: str) -> str:
    """An address of the tag's own (deterministic: no hash())."""
    return f"198.51.100.{zlib.crc32(tag.encode()) % 250}"


def order(order_id: str, at: datetime, tag: str, **fields: object) -> Order:
    """An order at `at` whose entities are all its own (`tag`), but for the `fields` given."""
    own = {**BENIGN, "order_id": order_id, "created_at": at.isoformat(), "buyer.account_id": f"b_{tag}",
           "seller.account_id": f"s_{tag}", "session.device_id": f"d_{tag}", "session.ip": _ip(tag),
           "payment.card_fingerprint": f"c_{tag}", "shipping.address_hash": f"a_{tag}"}
    return Order.model_validate(make_order(**{**own, **fields}))


class Scene:
    """A fresh feature state, orders and outcomes put in it, and the fraud score of an order against it."""

    def __init__(self, bundle: ModelBundle) -> None:
        self.state = EmbeddedState()
        self.online, self.bundle = OnlineFeatures(self.state), bundle

    def add(self, o: Order) -> float:
        """Score the order, then record it (as the service does)."""
        values, writes = self.online.compute(o)
        self._apply(writes)
        return self.bundle.fraud.predict_one(np.asarray(values))

    def score(self, o: Order) -> float:
        values, _ = self.online.compute(o)
        return self.bundle.fraud.predict_one(np.asarray(values))

    def report(self, order_id: str, kind: str, at: datetime) -> None:
        writes = self.online.outcome_writes(order_id, kind, to_us(at))
        assert writes is not None
        self._apply(writes)

    def _apply(self, writes) -> None:
        self.state.apply(writes)


def target(entity: str) -> Order:
    return order("target", T, "target", **{ENTITY_FIELDS[entity]: f"shared_{entity}"} if entity != "ip"
                 else {"session.ip": "203.0.113.9"})


def shared(entity: str) -> dict[str, str]:
    return {ENTITY_FIELDS[entity]: "203.0.113.9" if entity == "ip" else f"shared_{entity}"}


@pytest.mark.parametrize("entity", ["card", "device", "ip"])
def test_escalating_velocity_on_one_entity_never_lowers_the_fraud_score(bundle, entity):
    scores = []
    for burst in (0, 1, 2, 4, 8, 16, 25):
        scene = Scene(bundle)
        scene.add(order("first", T - timedelta(days=40), "first", **shared(entity)))  # seen long ago: age held
        for k in range(burst):
            scene.add(order(f"o{k}", T - timedelta(seconds=7 * (burst - k)), f"o{k}", **shared(entity)))
        scores.append(scene.score(target(entity)))
    assert all(later >= earlier for earlier, later in zip(scores, scores[1:], strict=False)), scores


@pytest.mark.parametrize("entity", ["card", "device", "buyer"])
@pytest.mark.parametrize("kind", ["confirmed_fraud", "fraud_chargeback"])
def test_a_fresh_fraud_report_on_the_card_device_or_buyer_never_lowers_the_fraud_score(bundle, entity, kind):
    scores = []
    for reported in (False, True):
        scene = Scene(bundle)
        scene.add(order("earlier", T - timedelta(days=2), "earlier", **shared(entity)))
        if reported:
            scene.report("earlier", kind, T - timedelta(minutes=15))
        scores.append(scene.score(target(entity)))
    assert scores[1] >= scores[0], scores


def test_a_card_testing_burst_never_ends_below_where_it_started(bundle):
    """25 new cards of one BIN on one new device, 7 s apart: each card after the third scores at least as
    high as the third, and none below the first."""
    scene = Scene(bundle)
    scores = [scene.add(order(f"burst{k}", T + timedelta(seconds=7 * k), "burst", **{
        "payment.card_fingerprint": f"card_{k}", "payment.card_bin": "411111", "amount": 150,
        "post.listed_price": 150})) for k in range(25)]
    assert min(scores[3:]) >= scores[2] and min(scores) >= scores[0], np.round(scores, 4).tolist()
    assert scores[-1] > 2 * scores[0]


def test_every_feature_with_a_declared_direction_moves_the_fraud_score_only_that_way(bundle):
    """On varied rows, raising each directed feature (from unknown, too) never moves the score against it."""
    from features.catalog import FEATURE_NAMES, FRAUD_DIRECTIONS

    rng = np.random.default_rng(0)
    rows = rng.choice([np.nan, 0.0, 1.0, 3.0, 50.0, 4000.0], size=(60, len(FEATURE_NAMES))).astype("float64")
    for name, direction in FRAUD_DIRECTIONS.items():
        j = FEATURE_NAMES.index(name)
        steps = [float(v) for v in np.geomspace(1, 1e7, 8)]
        steps = steps + [np.nan] if direction < 0 else [0.0] + steps  # an unknown report age means "never": oldest
        scores = []
        for value in steps:
            X = rows.copy()
            X[:, j] = value
            scores.append(bundle.fraud.predict_proba(X))
        moved = np.diff(np.array(scores), axis=0) * direction
        assert moved.min() >= -1e-12, name
