"""The review queue's errors, each a RiskError carrying its HTTP status (serve/errors.py answers them)."""

from __future__ import annotations

from risk.errors import Conflict, InvalidInput, NotFound


class ReviewNotFound(NotFound):
    """No review (or no logged order) with this order_id."""


class ClaimConflict(Conflict):
    """Another analyst holds the review's claim, or it was closed already; the message names who."""

    def __init__(self, message: str, held_by: str | None = None) -> None:
        super().__init__(message)
        self.held_by = held_by


class InvalidDecision(InvalidInput):
    """A verdict or label kind the queue does not know, or a request it cannot apply."""
