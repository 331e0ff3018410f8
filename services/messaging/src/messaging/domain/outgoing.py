"""The seam between the contact plan and the channels: a message the plan decided to send now.

The plan (when, how often, may we contact this debtor now) hands a `MessageToSend` to a
`Dispatcher` (what the message says, how it reaches the debtor). The id is given by the plan before
anything is sent and is the one the channel uses (the SMTP Message-ID, the letter's reference),
so a message is sent once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Channel(StrEnum):
    """How a message reaches the debtor."""

    EMAIL = "email"
    LETTER = "letter"
    SMS = "sms"


class Tone(StrEnum):
    """How firm a step is: the plan escalates it; the formal notice is a letter."""

    REMINDER = "reminder"
    FIRM = "firm"
    FORMAL_NOTICE = "formal_notice"


@dataclass(frozen=True)
class MessageToSend:
    """One step of a holder's contact plan, due and allowed by the contact limits."""

    message_id: str  # UUID, chosen before sending, recorded before and after
    case_id: str
    creditor_id: str
    holder_id: str  # the provider holding the case: the collector named in the message
    round: int
    step: int  # 1 for the holder's first message (R124-4 mentions in full)
    channel: Channel
    template: str  # template name, e.g. "first_letter", "reminder"
    tone: Tone
    language: str  # "fr" | "en"
    # When this holder's first message went out: later steps cite its reference and date.
    first_sent_on: datetime | None


@dataclass(frozen=True)
class DispatchResult:
    """What a dispatch did: sent with the channel's own reference, or not sent with why."""

    sent: bool
    channel_reference: str = ""  # e.g. the SMTP Message-ID, the print manifest's line
    reason: str = ""  # why not sent (no address, address suppressed, refused by the channel)
    # Nothing is decided: an earlier attempt of this message may be sending it right now (its
    # lease has not run out). The message stays pending and is asked about again later.
    under_way: bool = False
