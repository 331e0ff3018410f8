"""The ports a dispatch needs: where the facts come from, how a message is rendered, how it leaves.

Each is a protocol: the adapters (gRPC clients, Jinja2 and WeasyPrint, SMTP, the print-and-post
folder, the SMS sink, the vault) implement them, and the unit tests use fakes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from messaging.domain.content import CaseFacts, MessageFacts, Party, PayLink, PaymentDetails


class CaseFactsSource(Protocol):
    """The case, its debtor and its legal amounts (intake)."""

    async def case(self, case_id: str) -> CaseFacts: ...


class PartyDirectory(Protocol):
    """Names and postal addresses of the holder (a provider) and of the creditor."""

    async def holder(self, provider_id: str) -> Party: ...

    async def creditor(self, creditor_id: str) -> Party: ...


class PaymentInstructionsSource(Protocol):
    """The client-money account, the case's RF reference and the EPC QR payload (settlement)."""

    async def instructions(
        self, case_id: str, amount_minor: int, currency: str
    ) -> PaymentDetails: ...


class PaymentLinkSource(Protocol):
    """The case's payment link for the whole amount (settlement's PaymentLinks): the same link
    while the amount holds, a new one (the old revoked) when it changed."""

    async def whole_amount_link(self, case_id: str, amount_minor: int, currency: str) -> PayLink:
        """Unavailable when the payment-initiation provider does not answer."""
        ...


@dataclass(frozen=True)
class Rendered:
    """A message ready for its channel: text always, HTML for e-mail, a PDF for letters."""

    subject: str
    text: str
    html: str = ""
    inline_images: dict[str, bytes] = field(default_factory=dict)  # content id -> PNG
    pdf: bytes = b""


class Renderer(Protocol):
    """Turns facts into a message in the message's language, template and channel."""

    def render(self, facts: MessageFacts) -> Rendered: ...


class Undeliverable(Exception):
    """The channel refused the recipient for good (an SMTP 5xx on RCPT, an unknown number)."""

    def __init__(self, recipient: str, reason: str) -> None:
        super().__init__(f"{recipient}: {reason}")
        self.recipient = recipient
        self.reason = reason


class OutgoingChannel(Protocol):
    """Where a message leaves: it carries the message id, and can be asked about it later."""

    async def send(self, message_id: str, recipient: str, rendered: Rendered) -> str: ...

    async def copies(self, message_id: str) -> int: ...

    async def copy_of(self, message_id: str) -> bytes | None:
        """The PDF the channel was handed for this message (a letter's), None when it holds
        none: what is kept as evidence when the first attempt's record was cut off."""
        ...


class EvidenceStore(Protocol):
    """Keeps what was sent as evidence (the vault)."""

    async def keep_pdf(
        self, *, case_id: str, creditor_id: str, message_id: str, filename: str, pdf: bytes
    ) -> str: ...
