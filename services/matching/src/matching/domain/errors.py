"""Matching's refusals: the platform's own, turned into status codes once, at the edge."""

from __future__ import annotations

from recouvra_shared.errors import InvalidField, NotFound, PermissionDenied, StateConflict

__all__ = [
    "NO_SUCH_CASE",
    "InvalidField",
    "NotFound",
    "PermissionDenied",
    "ProviderNotApproved",
    "StateConflict",
]

# The one answer for a case the caller may not act on, whether it exists or not: a different
# wording for "exists but not yours" would tell a provider which case ids are real.
NO_SUCH_CASE = "case: no such case"


class ProviderNotApproved(PermissionDenied):
    """A provider no operator approved (yet, or any more) takes no part in auctions."""

    reason = "PROVIDER_NOT_APPROVED"

    def __init__(self) -> None:
        super().__init__("provider: not approved by an operator (yet)")
