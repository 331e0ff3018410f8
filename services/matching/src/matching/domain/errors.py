"""Matching's refusals: the platform's own, turned into status codes once, at the edge."""

from __future__ import annotations

from recouvra_shared.errors import InvalidField, NotFound, StateConflict

__all__ = ["NO_SUCH_CASE", "InvalidField", "NotFound", "StateConflict"]

# The one answer for a case the caller may not act on, whether it exists or not: a different
# wording for "exists but not yours" would tell a provider which case ids are real.
NO_SUCH_CASE = "case: no such case"
