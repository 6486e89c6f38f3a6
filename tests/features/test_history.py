"""History feature definitions: names generated from their parts, reads bound by name."""

from __future__ import annotations

import pytest

from features.definition import FeatureDef, Sentence
from features.history import ENTITY_WORDS, HISTORY_BLOCKS, HISTORY_FEATURES, WINDOW_WORDS, HistoryBlock
from features.reads import FirstSeen, Prefix


def test_every_history_name_is_generated_from_its_declared_parts():
    for feature in HISTORY_FEATURES:
        for part in (feature.entity, feature.window, feature.label, feature.other):
            if part is not None and "{" in feature.pattern:
                assert part in feature.name, (feature.name, part)
        assert "{" not in feature.name


def test_every_window_and_entity_a_feature_uses_has_words():
    for feature in HISTORY_FEATURES:
        assert feature.window is None or feature.window in WINDOW_WORDS
        assert feature.entity is None or feature.entity in ENTITY_WORDS
        assert feature.other is None or feature.other in ENTITY_WORDS


def test_blocks_declare_the_features_in_catalog_order():
    assert [name for block in HISTORY_BLOCKS for name in block.names] == [f.name for f in HISTORY_FEATURES]


def one_feature(window: str = "1h") -> tuple[FeatureDef, ...]:
    return (FeatureDef("orders_{window}", "Orders", Sentence("{count} orders in the last {window}"), "orders",
                       "card", window),)


def test_a_combine_taking_other_reads_than_the_block_names_is_refused():
    def combine(r, t, now, start):
        return [now[0] - start[0]]

    with pytest.raises(TypeError, match="takes reads"):
        HistoryBlock(one_feature(), {"start": Prefix("orders", "card", 1, True),
                                     "now": Prefix("orders", "card", 0, False)}, combine)


def test_a_window_without_words_is_refused_where_the_feature_is_declared():
    with pytest.raises(KeyError, match="no words for '2h'"):
        HistoryBlock(one_feature("2h"), {"first": FirstSeen("card")}, lambda r, t, first: [first])


def test_a_block_with_named_reads_binds_them_by_name():
    block = HistoryBlock(one_feature(), {"now": Prefix("orders", "card", 0, False),
                                         "starts": (Prefix("orders", "card", 3600, True),)},
                         lambda r, t, now, starts: [now[0] - start[0] for start in starts])
    assert block.combine({}, 0.0, **{"starts": ((2,),), "now": (5,)}) == [3]
    assert block.names == ("orders_1h",)
