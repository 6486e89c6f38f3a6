"""Feature state: where the online path keeps each entity's history between orders."""

from features.state.base import FeatureState, OrderRecord, StateUnavailable, Writes
from features.state.embedded import EmbeddedState

__all__ = ["EmbeddedState", "FeatureState", "OrderRecord", "StateUnavailable", "Writes"]
