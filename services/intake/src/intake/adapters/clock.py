"""What day it is where intake's legal deadlines run."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def paris_today() -> date:
    """Today in France."""
    return datetime.now(PARIS).date()
