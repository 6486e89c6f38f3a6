"""What rules can name: every order field, feature, score; aliases; types read off the declarations."""

from __future__ import annotations

from features.catalog import FEATURE_NAMES
from risk.contract import ORDER_COLUMNS
from risk.rules.attributes import ALIASES, ATTRIBUTES, DERIVED, resolve


def test_every_order_field_and_every_feature_is_an_attribute():
    assert set(ORDER_COLUMNS) <= set(ATTRIBUTES)
    categorical_read_as_text = {"card_funding", "channel"}
    assert set(FEATURE_NAMES) - categorical_read_as_text <= set(ATTRIBUTES)
    assert {"fraud_score", "regret_score", "model_decision"} <= set(ATTRIBUTES)


def test_aliases_name_an_order_field_without_its_section_and_only_when_unambiguous():
    assert resolve("card_country").name == "payment_card_country"  # type: ignore[union-attr]
    assert resolve("ip_country").name == "session_ip_country"  # type: ignore[union-attr]
    assert resolve("card_fingerprint").name == "payment_card_fingerprint"  # type: ignore[union-attr]
    for ambiguous in ("country", "account_id", "followers"):
        assert ambiguous not in ALIASES
    assert "created_at" not in ALIASES  # the order's own field
    for alias, column in ALIASES.items():
        assert column in ORDER_COLUMNS and alias not in ATTRIBUTES


def test_types_come_from_the_contract_and_the_feature_sentences():
    assert ATTRIBUTES["amount"].type == "number" and ATTRIBUTES["amount"].source == "order"
    assert ATTRIBUTES["post_category"].type == "string"   # the field's text, not the feature's code
    assert ATTRIBUTES["created_at"].type == "time"
    assert ATTRIBUTES["prepaid_card"].type == "bool"       # a {flag:...} feature
    assert ATTRIBUTES["order_count_by_card_1h"].type == "number"
    assert ATTRIBUTES["quantity"].default == 1.0


def test_derived_attributes_are_written_in_the_language_over_known_names():
    assert "buyer_account_age_days" in ATTRIBUTES and "buyer_account_age_hours" in DERIVED
    assert "buyer_account_age_hours" not in FEATURE_NAMES


def test_catalog_lists_every_usable_name_once_with_what_it_reads():
    from risk.rules.attributes import catalog, known_names

    rows = catalog()
    assert [r["name"] for r in rows] == known_names()
    by_name = {r["name"]: r for r in rows}
    assert by_name["card_country"] == {"name": "card_country", "type": "string", "source": "alias",
                                       "reads": "payment_card_country"}
    assert by_name["buyer_account_age_hours"]["reads"] == "buyer_account_age_days * 24"
