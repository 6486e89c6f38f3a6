"""The simulator honours the data contract and plants learnable, noisy signals."""

import ipaddress

import numpy as np
import pandas as pd
import pytest

from risk.contract import FRAUD_KINDS, ORDER_COLUMNS, REGRET_KINDS
from training.simulator import DEFAULT_START, Simulation, run_simulation, simulate

N_ORDERS, DAYS, SEED = 40_000, 30, 11

# The contract's flat layout (checked against the contract's sample header in tests/risk).
CONTRACT_COLUMNS = list(ORDER_COLUMNS)
TIME_COLUMNS = [c for c, kind in ORDER_COLUMNS.items() if kind == "time"]
COUNT_COLUMNS = [c for c, kind in ORDER_COLUMNS.items() if kind == "int" and c != "amount"]
BOOL_COLUMNS = [c for c, kind in ORDER_COLUMNS.items() if kind == "bool"]
STRING_COLUMNS = [c for c, kind in ORDER_COLUMNS.items() if kind == "str"]
POST_COLUMNS = [c for c in CONTRACT_COLUMNS if c.startswith("post_")]
SHIPPING_COLUMNS = [c for c in CONTRACT_COLUMNS if c.startswith("shipping_")]
EURO_COUNTRIES = {"DE", "FR", "ES", "IT", "NL", "IE"}


@pytest.fixture(scope="module")
def simulation() -> Simulation:
    return run_simulation(N_ORDERS, DAYS, SEED)


@pytest.fixture(scope="module")
def orders(simulation: Simulation) -> pd.DataFrame:
    """Orders with the hidden truth alongside (pattern, is_regret)."""
    truth = simulation.truth
    return simulation.orders.assign(pattern=truth["pattern"].to_numpy(), regret=truth["is_regret"].to_numpy())


@pytest.fixture(scope="module")
def many_orders() -> pd.DataFrame:
    """A bigger world, with the truth, for effects that need more posts or more fraud accounts."""
    simulation = run_simulation(150_000, DAYS, SEED)
    truth = simulation.truth
    return simulation.orders.assign(pattern=truth["pattern"].to_numpy(), regret=truth["is_regret"].to_numpy())


@pytest.fixture(scope="module")
def genuine(orders: pd.DataFrame) -> pd.DataFrame:
    return orders[orders["pattern"] == "genuine"]


def of_pattern(orders: pd.DataFrame, pattern: str) -> pd.DataFrame:
    rows = orders[orders["pattern"] == pattern]
    assert len(rows) > 0, f"no {pattern} orders simulated"
    return rows


def account_age(orders: pd.DataFrame) -> pd.Series:
    return orders["created_at"] - orders["buyer_created_at"]


# Determinism


def test_same_seed_gives_identical_frames() -> None:
    first, second = simulate(5_000, 10, 3), simulate(5_000, 10, 3)
    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_frame_equal(first[1], second[1])


def test_different_seeds_give_different_frames() -> None:
    first, second = simulate(5_000, 10, 3)[0], simulate(5_000, 10, 4)[0]
    assert not first["order_id"].equals(second["order_id"])
    assert not first["amount"].equals(second["amount"])


# Contract layout


def test_orders_have_exactly_the_contract_columns_in_order(simulation: Simulation) -> None:
    assert list(simulation.orders.columns) == CONTRACT_COLUMNS
    assert list(simulation.outcomes.columns) == ["order_id", "kind", "reported_at", "source"]


def test_columns_have_the_contract_dtypes(simulation: Simulation) -> None:
    orders = simulation.orders
    for name in TIME_COLUMNS:
        assert orders[name].dtype == "datetime64[ns, UTC]", name
    assert orders["amount"].dtype == np.int64
    for name in COUNT_COLUMNS:
        assert orders[name].dtype == "Int64", name
    for name in BOOL_COLUMNS:
        assert orders[name].dtype == "boolean", name
    for name in STRING_COLUMNS:
        assert pd.api.types.is_string_dtype(orders[name].dtype), name
    assert simulation.outcomes["reported_at"].dtype == "datetime64[ns, UTC]"


def test_orders_are_sorted_by_time_with_unique_ids(simulation: Simulation) -> None:
    orders = simulation.orders
    assert len(orders) == N_ORDERS
    assert orders["created_at"].is_monotonic_increasing
    assert orders["order_id"].is_unique


def test_ids_are_non_empty_and_at_most_128_characters(simulation: Simulation) -> None:
    for name in ["order_id", "buyer_account_id", "seller_account_id", "post_post_id", "session_device_id",
                 "payment_card_fingerprint", "shipping_address_hash"]:
        lengths = simulation.orders[name].dropna().str.len()
        assert lengths.between(1, 128).all(), name


def test_amounts_are_positive_and_counts_non_negative(orders: pd.DataFrame) -> None:
    assert (orders["amount"] > 0).all()
    assert (orders["quantity"].dropna() >= 1).all()
    for name in COUNT_COLUMNS:
        assert (orders[name].dropna() >= 0).all(), name


def test_codes_are_well_formed(orders: pd.DataFrame) -> None:
    for name in ["buyer_country", "seller_country", "session_ip_country", "payment_card_country",
                 "shipping_country"]:
        assert orders[name].dropna().str.fullmatch(r"[A-Z]{2}").all(), name
    assert set(orders["currency"]) <= {"USD", "EUR", "GBP"}
    assert orders["payment_card_bin"].dropna().str.fullmatch(r"\d{6}").all()
    assert set(orders["payment_funding"].dropna()) <= {"credit", "debit", "prepaid", "unknown"}
    assert set(orders["session_channel"].dropna()) == {"app", "web"}
    for ip in orders["session_ip"].dropna().unique():
        ipaddress.ip_address(ip)


def test_currency_is_consistent_with_the_seller_country(orders: pd.DataFrame) -> None:
    known = orders.dropna(subset=["seller_country"])
    expected = np.where(known["seller_country"] == "GB", "GBP",
                        np.where(known["seller_country"].isin(EURO_COUNTRIES), "EUR", "USD"))
    assert (known["currency"].to_numpy() == expected).all()
    assert (orders["currency"] == "USD").mean() > .5


def test_purchases_outside_a_post_miss_every_post_field(orders: pd.DataFrame) -> None:
    outside = orders["post_post_id"].isna()
    assert .07 < outside.mean() < .13
    assert orders.loc[outside, POST_COLUMNS].isna().all().all()
    assert orders.loc[outside, "session_post_viewed_at"].isna().all()


def test_digital_goods_have_no_shipping(orders: pd.DataFrame) -> None:
    digital = orders["post_digital"].fillna(False).astype(bool)
    assert digital.mean() > .05
    assert orders.loc[digital, SHIPPING_COLUMNS].isna().all().all()
    physical = orders["post_digital"].eq(False).fillna(False).astype(bool)
    assert orders.loc[physical, "shipping_address_hash"].notna().all()


def test_entity_times_are_never_after_the_order(orders: pd.DataFrame) -> None:
    for name in TIME_COLUMNS[1:]:
        assert (orders[name].dropna() <= orders.loc[orders[name].notna(), "created_at"]).all(), name
    viewed = orders.dropna(subset=["session_post_viewed_at", "post_created_at"])
    assert (viewed["post_created_at"] <= viewed["session_post_viewed_at"]).all()


def test_orders_fall_in_the_window(orders: pd.DataFrame) -> None:
    assert orders["created_at"].min() >= DEFAULT_START
    assert orders["created_at"].max() < DEFAULT_START + pd.Timedelta(days=DAYS)


def test_optional_fields_are_missing_at_realistic_rates(orders: pd.DataFrame) -> None:
    missing = orders.isna().mean()
    assert .10 < missing["session_post_viewed_at"] < .20
    assert .01 < missing["session_device_id"] < .06
    assert missing["payment_wallet"] > .6
    assert missing["buyer_account_id"] == missing["payment_card_fingerprint"] == 0


# Outcomes


def test_fraud_is_between_half_and_one_percent_of_orders(simulation: Simulation) -> None:
    reported = simulation.outcomes["kind"].isin(FRAUD_KINDS).sum() / N_ORDERS
    actual = simulation.truth["is_fraud"].mean()
    assert .005 <= reported <= .01
    assert .005 <= actual <= .01


def test_regret_is_a_few_percent_of_genuine_orders(simulation: Simulation) -> None:
    n_genuine = (~simulation.truth["is_fraud"]).sum()
    regret = simulation.outcomes["kind"].isin(REGRET_KINDS).sum() / n_genuine
    assert .03 <= regret <= .05


def test_only_genuine_orders_are_regretted_or_confirmed_legit(
    orders: pd.DataFrame, simulation: Simulation
) -> None:
    outcomes = simulation.outcomes.merge(orders[["order_id", "pattern"]], on="order_id")
    benign = outcomes["kind"].isin([*REGRET_KINDS, "confirmed_legit"])
    assert (outcomes.loc[benign, "pattern"] == "genuine").all()
    assert (outcomes.loc[~benign, "pattern"] != "genuine").all()
    assert outcomes["order_id"].is_unique


def test_about_a_tenth_of_fraud_is_never_reported(simulation: Simulation) -> None:
    reported = simulation.outcomes["kind"].isin(FRAUD_KINDS).sum()
    assert .8 < reported / simulation.truth["is_fraud"].sum() < .97


def test_outcomes_are_reported_after_the_order_and_sorted(
    orders: pd.DataFrame, simulation: Simulation
) -> None:
    outcomes = simulation.outcomes.merge(orders[["order_id", "created_at"]], on="order_id", validate="1:1")
    assert len(outcomes) == len(simulation.outcomes)
    assert (outcomes["reported_at"] > outcomes["created_at"]).all()
    assert simulation.outcomes["reported_at"].is_monotonic_increasing


@pytest.mark.parametrize(("kind", "sources", "min_days", "max_days"), [
    ("fraud_chargeback", {"processor"}, 20, 60),
    ("confirmed_fraud", {"analyst", "seller"}, 2, 20),
    ("refund", {"buyer"}, 1, 14),
    ("dispute", {"processor"}, 15, 45),
    ("confirmed_legit", {"analyst"}, 1, 5),
])
def test_outcome_delays_and_sources_follow_the_kind(
    orders: pd.DataFrame, simulation: Simulation, kind: str, sources: set[str], min_days: int, max_days: int
) -> None:
    outcomes = simulation.outcomes.merge(orders[["order_id", "created_at"]], on="order_id")
    of_kind = outcomes[outcomes["kind"] == kind]
    assert len(of_kind) > 0
    days = (of_kind["reported_at"] - of_kind["created_at"]) / pd.Timedelta(days=1)
    assert days.between(min_days - .01, max_days + .01).all()
    assert set(of_kind["source"]) == sources


# The world


def test_orders_follow_a_diurnal_cycle(genuine: pd.DataFrame) -> None:
    us = genuine[genuine["buyer_country"] == "US"]
    local_hour = (us["created_at"] - pd.Timedelta(hours=5)).dt.hour
    night = local_hour.isin([3, 4, 5]).sum()
    evening = local_hour.isin([19, 20, 21]).sum()
    assert evening > 5 * night


def test_engagement_counters_grow_with_post_age(orders: pd.DataFrame) -> None:
    posted = orders.dropna(subset=["post_views"]).sort_values("created_at")
    views = posted.groupby("post_post_id")["post_views"].diff().dropna()
    likes = posted.groupby("post_post_id")["post_likes"].diff().dropna()
    assert (views >= 0).all() and (likes >= 0).all()
    assert (views > 0).mean() > .3


def test_promoted_posts_attract_more_orders(many_orders: pd.DataFrame) -> None:
    # the effect is strong per post but posts vary a lot, so this needs more posts
    orders = many_orders.dropna(subset=["post_promoted"])
    per_post = orders.groupby("post_post_id").agg(n=("order_id", "size"), promoted=("post_promoted", "first"))
    log_orders = np.log(per_post["n"].astype(float))
    promoted = per_post["promoted"].astype(bool)
    assert log_orders[promoted].mean() - log_orders[~promoted].mean() > .25
    assert per_post.loc[promoted, "n"].median() > 1.5 * per_post.loc[~promoted, "n"].median()


def test_buyers_have_their_own_spend_level(genuine: pd.DataFrame) -> None:
    halves = genuine.assign(late=genuine["created_at"] >= DEFAULT_START + pd.Timedelta(days=DAYS / 2))
    median = halves.groupby(["buyer_account_id", "late"])["amount"].median().unstack().dropna()
    assert np.log(median[False]).corr(np.log(median[True])) > .3


# Fraud leaves its trace in history


def first_seen_with_account(by_time: pd.DataFrame, column: str) -> pd.Series:
    """When the order's account was first seen with the order's `column` (device, address, ...)."""
    return by_time.groupby(["buyer_account_id", column])["created_at"].transform("min")


def used_by_another_account_before(by_time: pd.DataFrame, column: str) -> pd.Series:
    """Whether the order's `column` (device, address) served another account first."""
    known = by_time.dropna(subset=[column])
    first_account = known.groupby(column)["buyer_account_id"].transform("first")
    reused = pd.Series(False, index=by_time.index)
    reused[known.index] = (first_account != known["buyer_account_id"]).to_numpy()
    return reused


def test_stolen_cards_are_used_in_bursts_on_kit_seen_before(orders: pd.DataFrame) -> None:
    by_time = orders.sort_values("created_at")
    gap = by_time["created_at"] - by_time.groupby("payment_card_fingerprint")["created_at"].shift()
    in_burst = gap < pd.Timedelta(hours=6)
    stolen = by_time["pattern"] == "stolen_card"
    genuine = by_time["pattern"] == "genuine"
    assert in_burst[stolen].mean() > .6
    assert in_burst[genuine].mean() < .3
    # crews bring their devices and drop addresses back under other accounts; households rarely do
    kit = used_by_another_account_before(by_time, "session_device_id") | used_by_another_account_before(
        by_time, "shipping_address_hash")
    assert kit[stolen].mean() > .3
    assert kit[genuine].mean() < .05
    devices = of_pattern(orders, "stolen_card")["session_device_id"].dropna()
    assert (orders.loc[orders["session_device_id"].isin(devices), "pattern"] != "genuine").all()


def test_card_testing_devices_carry_many_cards_within_minutes(orders: pd.DataFrame) -> None:
    with_device = orders.dropna(subset=["session_device_id"])
    window = with_device["created_at"].dt.floor("30min")
    cards = with_device.groupby(["session_device_id", window]).agg(
        cards=("payment_card_fingerprint", "nunique"), pattern=("pattern", "first"))
    assert cards.loc[cards["pattern"] == "card_testing", "cards"].median() >= 5
    assert cards.loc[cards["pattern"] == "genuine", "cards"].max() <= 3
    testing = of_pattern(orders, "card_testing")
    assert testing["amount"].median() < .5 * orders["amount"].median()


def test_account_takeovers_break_with_the_accounts_history(orders: pd.DataFrame) -> None:
    by_time = orders.sort_values("created_at")
    day = pd.Timedelta(days=1)
    new_device = (by_time["created_at"] - first_seen_with_account(by_time, "session_device_id")) < day
    new_address = ((by_time["created_at"] - first_seen_with_account(by_time, "shipping_address_hash")) < day) | (
        by_time["shipping_address_hash"].isna())
    had_orders = by_time.groupby("buyer_account_id").cumcount() > 0
    old = account_age(by_time) > pd.Timedelta(days=180)
    signature = new_device & new_address & had_orders & old
    assert signature[by_time["pattern"] == "account_takeover"].mean() > .8
    assert signature[by_time["pattern"] == "genuine"].mean() < .06
    # and spend above the account's own habit
    habit = by_time.groupby("buyer_account_id")["amount"].transform(lambda a: a.expanding().median().shift())
    ratio = by_time["amount"] / habit
    assert ratio[by_time["pattern"] == "account_takeover"].median() > 1.5
    # yet the row is an established account, mostly behind an IP of its own country
    takeover = of_pattern(orders, "account_takeover")
    abroad = (takeover["session_ip_country"] != takeover["buyer_country"]).fillna(False).astype(bool)
    assert abroad.mean() < .5


def test_fraud_rings_share_devices_and_addresses_among_new_accounts(orders: pd.DataFrame) -> None:
    young = orders[account_age(orders) < pd.Timedelta(days=30)]

    def young_accounts_sharing(column: str) -> np.ndarray:
        sharing = young.groupby(column)["buyer_account_id"].nunique()
        return young[column].map(sharing).fillna(1).to_numpy()

    shared = np.maximum(young_accounts_sharing("session_device_id"),
                        young_accounts_sharing("shipping_address_hash"))
    pattern = young["pattern"].to_numpy()
    assert (shared[pattern == "fraud_ring"] >= 2).mean() > .8
    # households share too, but rarely both young
    assert (shared[pattern == "genuine"] >= 2).mean() < .03
    rings = of_pattern(orders, "fraud_ring")
    assert (account_age(rings).dropna() < pd.Timedelta(days=30)).all()
    # the sellers they pay are paid by young accounts only
    ring_sellers = orders[orders["seller_account_id"].isin(rings["seller_account_id"])]
    assert (account_age(ring_sellers).dropna() < pd.Timedelta(days=30)).all()
    # but many of those sellers are old accounts woken up: seller age alone does not tell
    seller_age = (rings["created_at"] - rings["seller_created_at"]).dropna()
    assert .1 < (seller_age > pd.Timedelta(days=30)).mean() < .95


def test_new_accounts_cash_out_on_a_crews_kit(orders: pd.DataFrame, genuine: pd.DataFrame) -> None:
    fresh = of_pattern(orders, "new_account_high_value")
    assert (account_age(fresh).dropna() < pd.Timedelta(days=1)).mean() > .9
    assert fresh["post_category"].isin(["electronics", "gift_card"]).mean() > .7
    assert fresh["amount"].median() > 2 * genuine["amount"].median()
    # history: the device or drop address served other accounts before
    by_time = orders.sort_values("created_at")
    kit = used_by_another_account_before(by_time, "session_device_id") | used_by_another_account_before(
        by_time, "shipping_address_hash")
    assert kit[by_time["pattern"] == "new_account_high_value"].mean() > .5
    # genuine sign-ups buy too, so newness alone is not proof
    assert (account_age(genuine) < pd.Timedelta(days=1)).sum() > 5 * len(fresh)


# Fraud does not show in a single row


def test_single_row_fraud_traits_are_mostly_genuine(orders: pd.DataFrame) -> None:
    fraud = orders["pattern"] != "genuine"

    def known(flags: pd.Series) -> pd.Series:
        return flags.fillna(False).astype(bool)

    traits = {
        "new account": known(account_age(orders) < pd.Timedelta(days=1)),
        "IP country is not the card's": known(orders["session_ip_country"] != orders["payment_card_country"]),
        "IP country is not the buyer's": known(orders["session_ip_country"] != orders["buyer_country"]),
        "shipping differs from billing": known(orders["shipping_matches_billing"] == False),  # noqa: E712
        "prepaid card": known(orders["payment_funding"] == "prepaid"),
        "resaleable goods": known(orders["post_category"].isin(["electronics", "gift_card"])),
    }
    for name, has_trait in traits.items():
        genuine_with, fraud_with = (has_trait & ~fraud).sum(), (has_trait & fraud).sum()
        assert genuine_with > 5 * fraud_with, f"{name}: {genuine_with} genuine vs {fraud_with} fraud orders"
    # and fraud mostly avoids the loud ones
    assert traits["IP country is not the card's"][fraud].mean() < .4
    assert traits["shipping differs from billing"][fraud].mean() < .5


def test_fraud_accounts_look_like_genuine_accounts_of_their_age(many_orders: pd.DataFrame) -> None:
    """Aged or bought accounts carry followers and verifications like genuine ones."""
    old = many_orders[account_age(many_orders) > pd.Timedelta(days=60)].drop_duplicates("buyer_account_id")
    fraud = old["pattern"] != "genuine"
    assert fraud.sum() >= 30
    for column in ["buyer_email_verified", "buyer_phone_verified"]:
        rates = old[column].astype(float).groupby(fraud).mean()
        assert abs(rates[True] - rates[False]) < .12, column
    followers = np.log1p(old["buyer_followers"].astype(float)).groupby(fraud).median()
    assert abs(followers[True] - followers[False]) < .7


# Regret follows impulse


def test_regret_follows_impulse_signals(genuine: pd.DataFrame, many_orders: pd.DataFrame) -> None:
    seconds = (genuine["created_at"] - genuine["session_post_viewed_at"]).dt.total_seconds()
    regret = genuine["regret"]
    assert regret[seconds < 20].mean() > 1.8 * regret[seconds > 120].mean()
    local_hour = (genuine["created_at"] - pd.Timedelta(hours=5)).dt.hour
    us = genuine["buyer_country"] == "US"
    assert regret[us & (local_hour < 5)].mean() > 1.3 * regret[us & (local_hour >= 8)].mean()
    # promoted orders cluster on a few big posts, so this needs more of them
    more = many_orders[many_orders["pattern"] == "genuine"]
    assert more.loc[more["post_promoted"].fillna(False).astype(bool), "regret"].mean() > 1.2 * more["regret"].mean()


def test_regret_grows_with_spending_above_the_buyers_habit(genuine: pd.DataFrame) -> None:
    by_time = genuine.sort_values("created_at")
    habit = by_time.groupby("buyer_account_id")["amount"].transform(lambda a: a.expanding().median().shift())
    ratio = by_time["amount"] / habit
    assert by_time.loc[ratio > 4, "regret"].mean() > 2 * by_time.loc[ratio < 1, "regret"].mean()


def test_regret_is_higher_on_a_first_purchase_from_a_seller(genuine: pd.DataFrame) -> None:
    by_time = genuine.sort_values("created_at")
    first = ~by_time.duplicated(["buyer_account_id", "seller_account_id"])
    assert .2 < (~first).mean() < .7  # buyers come back to sellers they like
    assert by_time.loc[first, "regret"].mean() > 1.3 * by_time.loc[~first, "regret"].mean()


def test_serial_refunders_regret_again(genuine: pd.DataFrame) -> None:
    halfway = DEFAULT_START + pd.Timedelta(days=DAYS / 2)
    early = genuine[genuine["created_at"] < halfway].groupby("buyer_account_id")["regret"].any()
    late = genuine[genuine["created_at"] >= halfway]
    regretted_before = late["buyer_account_id"].map(early)
    again = late.loc[regretted_before.eq(True), "regret"].mean()
    assert again > 2 * late.loc[regretted_before.eq(False), "regret"].mean()


def test_regret_is_noisy_not_deterministic(genuine: pd.DataFrame) -> None:
    seconds = (genuine["created_at"] - genuine["session_post_viewed_at"]).dt.total_seconds()
    assert genuine.loc[seconds < 20, "regret"].mean() < .5


# Arguments


def test_start_moves_the_window() -> None:
    start = pd.Timestamp("2026-11-24T10:00:00+01:00")
    orders, _ = simulate(1_000, 2, 1, start=start)
    assert orders["created_at"].min() >= start
    assert orders["created_at"].max() < start + pd.Timedelta(days=2)


def test_progress_is_reported_for_each_stage() -> None:
    messages: list[str] = []
    simulate(2_000, 5, 1, progress=messages.append)
    assert [m.split(":")[0] for m in messages[:2]] == ["world", "genuine"]
    assert any(m.startswith("fraud") for m in messages)
    assert messages[-1] == "frames built"


@pytest.mark.parametrize(("n_orders", "days"), [(0, 10), (100, 0)])
def test_sizes_below_one_are_rejected(n_orders: int, days: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        simulate(n_orders, days, 1)


def test_a_start_without_timezone_is_rejected() -> None:
    with pytest.raises(ValueError, match="no timezone"):
        simulate(100, 1, 1, start=pd.Timestamp("2026-01-01"))
