"""Scoring's refusals: the platform's own, turned into status codes once, at the edge."""

from __future__ import annotations

from recouvra_shared.errors import InvalidField, NotFound, StateConflict


class InvalidInput(InvalidField):
    """A fact that breaks a rule; names the field and the rule."""


class ScoringStopped(StateConflict):
    """The case was withdrawn or closed: it is not scored any more."""


class NoScore(NotFound):
    """No score (or no case) for this caller: a foreign case reads exactly like a missing one."""


class UnknownModel(Exception):
    """A model version this process does not know (a deployment fault, not a refusal)."""


class TooFewOutcomes(Exception):
    """Not enough ended cases of each outcome to fit and hold out."""
