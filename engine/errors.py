"""Domain errors. The API turns each into a problem+json answer (RFC 9457)."""
from __future__ import annotations


class AnjianError(Exception):
    """Base of every error a client can cause; never a 500."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, errors: list[dict] | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra


class NotFound(AnjianError):
    status = 404
    title = "Not found"


class Forbidden(AnjianError):
    status = 403
    title = "Forbidden"


class Unauthorized(AnjianError):
    status = 401
    title = "Unauthorized"


class Conflict(AnjianError):
    """409; ``retryable`` says whether repeating the same request may succeed."""

    status = 409
    title = "Conflict"

    def __init__(self, detail: str, *, retryable: bool = False, **extra):
        super().__init__(detail, retryable=retryable, **extra)


class Invalid(AnjianError):
    """422 with the list of failing fields (or deployment errors)."""

    status = 422
    title = "Unprocessable entity"
