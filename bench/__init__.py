"""Benchmarks (scripts run from a checkout) and the independent world generator they measure on."""
