"""Charts as inline SVG, drawn on the server: no JavaScript library, nothing loaded from elsewhere.

Each function returns `Markup` built from numbers it formats itself and labels it
escapes (labels can be attacker-controlled: entity ids in the linked-orders graph).
Colours and fonts come from the page's CSS classes, so no inline style is needed
(the pages' Content-Security-Policy allows none).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

SERIES_CLASSES = ("s0", "s1", "s2", "s3", "s4", "s5")


def _svg(width: int, height: int, body: list[str], label: str) -> Markup:
    return Markup(f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
                  f'role="img" aria-label="{escape(label)}">{"".join(body)}</svg>')


def contribution_bars(items: Sequence[tuple[str, float]], *, label: str = "contributions", width: int = 520) -> Markup:
    """Horizontal bars around a zero line: what pushed a score up (right) or down (left)."""
    if not items:
        return Markup('<p class="muted">no contributions recorded</p>')
    row, left, room = 22, 250, 44  # room: for the value written past the longest bar
    height = row * len(items) + 10
    span = max(abs(value) for _, value in items) or 1.0
    half = (width - left - 2 * room) / 2
    zero = left + room + half
    body = [f'<line class="axis" x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{height}"/>']
    for i, (name, value) in enumerate(items):
        y = 5 + i * row
        length = abs(value) / span * half
        x = zero if value >= 0 else zero - length
        kind = "up" if value >= 0 else "down"
        body.append(f'<text class="label" x="{left - 6}" y="{y + 14}" text-anchor="end">{escape(_short(name, 40))}'
                    f'<title>{escape(name)}</title></text>')
        body.append(f'<rect class="bar {kind}" x="{x:.1f}" y="{y + 2}" width="{max(length, 1):.1f}" height="{row - 6}">'
                    f'<title>{escape(name)}: {value:+.3f}</title></rect>')
        text_x = zero + length + 4 if value >= 0 else zero - length - 4
        anchor = "start" if value >= 0 else "end"
        body.append(f'<text class="value" x="{text_x:.1f}" y="{y + 14}" text-anchor="{anchor}">{value:+.2f}</text>')
    return _svg(width, height, body, label)


def line_chart(labels: Sequence[str], series: Mapping[str, Sequence[float]], *, label: str, percent: bool = False,
               width: int = 620, height: int = 220) -> Markup:
    """Lines over time buckets (decision rates or counts per hour or day), with a legend."""
    if not labels or not series:
        return Markup('<p class="muted">no data in this window</p>')
    left, bottom, top = 44, 28, 10
    plot_w, plot_h = width - left - 110, height - bottom - top
    peak = max((max(values, default=0.0) for values in series.values()), default=0.0) or 1.0
    step = plot_w / max(len(labels) - 1, 1)
    body = [f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"/>',
            f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>',
            f'<text class="tick" x="{left - 4}" y="{top + 8}" text-anchor="end">{_tick(peak, percent)}</text>',
            f'<text class="tick" x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>']
    for i in sorted({0, len(labels) // 2, len(labels) - 1}):
        body.append(f'<text class="tick" x="{left + i * step:.1f}" y="{height - 8}" text-anchor="middle">'
                    f'{escape(labels[i])}</text>')
    for n, (name, values) in enumerate(series.items()):
        css = SERIES_CLASSES[n % len(SERIES_CLASSES)]
        points = " ".join(f"{left + i * step:.1f},{top + plot_h - v / peak * plot_h:.1f}" for i, v in enumerate(values))
        body.append(f'<polyline class="line {css}" points="{points}"><title>{escape(name)}</title></polyline>')
        if len(values) <= 48:  # few buckets: a dot on each, so a lone bucket still shows
            body.extend(f'<circle class="dot {css}" cx="{left + i * step:.1f}" '
                        f'cy="{top + plot_h - v / peak * plot_h:.1f}" r="2.5">'
                        f'<title>{escape(labels[i])}: {_tick(v, percent)}</title></circle>'
                        for i, v in enumerate(values))
        body.append(f'<rect class="swatch {css}" x="{left + plot_w + 12}" y="{top + n * 18}" width="10" height="10"/>')
        body.append(f'<text class="label" x="{left + plot_w + 26}" y="{top + n * 18 + 9}">{escape(name)}</text>')
    return _svg(width, height, body, label)


def histogram(counts: Sequence[int], edges: Sequence[float], *, label: str, width: int = 300,
              height: int = 160, css: str = "s0") -> Markup:
    """Counts per score bin (edges has one more entry than counts)."""
    if not counts or sum(counts) == 0:
        return Markup('<p class="muted">no scores in this window</p>')
    left, bottom, top = 36, 24, 8
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max(counts) or 1
    bar_w = plot_w / len(counts)
    body = [f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"/>',
            f'<text class="tick" x="{left - 4}" y="{top + 8}" text-anchor="end">{peak}</text>']
    for i, count in enumerate(counts):
        bar_h = count / peak * plot_h
        body.append(f'<rect class="bar {css}" x="{left + i * bar_w + 1:.1f}" y="{top + plot_h - bar_h:.1f}" '
                    f'width="{max(bar_w - 2, 1):.1f}" height="{bar_h:.1f}"><title>{edges[i]:.2f}-{edges[i + 1]:.2f}: '
                    f'{count}</title></rect>')
    for i in (0, len(edges) - 1):
        body.append(f'<text class="tick" x="{left + i * bar_w:.1f}" y="{height - 6}" text-anchor="middle">'
                    f'{edges[i]:.1f}</text>')
    return _svg(width, height, body, label)


def hbars(items: Sequence[tuple[str, float]], *, label: str, width: int = 420, css: str = "s0") -> Markup:
    """Horizontal bars of non-negative values (reviews closed per analyst, backlog against the SLA)."""
    if not items:
        return Markup('<p class="muted">none in this window</p>')
    row, left = 22, 150
    height = row * len(items) + 6
    peak = max(value for _, value in items) or 1.0
    body = []
    for i, (name, value) in enumerate(items):
        y = 3 + i * row
        length = value / peak * (width - left - 60)
        body.append(f'<text class="label" x="{left - 6}" y="{y + 14}" text-anchor="end">{escape(name)}</text>')
        body.append(f'<rect class="bar {css}" x="{left}" y="{y + 2}" width="{max(length, 1):.1f}" height="{row - 6}"/>')
        body.append(f'<text class="value" x="{left + length + 4:.1f}" y="{y + 14}">{value:g}</text>')
    return _svg(width, height, body, label)


@dataclass(frozen=True)
class GraphNode:
    id: str
    label: str
    kind: str  # "order" (the one shown), "linked" (another order) or an entity kind (card, device, ...)
    href: str | None = None
    flagged: bool = False  # a linked order declined or with a fraud outcome


def entity_graph(nodes: Sequence[GraphNode], edges: Sequence[tuple[str, str]], *, label: str,
                 width: int = 620, height: int = 420) -> Markup:
    """The ring view: the order in the middle, its shared entities around it, the orders sharing them outside."""
    if len(nodes) <= 1:
        return Markup('<p class="muted">no other order shares an entity with this one</p>')
    cx, cy = width / 2, height / 2
    centre = [n for n in nodes if n.kind == "order"]
    entities = [n for n in nodes if n.kind not in ("order", "linked")]
    others = [n for n in nodes if n.kind == "linked"]
    where: dict[str, tuple[float, float]] = {n.id: (cx, cy) for n in centre}
    for i, node in enumerate(entities):
        angle = 2 * math.pi * i / max(len(entities), 1)
        where[node.id] = (cx + 110 * math.cos(angle), cy + 110 * math.sin(angle))
    for i, node in enumerate(others):
        angle = 2 * math.pi * (i + 0.5) / max(len(others), 1)
        where[node.id] = (cx + 190 * math.cos(angle), cy + 180 * math.sin(angle))
    body = []
    for a, b in edges:
        if a in where and b in where:
            (x1, y1), (x2, y2) = where[a], where[b]
            body.append(f'<line class="edge" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"/>')
    for node in nodes:
        if node.id not in where:
            continue
        x, y = where[node.id]
        css = f"node {escape(node.kind)}" + (" flagged" if node.flagged else "")
        shape = (f'<circle class="{css}" cx="{x:.1f}" cy="{y:.1f}" r="{9 if node.kind in ("order", "linked") else 7}">'
                 f'<title>{escape(node.label)}</title></circle>'
                 f'<text class="nodelabel" x="{x:.1f}" y="{y - 12:.1f}" text-anchor="middle">'
                 f'{escape(_short(node.label))}</text>')
        if node.href:
            shape = f'<a href="{escape(node.href)}">{shape}</a>'
        body.append(shape)
    return _svg(width, height, body, label)


def _short(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _tick(value: float, percent: bool) -> str:
    return f"{value * 100:.1f}%" if percent else f"{value:g}"
