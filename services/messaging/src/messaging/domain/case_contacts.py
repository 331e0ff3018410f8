"""What messaging knows of a case for its plan: whose it is, which debtor, and how to treat it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from messaging.domain.outgoing import Channel

DEFAULT_STRATEGY = "amicable-reminders"


@dataclass(frozen=True)
class CaseContact:
    """One case's facts from intake and scoring. `debtor_key` is intake's pseudonymous key of
    the debtor (a keyed hash, no personal data): the contact limits count across all cases that
    share it; until intake gives one, the case stands alone."""

    case_id: str
    creditor_id: str = ""
    debtor_key: str = ""
    region: str = ""
    strategy: str = DEFAULT_STRATEGY
    segment: str = ""
    insolvent: bool = False

    @property
    def debtor(self) -> str:
        """Whom the contact limits count for."""
        return self.debtor_key or f"case:{self.case_id}"

    @property
    def language(self) -> str:
        """French for a debtor in France (or unknown), English elsewhere."""
        return "fr" if self.region in ("",) or self.region.startswith("FR") else "en"


class MessageStatus(StrEnum):
    """A message's record: pending before the channel is called, then sent or not sent."""

    PENDING = "pending"
    SENT = "sent"
    NOT_SENT = "not-sent"


@dataclass(frozen=True)
class OutgoingRecord:
    """A message the plan let go: recorded pending before dispatch, so a crash re-dispatches the
    same id."""

    message_id: str
    plan_id: str
    case_id: str
    debtor: str
    step: int
    channel: Channel
    scheduled_at: datetime  # counts towards the debtor's caps from this moment
    status: MessageStatus = MessageStatus.PENDING
    channel_reference: str = ""
    reason: str = ""
    attempts: int = 0


@dataclass(frozen=True)
class Postponement:
    """A step moved later by a contact rule: readable by the creditor and the tests."""

    plan_id: str
    case_id: str
    creditor_id: str
    step: int
    wanted_at: datetime
    moved_to: datetime
    reasons: tuple[str, ...]
