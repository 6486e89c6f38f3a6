"""The storage key layout: written once, stable (a change needs a new Redis layout version)."""

from __future__ import annotations

import pandas as pd

from features.keys import (
    LABELS_LOG,
    ORDERS_LOG,
    entity_key_columns,
    entity_keys,
    log_head,
    pairs_log,
    reported_head,
    seen_head,
)
from risk.contract import Order, flatten
from tests.builders import make_order


def test_key_heads_keep_their_layout():
    assert log_head(ORDERS_LOG, "card") + "c1" == "orders:card:c1"
    assert log_head(LABELS_LOG, "seller") + "s1" == "labels:seller:s1"
    assert log_head(pairs_log("card"), "device") + "d1" == "pairs_card:device:d1"
    assert seen_head("buyer_card") + "b1|c1" == "seen:buyer_card:b1|c1"
    assert reported_head("fraud", "ip") + "i1" == "reported:fraud:ip:i1"


def test_pair_keys_join_both_keys_and_are_unknown_when_either_is():
    row = flatten(Order.model_validate(make_order(**{"session.device_id": None})))
    keys = entity_keys(row)
    assert keys["buyer_card"] == f"{keys['buyer']}|{keys['card']}"
    assert keys["device"] is None and keys["buyer_device"] is None


def test_batch_and_online_build_the_same_entity_keys():
    row = flatten(Order.model_validate(make_order()))
    columns = entity_key_columns(pd.DataFrame([row]))
    assert {name: values.iat[0] for name, values in columns.items()} == entity_keys(row)
