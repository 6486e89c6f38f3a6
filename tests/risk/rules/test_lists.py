"""Lists: typed matching (CIDR ranges, BIN prefixes, case) and point-in-time membership, one value and columns."""

from __future__ import annotations

import numpy as np
import pytest

from risk.rules import ListItem, ListSnapshot, NamedList

T0 = 1_000_000_000_000


def snapshot(kind: str, *items: ListItem, name: str = "l") -> ListSnapshot:
    return ListSnapshot([NamedList(name, kind, tuple(items), version=3)])  # type: ignore[arg-type]


def test_ip_list_matches_exact_addresses_and_cidr_ranges_of_both_versions():
    lists = snapshot("ip", ListItem("10.0.0.0/8"), ListItem("203.0.113.7"), ListItem("2001:db8::/32"))
    for address, expected in [("10.1.2.3", True), ("11.0.0.1", False), ("203.0.113.7", True),
                              ("203.0.113.8", False), ("2001:db8::1", True), ("2001:db9::1", False),
                              ("not an ip", False)]:
        assert lists.contains("l", address, T0) is expected, address


def test_card_bin_list_items_are_prefixes_of_the_card_bin():
    lists = snapshot("card_bin", ListItem("4111"), ListItem("52345678"))
    assert lists.contains("l", "411111", T0) and lists.contains("l", "41119999", T0)
    assert lists.contains("l", "52345678", T0)
    assert not lists.contains("l", "5234567", T0) and not lists.contains("l", "424242", T0)


def test_country_and_email_domain_lists_ignore_case():
    assert snapshot("country", ListItem("ng")).contains("l", "NG", T0)
    assert snapshot("email_domain", ListItem("@Mailinator.com")).contains("l", "mailinator.COM", T0)


def test_identifier_lists_compare_exactly():
    lists = snapshot("card_fingerprint", ListItem("card_AA"))
    assert lists.contains("l", "card_AA", T0) and not lists.contains("l", "card_aa", T0)


def test_missing_values_are_never_on_a_list():
    assert not snapshot("device", ListItem("d1")).contains("l", None, T0)


def test_item_counts_from_added_until_expiry_or_removal():
    item = ListItem("c1", added_at_us=T0, expires_at_us=T0 + 100, removed_at_us=T0 + 50)
    lists = snapshot("card_fingerprint", item)
    assert [lists.contains("l", "c1", T0 + dt) for dt in (-1, 0, 49, 50, 100)] == [False, True, True, False, False]
    assert snapshot("card_fingerprint", ListItem("c1", added_at_us=T0, expires_at_us=T0 + 10)).contains(
        "l", "c1", T0 + 9)


def test_a_value_removed_and_added_again_counts_in_both_intervals():
    lists = snapshot("device", ListItem("d", added_at_us=0, removed_at_us=10), ListItem("d", added_at_us=20))
    assert [lists.contains("l", "d", t) for t in (5, 15, 25)] == [True, False, True]


def test_contains_many_agrees_with_contains_row_by_row():
    lists = snapshot("ip", ListItem("10.0.0.0/8", added_at_us=100, expires_at_us=200),
                     ListItem("10.0.0.1", added_at_us=150), ListItem("192.168.1.1", removed_at_us=120))
    values = np.array(["10.0.0.1", "10.9.9.9", "192.168.1.1", None, "x", "10.0.0.1", "192.168.1.1"], dtype=object)
    at = np.array([120, 199, 119, 150, 150, 250, 120])
    expected = [lists.contains("l", v, int(t)) for v, t in zip(values, at, strict=True)]
    assert lists.contains_many("l", values, at).tolist() == expected == [True, True, True, False, False, True, False]


def test_kinds_versions_and_first_match():
    lists = snapshot("country", ListItem("NG", reason="proxy wave"))
    assert lists.kinds() == {"l": "country"} and lists.versions() == {"l": 3}
    assert lists.first_match("l", "NG", T0).reason == "proxy wave"  # type: ignore[union-attr]


@pytest.mark.parametrize(("kind", "value"), [("ip", "10.0.0.0/33"), ("card_bin", "41x1"), ("country", "USA")])
def test_items_that_cannot_be_of_their_kind_are_refused(kind, value):
    with pytest.raises(ValueError, match="list 'l'"):
        snapshot(kind, ListItem(value))


def test_list_names_are_what_rules_can_reference_and_unique():
    with pytest.raises(ValueError, match="lower-case letters"):
        snapshot("device", name="Bad-Name")
    with pytest.raises(ValueError, match="twice"):
        ListSnapshot([NamedList("a", "device", ()), NamedList("a", "ip", ())])
