"""Feature pipeline: one definition per feature, computed in batch and online."""
