"""The refusals every service raises: one typed hierarchy, turned into a status once, at the edge.

A service's domain raises these (or its own subclasses); `recouvra_shared.grpc` turns them into
a gRPC status carrying `google.rpc` details (a `BadRequest` with every field violation, an
`ErrorInfo` naming the kind of refusal) and turns such a status back into the same refusal on
the calling side, so the gateway maps one hierarchy to `application/problem+json`. Nothing here
imports gRPC: a domain may raise these freely.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    """A field and the rule it breaks."""

    field: str
    rule: str

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}" if self.field else self.rule


class Refusal(Exception):
    """Base of every refusal a service makes; the message is safe to show to the caller."""

    # The kind travels in google.rpc.ErrorInfo.reason, so callers need not parse messages.
    reason = "REFUSED"

    def __init__(self, message: str = "", violations: Sequence[Violation] = ()) -> None:
        self.violations = tuple(violations)
        super().__init__(message or "; ".join(str(v) for v in self.violations) or self.reason)

    @property
    def message(self) -> str:
        """What the caller is told."""
        return str(self)

    def with_fields_renamed(self, names: Mapping[str, str]) -> Refusal:
        """The same refusal with its violations' fields renamed (a contract's name to the API's)."""
        renamed = [Violation(names.get(v.field, v.field), v.rule) for v in self.violations]
        return rebuild(type(self), self.message, renamed)


class InvalidRequest(Refusal):
    """One or more fields break a rule; every violation is listed."""

    reason = "INVALID_REQUEST"

    def __init__(self, violations: Sequence[Violation]) -> None:
        super().__init__(violations=violations)


class InvalidField(InvalidRequest):
    """A single field breaks a rule."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__([Violation(field, rule)])
        self.field = field
        self.rule = rule


class NotFound(Refusal):
    """No such thing for this caller: a foreign id is refused exactly like a missing one."""

    reason = "NOT_FOUND"


class Conflict(Refusal):
    """The thing already exists, or the key was already used with other content."""

    reason = "ALREADY_EXISTS"


class StateConflict(Refusal):
    """The current state forbids the change asked for (bidding on a closed auction, ...)."""

    reason = "STATE_CONFLICT"


class Gone(Refusal):
    """The thing existed and was destroyed for good (a crypto-shredded document)."""

    reason = "GONE"


class PermissionDenied(Refusal):
    """The caller sees the thing but may not do this to it."""

    reason = "PERMISSION_DENIED"


class Unauthenticated(Refusal):
    """The call carries no identity the service can trust."""

    reason = "UNAUTHENTICATED"


class Unavailable(Refusal):
    """Something the service depends on did not answer; the same request may be retried."""

    reason = "UNAVAILABLE"


class DataLoss(Refusal):
    """Stored data failed an integrity check and was not served; a retry will not help."""

    reason = "DATA_LOSS"


REFUSALS: tuple[type[Refusal], ...] = (
    InvalidRequest,
    NotFound,
    Conflict,
    StateConflict,
    Gone,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
    DataLoss,
)


def rebuild(kind: type[Refusal], message: str, violations: Sequence[Violation]) -> Refusal:
    """A refusal of the given kind from its parts, whatever its own constructor takes."""
    refusal = Refusal.__new__(kind)
    Refusal.__init__(refusal, message, violations)
    return refusal
