"""Both backends' SQL comes from one declaration of the decision log's tables (serve/decision_log/schema.py)."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from typing import NamedTuple

import pytest

from serve.decision_log.schema import DECISIONS, OUTCOMES, TABLES, DecisionRow, JsonText, Table
from serve.decision_log.sql import (
    POSTGRES,
    SQLITE,
    create_table,
    insert,
    insert_arrays,
    missing_columns,
    select,
    statements,
)

DIALECTS = [SQLITE, POSTGRES]


class ReviewedDecisionRow(NamedTuple):
    """The decisions table with one more column, as a later version might declare it."""

    order_id: str
    body_hash: str
    created_at: datetime
    recorded_at: datetime
    model_version: str
    order_json: JsonText
    features_json: str | None
    decision_json: JsonText
    shadow_json: JsonText | None
    reviewed_at: datetime | None


REVIEWED = Table("decisions", ReviewedDecisionRow, unique=("order_id",), primary_key=True)


def _created_columns(statement: str) -> list[str]:
    body = statement[statement.index("(") + 1:statement.rindex(")")]
    lines = [line.strip() for line in body.split(",\n")]
    return [line.split()[0] for line in lines if not line.startswith(("PRIMARY KEY", "UNIQUE"))]


def _inserted_columns(statement: str) -> list[str]:
    listed = re.search(r"INSERT INTO \S+ \(([^)]*)\)", statement)
    assert listed is not None, statement
    return [name.strip() for name in listed.group(1).split(",")]


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_each_dialect_creates_and_inserts_exactly_the_declared_columns_in_order(table: Table, dialect) -> None:
    declared = list(table.row._fields)  # type: ignore[attr-defined]

    assert _created_columns(create_table(table, dialect)) == declared
    statement = insert(table, dialect)
    assert _inserted_columns(statement) == declared
    assert statement.count(dialect.placeholder) == len(declared)


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_a_column_added_to_the_declaration_appears_in_both_dialects_statements(dialect) -> None:
    created = create_table(REVIEWED, dialect)
    inserted = insert(REVIEWED, dialect)

    assert _created_columns(created)[-1] == "reviewed_at"
    assert re.search(rf"reviewed_at {dialect.types['time']},\n", created)  # nullable: no NOT NULL
    assert _inserted_columns(inserted)[-1] == "reviewed_at"
    assert inserted.count(dialect.placeholder) == len(ReviewedDecisionRow._fields)


def test_the_dialects_differ_only_in_types_placeholders_and_casts() -> None:
    sqlite_create, postgres_create = create_table(DECISIONS, SQLITE), create_table(DECISIONS, POSTGRES)

    assert "order_json TEXT NOT NULL" in sqlite_create and "order_json JSONB NOT NULL" in postgres_create
    assert "created_at TEXT NOT NULL" in sqlite_create and "created_at TIMESTAMPTZ NOT NULL" in postgres_create
    assert "features_json TEXT,\n" in sqlite_create and "features_json TEXT,\n" in postgres_create
    assert "PRIMARY KEY (order_id)" in sqlite_create and "PRIMARY KEY (order_id)" in postgres_create
    assert "UNIQUE (order_id, kind, reported_at)" in create_table(OUTCOMES, POSTGRES)
    assert "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" in insert(DECISIONS, SQLITE)
    assert ("VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s, %s, %s, %s)"
            in insert(DECISIONS, POSTGRES))
    assert insert(DECISIONS, SQLITE).endswith("ON CONFLICT (order_id) DO NOTHING")


def test_postgres_batch_insert_takes_one_typed_array_per_declared_column() -> None:
    statement = insert_arrays(OUTCOMES, POSTGRES, "risk_")

    assert _inserted_columns(statement) == list(OUTCOMES.row._fields)  # type: ignore[attr-defined]
    assert "unnest(%s::text[], %s::text[], %s::timestamptz[], %s::text[], %s::timestamptz[])" in statement
    assert statement.startswith('INSERT INTO "risk_outcomes"')


def test_the_table_prefix_names_every_table_of_a_deployment() -> None:
    generated = statements(POSTGRES, "test_ab_")

    assert all('"test_ab_' in statement for statement in generated.create)
    assert '"test_ab_decisions"' in generated.get_decision and '"test_ab_outcomes"' in generated.outcomes_since


def test_generated_sqlite_statements_store_a_row_once_and_read_it_back() -> None:
    sql = statements(SQLITE)
    moment = datetime(2026, 11, 24, 10, 15, tzinfo=UTC)
    row = DecisionRow("ord_1", "h", moment, moment, "m1", "{}", None, '{"decision":"approve"}', None)
    with sqlite3.connect(":memory:") as conn:
        for statement in sql.create:
            conn.execute(statement)

        assert conn.execute(sql.insert_decision, SQLITE.values(DECISIONS, row)).rowcount == 1
        assert conn.execute(sql.insert_decision, SQLITE.values(DECISIONS, row._replace(body_hash="x"))).rowcount == 0
        assert conn.execute(sql.get_decision, ("ord_1",)).fetchone() == ("ord_1", "h", '{"decision":"approve"}')
        assert conn.execute("SELECT created_at FROM decisions").fetchone() == ("2026-11-24T10:15:00.000000Z",)


def test_a_statement_naming_an_undeclared_column_is_refused() -> None:
    with pytest.raises(ValueError, match="table decisions has no column"):
        select(DECISIONS, ("order_id", "score"))


def test_a_field_type_without_a_column_kind_is_refused() -> None:
    class Counted(NamedTuple):
        order_id: str
        count: bytes

    with pytest.raises(TypeError, match="column count: no column kind"):
        create_table(Table("counted", Counted, unique=("order_id",), primary_key=True), SQLITE)


def test_sqlite_time_text_is_fixed_width_for_every_year_so_it_sorts_and_reads_back() -> None:
    from serve.decision_log.encoding import as_utc, utc_text

    early, late = datetime(3, 1, 1, 0, 1, 1, tzinfo=UTC), datetime(2026, 11, 24, 10, 15, 0, 5, tzinfo=UTC)
    assert utc_text(early) == "0003-01-01T00:01:01.000000Z" and as_utc(utc_text(early)) == early
    assert utc_text(late) == "2026-11-24T10:15:00.000005Z" and utc_text(early) < utc_text(late)


def test_a_moment_utc_cannot_hold_is_clamped_to_the_calendars_end() -> None:
    from datetime import timedelta, timezone

    from serve.decision_log.encoding import in_utc

    first = datetime(1, 1, 1, tzinfo=timezone(timedelta(minutes=1)))  # 31 Dec of year 0 in UTC
    last = datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-1)))
    assert in_utc(first) == datetime.min.replace(tzinfo=UTC) and in_utc(last) == datetime.max.replace(tzinfo=UTC)
    assert in_utc(datetime(2026, 11, 24, 11, 15, tzinfo=timezone(timedelta(hours=1)))) == datetime(
        2026, 11, 24, 10, 15, tzinfo=UTC)


def test_a_nullable_column_missing_from_a_stored_table_is_added_by_an_alter_statement() -> None:
    stored = set(DecisionRow._fields) - {"rules_epoch"}

    assert missing_columns(DECISIONS, SQLITE, stored) == ['ALTER TABLE "decisions" ADD COLUMN rules_epoch INTEGER']
    assert missing_columns(DECISIONS, POSTGRES, stored, "risk_") == [
        'ALTER TABLE "risk_decisions" ADD COLUMN rules_epoch BIGINT']
    assert missing_columns(DECISIONS, SQLITE, set(DecisionRow._fields)) == []


def test_a_missing_not_null_column_cannot_be_added_and_is_named() -> None:
    with pytest.raises(ValueError, match="lacks NOT NULL column body_hash"):
        missing_columns(DECISIONS, SQLITE, {"order_id"})
