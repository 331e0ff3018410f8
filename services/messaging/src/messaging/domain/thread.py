"""The case thread (issue 15 point 6): messages between the creditor, the holder and the debtor.

Who sees a message is decided here, once:
- the creditor sees what it wrote and what was addressed to it;
- the debtor sees only what it wrote and what was addressed to it;
- a holder sees what it wrote and what was addressed to the holder *while it held the case*
  (each message keeps the holder of its time), and only while it holds the case now: a holder
  recalled or rotated out loses the thread, and a new holder does not read its predecessor's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from recouvra_shared.errors import InvalidField

MAX_TEXT = 4000
MAX_ATTACHMENTS = 10


class ThreadParty(StrEnum):
    """A party to the case's thread."""

    CREDITOR = "creditor"
    HOLDER = "holder"
    DEBTOR = "debtor"


@dataclass(frozen=True)
class ThreadMessage:
    """One message; `holder_id` is the provider holding the case when it was written ("" when
    nobody held it)."""

    message_id: str
    case_id: str
    author: ThreadParty
    holder_id: str
    to: frozenset[ThreadParty]
    text: str
    attachment_ids: tuple[str, ...]
    written_at: datetime


@dataclass(frozen=True)
class Reader:
    """Who reads the thread: a party, and for a holder the provider it is."""

    party: ThreadParty
    holder_id: str = ""


def write(
    message_id: str,
    *,
    case_id: str,
    author: ThreadParty,
    holder_id: str,
    to: frozenset[ThreadParty],
    text: str,
    attachment_ids: tuple[str, ...],
    now: datetime,
) -> ThreadMessage:
    """A message, refused naming the field: someone else to write to, words, few attachments."""
    if not to:
        raise InvalidField("to", "at least one other party")
    if author in to:
        raise InvalidField("to", "another party than the author")
    if ThreadParty.HOLDER in to and not holder_id:
        raise InvalidField("to", "nobody holds the case now: no holder to write to")
    words = text.strip()
    if not words:
        raise InvalidField("text", "required")
    if len(words) > MAX_TEXT:
        raise InvalidField("text", f"at most {MAX_TEXT} characters")
    if len(attachment_ids) > MAX_ATTACHMENTS:
        raise InvalidField("attachment_document_ids", f"at most {MAX_ATTACHMENTS}")
    if len(set(attachment_ids)) != len(attachment_ids):
        raise InvalidField("attachment_document_ids", "each document once")
    return ThreadMessage(
        message_id=message_id,
        case_id=case_id,
        author=author,
        holder_id=holder_id,
        to=to,
        text=words,
        attachment_ids=attachment_ids,
        written_at=now,
    )


def visible_to(message: ThreadMessage, reader: Reader) -> bool:
    """Whether the reader may see the message (the holder's check that it holds the case now is
    the caller's: see the module's docstring)."""
    involved = message.author is reader.party or reader.party in message.to
    if reader.party is ThreadParty.HOLDER:
        return involved and bool(reader.holder_id) and message.holder_id == reader.holder_id
    return involved


def others(message: ThreadMessage) -> list[ThreadParty]:
    """The parties told of the message by e-mail: its recipients, in a fixed order."""
    return [party for party in ThreadParty if party in message.to]
