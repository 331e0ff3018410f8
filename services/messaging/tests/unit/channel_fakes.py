"""In-memory stand-ins for the channel dispatcher: its send records, fact sources and channels
(the contact plan's are in fakes.py)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime

from messaging.domain.content import (
    CaseFacts,
    ClaimAmounts,
    Debtor,
    InvoiceBasis,
    Party,
    PaymentDetails,
)
from messaging.domain.sent_once import SendRecord
from messaging.service_layer.channels import Rendered
from recouvra_shared.testing import FakeUnitOfWork

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
CASE_ID = "0b6f5a52-4d2e-4b7e-9a57-3c1f0f6f2a10"
IBAN = "FR7630006000011234567890189"

DEBTOR = Debtor(
    party=Party("ACME SARL", ("12 rue des Lilas",), "69003", "Lyon"),
    email="compta@acme.example",
    phone="+33612345678",
)
HOLDER = Party("Cabinet Durand Recouvrement", ("4 place Bellecour",), "69002", "Lyon")
CREDITOR = Party("Boulangerie Martin SAS", ("8 avenue Foch",), "75016", "Paris")
CASE = CaseFacts(
    case_id=CASE_ID,
    creditor_id="creditor-1",
    debtor=DEBTOR,
    invoices=(
        InvoiceBasis("F-2026-0042", "2026-06-01", "2026-07-01", 123_456),
        InvoiceBasis("F-2026-0057", "2026-07-15", "2026-08-14", 20_000),
    ),
    amounts=ClaimAmounts("EUR", 143_456, 2_874, 8_000, "2026-12-03"),
    holder_id="provider-1",
)
PAYMENT = PaymentDetails(
    beneficiary="Recouvra SAS - compte de cantonnement",
    iban=IBAN,
    iban_formatted="FR76 3000 6000 0112 3456 7890 189",
    bic="AGRIFRPP",
    reference="RF18539007547034",
    reference_formatted="RF18 5390 0754 7034",
    amount_minor=154_330,
    currency="EUR",
    epc_qr_payload="BCD\n002\n1\nSCT\nAGRIFRPP\nRecouvra SAS\n"
    + IBAN
    + "\nEUR1543.30\n\nRF18539007547034\n",
)


@dataclass
class Tables:
    """What messaging's database holds."""

    sent: dict[str, SendRecord] = field(default_factory=dict)
    suppressed: dict[tuple[str, str], str] = field(default_factory=dict)


class FakeSendRecords:
    def __init__(self, rows: dict[str, SendRecord]) -> None:
        self.rows = rows

    async def get(self, message_id: str) -> SendRecord | None:
        return self.rows.get(message_id)

    async def save(self, record: SendRecord) -> None:
        self.rows[record.message_id] = record

    async def claim(self, record: SendRecord, previous_attempts: int) -> bool:
        found = self.rows.get(record.message_id)
        if found is None and previous_attempts == 0:
            self.rows[record.message_id] = record
            return True
        if found is not None and found.attempts == previous_attempts and found.state == "sending":
            self.rows[record.message_id] = record
            return True
        return False

    async def duplicates(self) -> int:
        return sum(r.duplicates for r in self.rows.values())


class FakeSuppressions:
    def __init__(self, rows: dict[tuple[str, str], str]) -> None:
        self.rows = rows

    async def is_suppressed(self, channel: str, address: str) -> bool:
        return (channel, address.lower()) in self.rows

    async def suppress(self, channel: str, address: str, reason: str) -> None:
        self.rows.setdefault((channel, address.lower()), reason)


class FakeMessagingUnitOfWork(FakeUnitOfWork):
    """Messaging's unit of work in memory: changes are kept only on commit."""

    def __init__(self, tables: Tables) -> None:
        super().__init__()
        self.kept = tables
        self.work = copy.deepcopy(tables)

    async def __aenter__(self) -> FakeMessagingUnitOfWork:
        await super().__aenter__()
        self.work = copy.deepcopy(self.kept)
        return self

    @property
    def sent(self) -> FakeSendRecords:
        return FakeSendRecords(self.work.sent)

    @property
    def suppressions(self) -> FakeSuppressions:
        return FakeSuppressions(self.work.suppressed)

    def commit_changes(self) -> None:
        self.kept.sent = copy.deepcopy(self.work.sent)
        self.kept.suppressed = copy.deepcopy(self.work.suppressed)


class FakeFacts:
    """Intake, the party directory and settlement, answering from the constants above."""

    def __init__(self, case: CaseFacts = CASE, holder: Party = HOLDER) -> None:
        self.case_facts = case
        self.holder_party = holder

    async def case(self, case_id: str) -> CaseFacts:
        return self.case_facts

    async def holder(self, provider_id: str) -> Party:
        return self.holder_party

    async def creditor(self, creditor_id: str) -> Party:
        return CREDITOR

    async def instructions(self, case_id: str, amount_minor: int, currency: str) -> PaymentDetails:
        return PAYMENT


@dataclass
class FakeChannel:
    """A channel that keeps what it was given; `lose_record` simulates a crash after sending."""

    delivered: list[tuple[str, str, Rendered]] = field(default_factory=list)
    crash_after_send: bool = False
    hide_copies: bool = False  # the channel's log does not show a copy yet

    async def send(self, message_id: str, recipient: str, rendered: Rendered) -> str:
        self.delivered.append((message_id, recipient, rendered))
        if self.crash_after_send:
            self.crash_after_send = False
            raise SystemExit("killed between send and record")
        return f"<{message_id}@test>"

    async def copies(self, message_id: str) -> int:
        if self.hide_copies:
            self.hide_copies = False
            return 0
        return sum(1 for m, _, _ in self.delivered if m == message_id)

    async def copy_of(self, message_id: str) -> bytes | None:
        pdfs = [r.pdf for m, _, r in self.delivered if m == message_id and r.pdf]
        return pdfs[-1] if pdfs else None


class VaultDown(Exception):
    """The vault did not answer."""


@dataclass
class FakeEvidence:
    """The vault's evidence: one document per message id, as its idempotency key makes it;
    `failures` calls fail first (the vault does not answer)."""

    kept: list[tuple[str, str, bytes]] = field(default_factory=list)
    creditors: list[str] = field(default_factory=list)
    failures: int = 0
    by_key: dict[str, bytes] = field(default_factory=dict)

    async def keep_pdf(
        self, *, case_id: str, creditor_id: str, message_id: str, filename: str, pdf: bytes
    ) -> str:
        if self.failures:
            self.failures -= 1
            raise VaultDown("vault: unavailable")
        key = f"messaging:{message_id}"
        if key in self.by_key:
            if self.by_key[key] != pdf:
                raise ValueError("metadata.idempotency_key: already used for another upload")
            return f"doc-{list(self.by_key).index(key) + 1}"
        self.by_key[key] = pdf
        self.kept.append((case_id, filename, pdf))
        self.creditors.append(creditor_id)
        return f"doc-{len(self.kept)}"


def make_dsn(
    recipient: str,
    original_message_id: str,
    *,
    action: str = "failed",
    status: str = "5.1.1",
    to: str = "bounces@recouvra.local",
) -> bytes:
    """A delivery status notification (RFC 3464) as a relay sends it to the Return-Path."""
    boundary = "dsn-boundary-42"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@relay.example>\r\n"
        f"To: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/plain\r\n\r\n"
        f"Your message to {recipient} could not be delivered.\r\n"
        f"--{boundary}\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; relay.example\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <{original_message_id}>\r\n"
        f"To: {recipient}\r\n"
        "\r\n"
        f"--{boundary}--\r\n"
    ).encode()
