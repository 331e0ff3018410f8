"""Delivery status notifications (RFC 3464): which address failed for good, and why.

A DSN is a multipart/report whose message/delivery-status part lists, per recipient, an Action
and a Status; only `Action: failed` with a permanent status (5.x.x) suppresses an address: a
delayed or transient one (4.x.x) does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message


@dataclass(frozen=True)
class Bounce:
    """One address that failed for good, and the mail it bounced (its Message-ID, if quoted)."""

    address: str
    status: str
    diagnostic: str
    original_message_id: str


def _fields(block: Message) -> dict[str, str]:
    return {key.lower(): str(value).strip() for key, value in block.items()}


def _address(value: str) -> str:
    # "rfc822; someone@example.org"
    return value.split(";", 1)[-1].strip().strip("<>").lower()


def parse_dsn(raw: bytes) -> list[Bounce]:
    """The permanent failures a raw DSN reports; empty for anything else."""
    mail = message_from_bytes(raw, policy=policy.compat32)
    if mail.get_content_type() != "multipart/report":
        return []
    original = ""
    blocks: list[Message] = []
    for part in mail.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):
                blocks = [block for block in payload if isinstance(block, Message)]
        elif kind in ("message/rfc822", "text/rfc822-headers") and not original:
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                original = str(inner[0].get("Message-ID", ""))
            elif isinstance(inner, str):
                headers = message_from_bytes(inner.encode(), policy=policy.compat32)
                original = str(headers.get("Message-ID", ""))
    bounces = []
    for block in blocks[1:]:  # the first block is per-message, the rest per-recipient
        fields = _fields(block)
        recipient = fields.get("final-recipient") or fields.get("original-recipient", "")
        status = fields.get("status", "")
        if fields.get("action", "").lower() == "failed" and status.startswith("5") and recipient:
            bounces.append(
                Bounce(
                    address=_address(recipient),
                    status=status,
                    diagnostic=fields.get("diagnostic-code", ""),
                    original_message_id=original.strip().strip("<>"),
                )
            )
    return bounces
