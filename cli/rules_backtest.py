"""`risk rules backtest` (placeholder until the backtest core lands)."""
