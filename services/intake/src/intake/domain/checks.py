"""Collecting every broken rule of an input, so that the caller can fix them all at once."""

from __future__ import annotations

from datetime import date

from intake.domain.errors import InvalidRequest, Violation
from recouvra_shared.text import CONTROL_CHARACTERS_RULE, has_control_characters


class Checks:
    """Collects violations instead of stopping at the first."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []

    def fail(self, path: str, rule: str) -> None:
        """Note a broken rule."""
        self.violations.append(Violation(path, rule))

    def text(self, path: str, value: str, limit: int, *, required: bool = True) -> str:
        """The stripped text, noting when it is missing, too long or holds control characters."""
        value = value.strip()
        if not value:
            if required:
                self.fail(path, "is required")
        elif has_control_characters(value):
            self.fail(path, CONTROL_CHARACTERS_RULE)
        elif len(value) > limit:
            self.fail(path, f"must be at most {limit} characters")
        return value

    def date(self, path: str, value: str, today: date) -> date | None:
        """A required ISO date that is not in the future; None when it is not one."""
        value = value.strip()
        if not value:
            self.fail(path, "is required")
            return None
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            self.fail(path, "must be an ISO 8601 date (YYYY-MM-DD)")
            return None
        if parsed > today:
            self.fail(path, f"must not be in the future (today is {today})")
        return parsed

    def refuse_if_broken(self) -> None:
        """Refuse the input when any rule was broken."""
        if self.violations:
            raise InvalidRequest(self.violations)
