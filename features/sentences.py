"""A sentence a person understands for a feature's value ("card used on 6 devices in the last hour").

Reasons name a feature by its stable code; this turns (feature, value) into words. Each
feature declares its sentence where it is defined (features.row, features.history):
the template for a known and for an unknown value, and the parts it is made of (entity,
window, label), said here in words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from features.definition import FeatureDef, Sentence
from features.history import ENTITY_WORDS, HISTORY_FEATURES, WINDOW_WORDS
from features.row import ROW_FEATURES

_FLAG = re.compile(r"\{flag:([^|}]*)\|([^}]*)\}")


def _parts(feature: FeatureDef) -> dict[str, str]:
    """The definition's parts in words, for the template's {entity}, {Entity}, {window}, {label}, {other}."""
    parts: dict[str, str] = {}
    if feature.entity is not None:
        parts["entity"] = ENTITY_WORDS[feature.entity]
        parts["Entity"] = parts["entity"].capitalize()
    if feature.window is not None:
        parts["window"] = WINDOW_WORDS[feature.window]
    if feature.label is not None:
        parts["label"] = feature.label
    if feature.other is not None:
        parts["other"] = ENTITY_WORDS[feature.other]
    return parts


_SAYING: dict[str, tuple[Sentence, Mapping[str, str]]] = {
    **{f.name: (f.sentence, {}) for f in ROW_FEATURES},
    **{f.name: (f.sentence, _parts(f)) for f in HISTORY_FEATURES},
}


def sentence(feature: str, value: float) -> str:
    """Words for `feature` = `value` (unknown values are said to be unknown)."""
    saying = _SAYING.get(feature)
    if value is None or math.isnan(value):
        if saying is None or saying[0].unknown is None:
            return f"{feature.replace('_', ' ')}: unknown"
        return saying[0].unknown.format(**saying[1])
    if saying is None:
        return f"{feature.replace('_', ' ')} = {value:g}"
    return _fill(*saying, value)


def _fill(said: Sentence, parts: Mapping[str, str], value: float) -> str:
    template = said.known
    flag = _FLAG.search(template)
    if flag:
        return template.replace(flag.group(0), flag.group(1) if value >= 0.5 else flag.group(2))
    if said.words:
        index = int(value)
        return template.format(word=said.words[index] if 0 <= index < len(said.words) else "other")
    values = {
        "value": value, "count": f"{value:,.0f}", "money": f"{value / 100:,.2f}", "percent": f"{value:.1%}",
        "duration": _duration(value), "days": _duration(value * 86400),
        "exp_count": f"{math.expm1(min(value, 50.0)):,.0f}",
    }
    return template.format(**values, **parts)


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if abs(seconds) >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds:,.0f} seconds"
