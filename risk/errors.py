"""One error hierarchy for the whole engine.

Each error carries the HTTP status it maps to, so the service turns any of them into
a clear JSON answer with one handler and the CLI into a one-line message.
"""


class RiskError(Exception):
    """Base of every error the engine raises on purpose."""

    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(RiskError):
    """A request or record breaks the data contract."""

    status = 422


class DataError(RiskError):
    """A data set on disk cannot be read as the contract lays it out."""

    status = 400


class Conflict(RiskError):
    """The same key was sent again with a different body."""

    status = 409


class NotFound(RiskError):
    """A named thing (model, order, file) does not exist."""

    status = 404


class ModelRefused(RiskError):
    """A model failed the checks a model must pass before it is added, promoted or served (models.canary)."""

    status = 409
