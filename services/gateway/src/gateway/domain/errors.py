"""The gateway's refusals: translated to HTTP problem responses only at the entrypoint."""


class GatewayError(Exception):
    """Base of every refusal the gateway makes itself."""


class InvalidField(GatewayError):
    """A field breaks a rule; the message names both."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class NotAuthenticated(GatewayError):
    """No valid credentials: missing, expired, revoked or forged."""


class InvalidCredentials(GatewayError):
    """Email and password do not match an account."""


class EmailTaken(GatewayError):
    """An account already uses this email address."""


class NotFound(GatewayError):
    """No such resource for this caller (a foreign id looks exactly like a missing one)."""


class NotAllowed(GatewayError):
    """The caller's kind of account cannot do this (e.g. a creditor creating creditors)."""


class IdempotencyConflict(GatewayError):
    """The idempotency key was already used with a different request."""


class TooManyAttempts(GatewayError):
    """Too many failed log-ins for this email recently; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed log-ins; retry in {retry_after} s")
        self.retry_after = retry_after


class TooLarge(GatewayError):
    """A field (an uploaded file) is larger than the endpoint accepts."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class DocumentErased(GatewayError):
    """The document was crypto-shredded: its content is gone for good."""


class DocumentCorrupted(GatewayError):
    """The stored document failed its integrity check in the vault and was not served."""
