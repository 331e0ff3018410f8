"""Matching's domain errors: a small typed hierarchy, translated to status codes at the edge."""

from __future__ import annotations


class MatchingError(Exception):
    """Base of every error matching's domain raises."""


class InvalidField(MatchingError):
    """Bad input: names the field and the rule it breaks."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class NotFound(MatchingError):
    """No such thing for this caller (a foreign id is reported exactly like a missing one)."""


# The one answer for a case the caller may not act on, whether it exists or not: a different
# wording for "exists but not yours" would tell a provider which case ids are real.
NO_SUCH_CASE = "case: no such case"


class StateConflict(MatchingError):
    """The request does not fit the current state (e.g. bidding on a closed auction)."""
