"""Server-drawn SVG charts: labels escaped (entity ids are attacker-controlled), values placed."""

from __future__ import annotations

from serve.ui import charts

EVIL = '<script>alert(1)</script>"><b>'


def test_chart_labels_are_escaped() -> None:
    drawn = [
        charts.contribution_bars([(EVIL, 0.5), ("other", -0.2)]),
        charts.line_chart(["d1", EVIL], {EVIL: [0.1, 0.2]}, label=EVIL),
        charts.histogram([1, 2], [0.0, 0.5, 1.0], label=EVIL),
        charts.hbars([(EVIL, 3.0)], label="x"),
        charts.entity_graph([charts.GraphNode("order:a", EVIL, "order"),
                             charts.GraphNode("card:" + EVIL, EVIL, "card", href="/ui/orders/" + EVIL)],
                            [("order:a", "card:" + EVIL)], label=EVIL),
    ]

    for svg in drawn:
        assert "<script>" not in svg and "<b>" not in svg and "&lt;script&gt;" in svg


def test_contribution_bars_go_right_for_risk_and_left_for_safety() -> None:
    svg = str(charts.contribution_bars([("up", 1.0), ("down", -1.0)], width=560))

    assert 'class="bar up"' in svg and 'class="bar down"' in svg
    assert "+1.00" in svg and "-1.00" in svg


def test_empty_charts_say_so_instead_of_drawing() -> None:
    assert "no data" in charts.line_chart([], {}, label="x")
    assert "no scores" in charts.histogram([0, 0], [0, 0.5, 1], label="x")
    assert "no other order" in charts.entity_graph([charts.GraphNode("order:a", "a", "order")], [], label="x")
