"""Offline training: simulated data, model fitting and evaluation."""
