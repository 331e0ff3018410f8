"""Settlement's refusals: the platform's own, named for what they refuse."""

from __future__ import annotations

from recouvra_shared.errors import Conflict, InvalidField, NotFound, StateConflict

__all__ = ["AlreadyReversed", "EntryNotFound", "FactAlreadyBooked", "StaleNotification"]


class EntryNotFound(NotFound):
    """No journal entry has this id."""


class FactAlreadyBooked(Conflict):
    """The fact was booked before, with other lines: a replay must carry the same content."""


class AlreadyReversed(StateConflict):
    """The entry was reversed already; a second reversal would book the correction twice."""


class StaleNotification(InvalidField):
    """A provider notification signed outside the tolerance: a replay, or a clock gone wrong."""

    def __init__(self, rule: str) -> None:
        super().__init__("timestamp", rule)
