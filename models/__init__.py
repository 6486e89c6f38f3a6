"""Model wrappers and the model registry."""
