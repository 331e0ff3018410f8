"""Scoring's domain errors, translated to gRPC status codes only at the entrypoint."""

from __future__ import annotations


class ScoringError(Exception):
    """Base of scoring's domain errors."""


class InvalidInput(ScoringError):
    """A fact that breaks a rule; names the field and the rule."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class ScoringStopped(ScoringError):
    """The case was withdrawn or closed: it is not scored any more."""


class UnknownModel(ScoringError):
    """A model version this process does not know."""
