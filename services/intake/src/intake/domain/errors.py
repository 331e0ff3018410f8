"""Intake's refusals: the platform's own, turned into status codes once, at the edge."""

from __future__ import annotations

from collections.abc import Sequence

from recouvra_shared.errors import (
    Conflict,
    InvalidField,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    StateConflict,
    Violation,
)

__all__ = [
    "CaseNotFound",
    "CaseStateConflict",
    "ConcurrentClaim",
    "DuplicateInvoice",
    "IdempotencyConflict",
    "InvalidField",
    "InvalidRequest",
    "SirenReaderOnly",
    "Violation",
]


class CaseNotFound(NotFound):
    """No case with that id for this caller (a foreign id looks exactly like a missing one)."""

    def __init__(self, case_id: str = "") -> None:
        super().__init__("case_id: no such case")


class IdempotencyConflict(Conflict):
    """The idempotency key was already used with different content."""

    def __init__(self, rule: str) -> None:
        super().__init__(violations=[Violation("idempotency_key", rule)])


class DuplicateInvoice(Conflict):
    """The creditor already submitted these invoice numbers for this debtor."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        super().__init__(violations=violations)


class CaseStateConflict(StateConflict):
    """The case's status forbids the change asked for."""


class ConcurrentClaim(Exception):
    """Another transaction claimed the same invoice or idempotency key first: not a refusal,
    a lost race; the same request tried again sees the winner and answers accordingly."""


class SirenReaderOnly(PermissionDenied):
    """Only the services that need a debtor's SIREN may read it (a sole trader's names a person)."""

    def __init__(self, readers: str) -> None:
        super().__init__(
            violations=[Violation("caller", f"only {readers} may read a debtor's SIREN")]
        )
