"""A deterministic simulator of a social-commerce world with fraud and regret.

`simulate(n_orders, days, seed)` returns the contract's orders and outcomes
tables; `run_simulation` also returns the hidden truth (fraud pattern, regret).
"""

from .simulate import DEFAULT_START, Simulation, run_simulation, simulate

__all__ = ["DEFAULT_START", "Simulation", "run_simulation", "simulate"]
