"""Intake's errors: translated to gRPC status codes only at the entrypoint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    """A field and the rule it breaks."""

    field: str
    rule: str

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"


class IntakeError(Exception):
    """Base of every refusal intake makes."""


class InvalidRequest(IntakeError):
    """One or more fields break a rule; every violation is listed."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        super().__init__("; ".join(str(v) for v in violations))
        self.violations = tuple(violations)


class InvalidField(InvalidRequest):
    """A single field breaks a rule."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__([Violation(field, rule)])
        self.field = field
        self.rule = rule


class CaseNotFound(IntakeError):
    """No case with that id for this caller (a foreign id looks exactly like a missing one)."""


class IdempotencyConflict(IntakeError):
    """The idempotency key was already used with different content."""


class DuplicateInvoice(IntakeError):
    """The creditor already submitted these invoice numbers for this debtor."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        super().__init__("; ".join(str(v) for v in violations))
        self.violations = tuple(violations)


class CaseStateConflict(IntakeError):
    """The case's status forbids the change asked for."""


class EvidenceUnavailable(IntakeError):
    """Evidence documents cannot be accepted until the vault service exists."""
