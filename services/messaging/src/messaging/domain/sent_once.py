"""A message's record on its way out: written before the channel is called and after it answered.

A record left `sending` means the process died between the two: the next attempt asks the
channel whether the message already went (by its id, the SMTP Message-ID) before sending again,
so a crash costs at most one duplicate, and a duplicate found afterwards is counted here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class SendState(StrEnum):
    """Where a message is on its way out."""

    SENDING = "sending"  # recorded before the channel was called
    SENT = "sent"  # the channel accepted it
    NOT_SENT = "not_sent"  # refused before sending (suppressed address, no address)


@dataclass(frozen=True)
class SendRecord:
    """One outgoing message, by the id the plan chose."""

    message_id: str
    case_id: str
    channel: str
    recipient: str
    state: SendState
    attempts: int
    duplicates: int
    channel_reference: str
    reason: str
    updated_at: datetime

    def attempt(self, now: datetime) -> SendRecord:
        """One more call to the channel is about to be made."""
        return replace(self, state=SendState.SENDING, attempts=self.attempts + 1, updated_at=now)

    def sent(self, reference: str, copies: int, now: datetime) -> SendRecord:
        """The channel holds `copies` of it (1 when all went well); the rest are duplicates."""
        return replace(
            self,
            state=SendState.SENT,
            channel_reference=reference,
            duplicates=max(self.duplicates, copies - 1),
            updated_at=now,
        )

    def refused(self, reason: str, now: datetime) -> SendRecord:
        """Not sent, and why (recorded, never silently dropped)."""
        return replace(self, state=SendState.NOT_SENT, reason=reason, updated_at=now)

    def bounced(self, reason: str, now: datetime) -> SendRecord:
        """Sent, but a delivery status notification says it never arrived."""
        return replace(self, reason=f"bounced: {reason}", updated_at=now)

    @property
    def interrupted(self) -> bool:
        """A previous attempt may have reached the channel without being recorded."""
        return self.state is SendState.SENDING and self.attempts > 0


def new_record(message_id: str, case_id: str, channel: str, now: datetime) -> SendRecord:
    """A message not yet attempted."""
    return SendRecord(
        message_id=message_id,
        case_id=case_id,
        channel=channel,
        recipient="",
        state=SendState.SENDING,
        attempts=0,
        duplicates=0,
        channel_reference="",
        reason="",
        updated_at=now,
    )
