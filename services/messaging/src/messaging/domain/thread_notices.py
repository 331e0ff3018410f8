"""The e-mails that tell a party a thread message awaits it.

A notice says that a message was written on a case and where to read it, never the message's
words nor its attachments (an e-mail is no place for the debtor's own words or a creditor's
documents). Each notice is recorded pending in the message's transaction and sent once: its id
is the SMTP Message-ID, and a crash between the send and its record sends it again after its
lease. Before sending again, the mail system's log is asked whether the first send arrived (then
it is recorded sent, not sent again); a copy beyond one is counted in `duplicates`. A crash costs
at most one duplicate notice, and it is counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from messaging.domain.thread import ThreadParty


class NoticeState(StrEnum):
    """Pending until sent, or given up when the party has no e-mail address."""

    PENDING = "pending"
    SENT = "sent"
    NO_ADDRESS = "no-address"


@dataclass(frozen=True)
class ThreadNotice:
    """One party to tell of one message; `party_id` is the creditor's or the holder's id, the
    case id for the debtor."""

    notice_id: str
    message_id: str
    case_id: str
    party: ThreadParty
    party_id: str
    created_at: datetime
    state: NoticeState = NoticeState.PENDING
    attempts: int = 0
    sent_at: datetime | None = None
    duplicates: int = 0
