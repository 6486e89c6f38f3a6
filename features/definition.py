"""What a feature is, declared once: its parts, the name generated from them, and how a reason says it.

Models record feature names (the schema hash), reasons say a feature's value in words:
both come from one declaration, so a new window or entity cannot get a name without a
sentence (features.history checks every part has words when it is declared).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Sentence:
    """How a reason says a feature's value, in features.sentences' placeholders.

    `known` is said of a known value ("{count} orders with this {entity} in the last
    {window}"); `unknown` of an unknown one (None: "<name in words>: unknown"); `words`
    are what the codes of a categorical feature stand for ({word}, "other" beyond them).
    `named` is said of a true flag when the order's fields it names ({buyer_country},
    flat contract columns) are known, e.g. the two countries of a mismatch.
    """

    known: str
    unknown: str | None = None
    words: tuple[str, ...] = ()
    named: str | None = None


@dataclass(frozen=True)
class FeatureDef:
    """One history feature: what it measures, of which entity, over which window, for which label.

    `pattern` generates the name from the parts ("order_count_by_{entity}_{window}"), so the
    name and the sentence cannot disagree about them.
    """

    pattern: str
    description: str
    sentence: Sentence
    measure: str
    entity: str | None = None
    window: str | None = None
    label: str | None = None
    other: str | None = None

    @cached_property
    def name(self) -> str:
        """The feature's name as models know it."""
        return self.pattern.format(measure=self.measure, entity=self.entity, window=self.window, label=self.label,
                                   other=self.other)
