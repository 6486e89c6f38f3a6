"""A second, independently designed world of social-commerce orders, to measure models on data we did not design.

`generate(seed, n_orders, days)` returns the contract's orders and outcomes tables and the
generator's own truth: for every order its exact chance of fraud and of regret (the
oracle a model is compared with) and what it was. See bench/world2/README.md.
"""

from .generate import DEFAULT_START, GeneratedWorld, generate
from .params import PATTERNS, World, draw_world

__all__ = ["DEFAULT_START", "PATTERNS", "GeneratedWorld", "World", "draw_world", "generate"]
