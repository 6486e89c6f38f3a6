"""Rules and lists in the decision database: versions, audit trail, restore, approval, list spans, on both backends."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta

import pytest

from risk.errors import Conflict, NotFound
from serve.rules_store.errors import InvalidRule, NotAllowed, RefusedChange
from serve.rules_store.records import NewItem, StoredItem, to_us
from serve.rules_store.schema import ListItemRow
from serve.rules_store.store import RulesStore
from tests.serve.rules_store.conftest import T0, Clock, OpenDatabase

BIG = "decline if amount > 50000"


def test_every_rule_change_is_a_version_with_who_when_why_before_and_after(store: RulesStore, clock: Clock) -> None:
    store.create_rule("big", BIG, author="ann", why="card testing wave")
    clock.advance(minutes=5)
    store.edit_rule("big", author="bob", why="too many", base_version=1, text="decline if amount > 80000")
    clock.advance(minutes=5)
    store.set_enabled("big", False, author="ann", why="wave over")

    versions = store.rule_history("big")
    audit = store.history("rule", "big")

    assert [(v.version, v.change, v.author, v.state.enabled) for v in versions] == [
        (1, "create", "ann", True), (2, "edit", "bob", True), (3, "disable", "ann", False)]
    assert [v.changed_at for v in versions] == [T0, T0 + timedelta(minutes=5), T0 + timedelta(minutes=10)]
    assert [e.why for e in audit] == ["card testing wave", "too many", "wave over"]
    assert audit[0].before is None and audit[0].after["text"] == BIG
    assert audit[1].before["text"] == BIG and audit[1].after["text"] == "decline if amount > 80000"
    assert [e.epoch for e in audit] == sorted(e.epoch for e in audit) and len({e.epoch for e in audit}) == 3


def test_restoring_a_version_is_a_new_version_with_the_old_state(store: RulesStore) -> None:
    store.create_rule("big", BIG, author="ann")
    store.edit_rule("big", author="bob", text="review if amount > 10")
    store.set_mode("big", "test", author="bob")

    restored = store.restore_rule("big", 1, author="ann", why="back to the first")

    assert restored.head.version == 4 and restored.head.change == "restore"
    assert (restored.head.state.text, restored.head.state.mode) == (BIG, "live")
    assert store.history("rule", "big")[-1].before["text"] == "review if amount > 10"
    with pytest.raises(NotFound, match="no version 9"):
        store.restore_rule("big", 9, author="ann")


def test_an_edit_based_on_an_older_version_is_refused_with_conflict(store: RulesStore) -> None:
    store.create_rule("big", BIG, author="ann")
    store.edit_rule("big", author="bob", base_version=1, text="decline if amount > 60000")

    with pytest.raises(Conflict, match="at version 2, not 1"):
        store.edit_rule("big", author="ann", base_version=1, text="decline if amount > 70000")
    assert store.rule("big").head.state.text == "decline if amount > 60000"


def test_a_rule_that_does_not_compile_is_refused_with_its_position_and_nothing_is_stored(store: RulesStore) -> None:
    epoch = store.epoch()
    with pytest.raises(InvalidRule) as refused:
        store.create_rule("typo", "decline if amout > 5", author="ann")

    assert refused.value.fields["line"] == 1 and refused.value.fields["column"] == 12
    assert refused.value.fields["position"] == 11 and "amout" in refused.value.fields["reason"]
    assert "line 1, column 12" in refused.value.message
    assert store.epoch() == epoch and store.rules() == []
    with pytest.raises(InvalidRule, match="unknown list|no list|@nope"):
        store.create_rule("l", "decline if payment_card_fingerprint in @nope", author="ann")


def test_bad_names_and_duplicates_are_refused(store: RulesStore) -> None:
    store.create_rule("big", BIG, author="ann")
    with pytest.raises(Conflict):
        store.create_rule("big", BIG, author="ann")
    with pytest.raises(RefusedChange, match="rule_id"):
        store.create_rule("has space", BIG, author="ann")
    with pytest.raises(RefusedChange, match="author"):
        store.create_rule("other", BIG, author=" ")
    with pytest.raises(NotFound):
        store.edit_rule("missing", author="ann", text=BIG)
    with pytest.raises(RefusedChange, match="kind"):
        store.create_list("cards", "planets", author="ann")


def test_with_approval_required_a_decline_rule_waits_for_a_second_person(open_database: OpenDatabase,
                                                                         clock: Clock) -> None:
    store = RulesStore(open_database(), require_approval=True, clock=clock)
    created = store.create_rule("big", BIG, author="ann")
    review = store.create_rule("small", "review if amount > 100", author="ann")

    assert created.head.pending and created.live is None
    assert not review.head.pending  # only decline rules wait
    assert [s.rule_id for s in store.live()[1]] == ["small"]
    with pytest.raises(NotAllowed, match="second person"):
        store.approve_rule("big", approver="ann")

    approved = store.approve_rule("big", approver="root", why="checked on last week")

    assert not approved.head.pending and approved.live == approved.head and approved.head.author == "root"
    assert sorted(s.rule_id for s in store.live()[1]) == ["big", "small"]
    edited = store.edit_rule("big", author="ann", text="decline if amount > 1000")
    assert edited.head.pending and edited.live is not None and edited.live.version == 2  # the approved one acts
    assert {s.rule_id: s.text for s in store.live()[1]}["big"] == BIG
    store.set_enabled("big", False, author="ann")  # stopping a rule needs nobody's approval
    assert [s.rule_id for s in store.live()[1]] == ["small"]
    with pytest.raises(Conflict, match="waits for no approval"):
        store.approve_rule("big", approver="root")


def test_test_mode_rules_are_in_effect_as_test_mode_and_disabled_ones_are_not(store: RulesStore) -> None:
    store.create_rule("big", BIG, author="ann", mode="test")
    store.create_rule("off", "review if amount > 5", author="ann")
    store.set_enabled("off", False, author="ann")

    epoch, specs, _ = store.live()

    assert [(s.rule_id, s.mode, s.version) for s in specs] == [("big", "test", 1)]
    assert epoch == store.epoch() == 3


def test_list_items_keep_their_span_and_lists_rebuild_as_they_were(store: RulesStore, clock: Clock) -> None:
    store.create_list("cards", "card_fingerprint", author="ann", description="stolen")
    clock.advance(hours=1)
    store.add_items("cards", [NewItem("fp_1", "chargeback"), NewItem("fp_2", "", T0 + timedelta(hours=3))],
                    author="ann")
    clock.advance(hours=1)
    store.remove_items("cards", ["fp_1"], author="bob", why="card reissued")
    clock.advance(hours=1)

    listed, items = store.list_items("cards")
    _, every = store.list_items("cards", include_removed=True)
    [history] = store.lists_history()

    assert listed.version == 3 and [i.value for i in items] == ["fp_2"]
    assert {i.value: (i.added_at, i.removed_at) for i in every} == {
        "fp_1": (T0 + timedelta(hours=1), T0 + timedelta(hours=2)), "fp_2": (T0 + timedelta(hours=1), None)}
    spans = {i.value: (i.added_at_us, i.expires_at_us, i.removed_at_us) for i in history.items}
    assert spans == {"fp_1": (to_us(T0 + timedelta(hours=1)), None, to_us(T0 + timedelta(hours=2))),
                     "fp_2": (to_us(T0 + timedelta(hours=1)), to_us(T0 + timedelta(hours=3)), None)}
    assert [e.change for e in store.history("list", "cards")] == ["create", "add", "remove"]
    assert store.history("list", "cards")[-1].before["removed"][0]["value"] == "fp_1"


def test_adding_a_listed_value_again_replaces_its_reason_and_expiry(store: RulesStore, clock: Clock) -> None:
    store.create_list("cards", "card_fingerprint", author="ann")
    store.add_items("cards", [NewItem("fp_1", "first", T0 + timedelta(hours=1))], author="ann")
    clock.advance(minutes=10)
    store.add_items("cards", [NewItem("fp_1", "renewed", T0 + timedelta(days=1))], author="bob")

    _, items = store.list_items("cards")
    _, every = store.list_items("cards", include_removed=True)

    assert [(i.value, i.reason, i.author) for i in items] == [("fp_1", "renewed", "bob")]
    assert len(every) == 2 and every[0].removed_at == T0 + timedelta(minutes=10)


def test_an_item_read_back_and_audited_carries_every_column_of_its_row(store: RulesStore, clock: Clock) -> None:
    store.create_list("cards", "card_fingerprint", author="ann")
    store.add_items("cards", [NewItem("fp_1", "chargeback", T0 + timedelta(days=1))], author="ann")
    clock.advance(minutes=10)
    store.remove_items("cards", ["fp_1"], author="bob")

    _, [item] = store.list_items("cards", include_removed=True)

    assert ListItemRow._fields[2:] == tuple(field.name for field in fields(StoredItem))  # the row after its key
    expected = {"value": "fp_1", "reason": "chargeback", "author": "ann", "added_at": T0.isoformat(),
                "expires_at": (T0 + timedelta(days=1)).isoformat(),
                "removed_at": (T0 + timedelta(minutes=10)).isoformat(), "added_version": 2, "removed_version": 3}
    assert item.as_json() == expected
    before_removal = {**expected, "removed_at": None, "removed_version": None}
    assert store.history("list", "cards")[-1].before == {"removed": [before_removal]}  # the audit's form of it


def test_item_values_and_expiries_are_checked(store: RulesStore) -> None:
    store.create_list("cards", "card_fingerprint", author="ann")
    with pytest.raises(RefusedChange, match="not in the future"):
        store.add_items("cards", [NewItem("fp_1", "", T0)], author="ann")
    with pytest.raises(RefusedChange, match="value"):
        store.add_items("cards", [NewItem(" fp_1")], author="ann")
    with pytest.raises(NotFound, match="no item"):
        store.remove_items("cards", ["fp_9"], author="ann")
    with pytest.raises(NotFound, match="no list"):
        store.add_items("nope", [NewItem("fp_1")], author="ann")


def test_restoring_a_list_version_brings_back_its_items_as_a_new_version(store: RulesStore, clock: Clock) -> None:
    store.create_list("cards", "card_fingerprint", author="ann")
    store.add_items("cards", [NewItem("fp_1", "a"), NewItem("fp_2", "b")], author="ann")  # version 2
    clock.advance(minutes=1)
    store.remove_items("cards", ["fp_1", "fp_2"], author="bob")
    store.add_items("cards", [NewItem("fp_3")], author="bob")

    restored = store.restore_list("cards", 2, author="ann", why="removed by mistake")

    _, items = store.list_items("cards")
    assert restored.version == 5
    assert sorted((i.value, i.reason) for i in items) == [("fp_1", "a"), ("fp_2", "b")]
    assert store.history("list", "cards")[-1].change == "restore"


def test_versions_at_an_epoch_name_the_rules_and_lists_then_in_effect(store: RulesStore) -> None:
    store.create_list("cards", "card_fingerprint", author="ann")
    store.create_rule("block", "decline if payment_card_fingerprint in @cards", author="ann")
    epoch = store.epoch()
    store.add_items("cards", [NewItem("fp_1")], author="ann")
    store.edit_rule("block", author="ann", text="review if payment_card_fingerprint in @cards")

    then, now = store.versions_at(epoch), store.versions_at(store.epoch())

    assert (then.rules, then.lists) == ({"block": 1}, {"cards": 1})
    assert (now.rules, now.lists) == ({"block": 2}, {"cards": 2})


def test_two_connections_see_each_others_changes_and_never_share_a_version(open_database: OpenDatabase,
                                                                           clock: Clock) -> None:
    first, second = RulesStore(open_database(), clock=clock), RulesStore(open_database(), clock=clock)
    first.create_rule("big", BIG, author="ann")
    second.edit_rule("big", author="bob", base_version=1, text="decline if amount > 1")

    with pytest.raises(Conflict):
        first.edit_rule("big", author="ann", base_version=1, text="decline if amount > 2")
    assert first.rule("big").head.version == 2 and first.epoch() == second.epoch() == 2


def test_an_existing_decision_database_gains_the_rules_tables(tmp_path) -> None:
    from serve.decision_log import SQLiteDecisionLog
    from serve.rules_store.database import SQLiteDatabase

    path = tmp_path / "decisions.sqlite"
    SQLiteDecisionLog(path).close()
    store = RulesStore(SQLiteDatabase(path))
    store.create_rule("big", BIG, author="ann")

    assert SQLiteDecisionLog(path).count() == 0 and store.rule("big").head.version == 1


def test_items_are_stored_in_the_form_lists_match_and_a_value_not_of_the_kind_is_refused(store: RulesStore) -> None:
    store.create_list("ranges", "ip", author="ann")
    store.create_list("countries", "country", author="ann")
    store.add_items("ranges", [NewItem("10.1.2.3/8")], author="ann")
    store.add_items("countries", [NewItem("fr")], author="ann")

    assert [i.value for i in store.list_items("ranges")[1]] == ["10.0.0.0/8"]
    assert [i.value for i in store.list_items("countries")[1]] == ["FR"]
    store.remove_items("countries", ["FR"], author="ann")
    with pytest.raises(RefusedChange, match="not an IP address"):
        store.add_items("ranges", [NewItem("10.1.2")], author="ann")
