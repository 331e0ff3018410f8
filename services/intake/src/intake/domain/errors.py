"""Intake's errors: translated to gRPC status codes only at the entrypoint."""


class IntakeError(Exception):
    """Base of every refusal intake makes."""


class InvalidField(IntakeError):
    """A field breaks a rule; the message names both."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class CaseNotFound(IntakeError):
    """No case with that id for this caller (a foreign id looks exactly like a missing one)."""


class IdempotencyConflict(IntakeError):
    """The idempotency key was already used with different content."""


class DuplicateInvoice(IntakeError):
    """The creditor already submitted this invoice number for this debtor."""
