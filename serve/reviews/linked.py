"""Linked orders: the other orders sharing a card, device, IP, buyer, seller or shipping address.

One query per entity the order has, each on the index (entity column, created_at) and
limited to the most recent `limit + 1`, so a seller with a million orders costs what a
card with two does; the union (most recent first) is cut at `limit`, and `truncated`
says when more exist. Outcomes of the linked orders come in one more query.
"""

from __future__ import annotations

from typing import Any

from serve.decision_log import DecisionLog
from serve.decision_log.encoding import as_utc
from serve.decision_log.schema import DECISIONS, ENTITIES, OUTCOMES
from serve.reviews.errors import ReviewNotFound
from serve.reviews.models import LinkedOrders

_COLUMNS = ", ".join(entity.column for entity in ENTITIES)


def linked_orders(log: DecisionLog, order_id: str, limit: int) -> LinkedOrders:
    """The orders sharing an entity with `order_id` (most recent first, at most `limit`), and their graph."""
    d, p = log.dialect, log.dialect.placeholder
    decisions, outcomes_table = log.table(DECISIONS), log.table(OUTCOMES)
    center_sql = f"SELECT {_COLUMNS} FROM {decisions} WHERE order_id = {p}"
    picked = (f"order_id, created_at, {d.json_text('order_json', 'amount')}, {d.json_text('order_json', 'currency')}, "
              f"{d.json_text('decision_json', 'decision')}, {d.json_text('decision_json', 'fraud_score')}, {_COLUMNS}")

    def work(conn: Any) -> tuple[tuple | None, dict[str, tuple], bool, list[tuple]]:
        center = conn.execute(center_sql, [order_id]).fetchone()
        if center is None:
            return None, {}, False, []
        found: dict[str, tuple] = {}
        truncated = False
        for entity, value in zip(ENTITIES, center, strict=True):
            if value is None:
                continue
            sql = (f"SELECT {picked} FROM {decisions} WHERE {entity.column} = {p} AND order_id <> {p} "
                   f"ORDER BY created_at DESC LIMIT {p}")
            rows = conn.execute(sql, [value, order_id, limit + 1]).fetchall()
            truncated = truncated or len(rows) > limit
            for row in rows:
                found[row[0]] = row
        chosen = sorted(found.values(), key=lambda r: (as_utc(r[1]), r[0]), reverse=True)
        truncated = truncated or len(chosen) > limit
        chosen = chosen[:limit]
        outcomes: list[tuple] = []
        if chosen:
            marks = ", ".join([p] * len(chosen))
            outcomes = conn.execute(f"SELECT order_id, kind FROM {outcomes_table} WHERE order_id IN ({marks}) "
                                    "ORDER BY reported_at, kind", [row[0] for row in chosen]).fetchall()
        return center, {row[0]: row for row in chosen}, truncated, outcomes

    center, rows, truncated, outcome_rows = log.read("linked orders", work)
    if center is None:
        raise ReviewNotFound(f"no decision logged for order_id {order_id!r}")
    kinds: dict[str, list[str]] = {}
    for linked_id, kind in outcome_rows:
        kinds.setdefault(linked_id, []).append(kind)
    own = {entity.kind: value for entity, value in zip(ENTITIES, center, strict=True) if value is not None}
    compare = [(6 + i, entity.kind, center[i]) for i, entity in enumerate(ENTITIES) if center[i] is not None]
    orders = [_linked(row, compare, kinds.get(row[0], [])) for row in rows.values()]
    orders.sort(key=lambda o: (o["created_at"], o["order_id"]), reverse=True)
    # one validation of plain dicts for the whole answer: building 1,000 orders and 3,000 graph parts as
    # models one by one took half of the call (bench/bench_reviews.py)
    return LinkedOrders.model_validate({"order_id": order_id, "entities": own, "orders": orders,
                                        "graph": _graph(order_id, own, orders), "truncated": truncated,
                                        "limit": limit})


def _linked(row: tuple, compare: list[tuple[int, str, str]], outcomes: list[str]) -> dict[str, Any]:
    """A linked order as a dict of LinkedOrder's fields; `compare`: (row position, kind, the center's value)."""
    return {"order_id": row[0], "created_at": as_utc(row[1]), "amount": _number(row[2], int),
            "currency": None if row[3] is None else str(row[3]),
            "shared": [kind for position, kind, value in compare if row[position] == value],
            "decision": None if row[4] is None else str(row[4]), "fraud_score": _number(row[5], float),
            "latest_outcome": outcomes[-1] if outcomes else None, "outcomes": outcomes}


def _number(value: Any, kind: type) -> Any:
    """A JSON member read as SQL (a number in SQLite, text in PostgreSQL) as `kind`; None if it is not one."""
    try:
        return None if value is None else kind(value)  # int("4999") exactly: amounts never go through float
    except (TypeError, ValueError):
        return None


def _graph(order_id: str, own: dict[str, str], orders: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Orders and the entities they share with the center order; an edge per (order, shared entity)."""
    nodes: list[dict[str, Any]] = [{"id": f"order:{order_id}", "kind": "order", "label": order_id, "center": True}]
    used = {kind for o in orders for kind in o["shared"]}
    target = {kind: f"{kind}:{value}" for kind, value in own.items()}
    nodes += [{"id": target[kind], "kind": kind, "label": value} for kind, value in own.items() if kind in used]
    edges = [{"source": f"order:{order_id}", "target": target[kind]} for kind in own if kind in used]
    for o in orders:
        source = f"order:{o['order_id']}"
        nodes.append({"id": source, "kind": "order", "label": o["order_id"], "decision": o["decision"],
                      "latest_outcome": o["latest_outcome"]})
        edges += [{"source": source, "target": target[kind]} for kind in o["shared"]]
    return {"nodes": nodes, "edges": edges}
