"""The gateway's refusals: the platform's own (recouvra_shared.errors), with the few kinds only
the gateway makes, so that one mapping turns every refusal, the gateway's or a backend's, into
an HTTP problem at the entrypoint."""

from __future__ import annotations

from recouvra_shared.errors import (
    Conflict,
    DataLoss,
    InvalidField,
    NotFound,
    PermissionDenied,
    Refusal,
    Unauthenticated,
    Unavailable,
    Violation,
)

__all__ = [
    "Busy",
    "Conflict",
    "DocumentCorrupted",
    "EmailTaken",
    "IdempotencyConflict",
    "InvalidCredentials",
    "InvalidField",
    "NotAllowed",
    "NotAuthenticated",
    "NotFound",
    "TooLarge",
    "TooManyAttempts",
]


class NotAuthenticated(Unauthenticated):
    """No valid credentials: missing, expired, revoked or forged."""


class InvalidCredentials(Unauthenticated):
    """Email and password do not match an account."""


class EmailTaken(Conflict):
    """An account already uses this email address."""

    def __init__(self) -> None:
        super().__init__(violations=[Violation("email", "an account already uses this address")])


class NotAllowed(PermissionDenied):
    """The caller's kind of account cannot do this (e.g. a creditor creating creditors)."""


class IdempotencyConflict(Conflict):
    """The idempotency key was already used with a different request, or is still in use."""

    reason = "IDEMPOTENCY_CONFLICT"

    def __init__(self, rule: str) -> None:
        super().__init__(rule, [Violation("Idempotency-Key", rule)])


class TooManyAttempts(Refusal):
    """Too many failed log-ins for this email recently, or too many requests of one kind (a rate
    limit); retry after `retry_after` seconds."""

    reason = "TOO_MANY_ATTEMPTS"

    def __init__(self, retry_after: int, message: str = "") -> None:
        super().__init__(message or f"too many failed log-ins; retry in {retry_after} s")
        self.retry_after = retry_after


class Busy(Unavailable):
    """The gateway is doing as much of this slow work (password hashing) as its memory allows;
    retry in a moment."""


class TooLarge(InvalidField):
    """A field (an uploaded file) is larger than the endpoint accepts."""

    reason = "TOO_LARGE"


class DocumentCorrupted(DataLoss):
    """The stored document failed its integrity check in the vault and was not served."""
