"""Messages on the real channels: an e-mail received by Mailpit with its EPC QR decodable to the
case's IBAN, reference and amount; a letter whose PDF text carries every R124-4 mention, kept
in the vault; a crash between send and record costs no second e-mail; a bounce suppresses."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import aiosmtplib
import grpc
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from messaging.adapters.mailpit_bounces import MailpitBounceMailbox
from messaging.adapters.vault_evidence import VaultEvidence
from messaging.domain.content import absent_mentions
from messaging.domain.outgoing import Channel, MessageToSend, Tone
from messaging.domain.sent_once import SendState
from messaging.service_layer.bounces import suppress_bounced
from messaging.service_layer.compose import compose
from recouvra.intake.v1 import intake_pb2
from recouvra.messaging.v1 import preview_pb2
from recouvra.vault.v1 import vault_pb2
from recouvra_shared.errors import Unavailable
from services.intake.tests.integration.intake_harness import company, invoice
from services.messaging.tests.unit.channel_fakes import make_dsn
from tests.support.identity import as_person
from tests.support.stack import Stack

from .messaging_harness import (
    MAILPIT,
    SMTP_HOST,
    SMTP_PORT,
    Platform,
    as_messaging,
    mailpit,
    running_platform,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def platform(
    stack: Stack, make_database: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[Platform]:
    async with running_platform(stack, make_database, tmp_path) as running:
        yield running


async def submit_case(platform: Platform, email: str) -> str:
    """A company debtor owing two invoices of creditor-1, as the creditor submits it."""
    reply = await platform.intake.SubmitCase(
        intake_pb2.SubmitCaseRequest(
            creditor_id="creditor-1",
            debtor=company(email=email),
            invoices=[invoice("F-2026-101", "1200.00"), invoice("F-2026-102", "345.67")],
        ),
        metadata=as_person("intake", "creditor", "creditor-1"),
    )
    return str(reply.case_id)


def first_letter(case_id: str, channel: Channel, tone: Tone = Tone.REMINDER) -> MessageToSend:
    return MessageToSend(
        message_id=str(uuid.uuid4()),
        case_id=case_id,
        creditor_id="creditor-1",
        holder_id="provider-1",
        round=1,
        step=1,
        channel=channel,
        template="formal_notice" if tone is Tone.FORMAL_NOTICE else "first_letter",
        tone=tone,
        language="fr",
        first_sent_on=None,
    )


async def received(message_id: str) -> list[dict[str, object]]:
    found = await mailpit("/api/v1/search", query=f'message-id:"{message_id}@recouvra.local"')
    return list(found["messages"])


async def test_the_first_email_arrives_with_every_mention_and_a_qr_to_pay_this_case(
    platform: Platform,
) -> None:
    email = f"compta-{uuid.uuid4().hex[:8]}@debtor.example"
    case_id = await submit_case(platform, email)
    message = first_letter(case_id, Channel.EMAIL)

    result = await platform.dispatcher.dispatch(message)

    assert result.sent, result.reason
    (summary,) = await received(message.message_id)
    mail = await mailpit(f"/api/v1/message/{summary['ID']}")
    assert [to["Address"] for to in mail["To"]] == [email]
    facts = await compose(
        message, platform.dispatcher.sources, platform.dispatcher.portal, platform.dispatcher.now
    )
    assert absent_mentions(mail["Text"], facts) == []
    assert "F-2026-101" in mail["HTML"]
    (qr_part,) = [part for part in mail["Inline"] if part["ContentType"] == "image/png"]
    png = await mailpit(f"/api/v1/message/{summary['ID']}/part/{qr_part['PartID']}")
    (code,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    lines = code.text.split("\n")
    total = facts.amounts.total_minor
    assert lines[:4] == ["BCD", "002", "1", "SCT"]
    assert lines[6] == facts.payment.iban == "FR7630006000011234567890189"
    assert lines[7] == f"EUR{total // 100}.{total % 100:02d}"
    assert lines[9] == facts.payment.reference
    assert total == 120_000 + 34_567 + facts.amounts.interest_minor + 2 * 4_000


async def test_a_formal_notice_goes_as_a_pdf_with_every_mention_and_is_kept_in_the_vault(
    platform: Platform,
) -> None:
    case_id = await submit_case(platform, "letters@debtor.example")
    message = first_letter(case_id, Channel.LETTER, Tone.FORMAL_NOTICE)

    result = await platform.dispatcher.dispatch(message)

    assert result.sent, result.reason
    pdf = (platform.letters.root / f"{message.message_id}.pdf").read_bytes()
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    facts = await compose(
        message, platform.dispatcher.sources, platform.dispatcher.portal, platform.dispatcher.now
    )
    assert absent_mentions(text, facts) == []
    assert "MISE EN DEMEURE" in text
    assert await platform.letters.copies(message.message_id) == 1
    listed = await platform.vault.ListDocuments(
        vault_pb2.ListDocumentsRequest(case_id=case_id),
        metadata=as_person("vault", "creditor", "creditor-1"),
    )
    (document,) = listed.documents
    assert document.content_type == "application/pdf"
    assert document.size_bytes == len(pdf)


async def test_a_crash_after_the_smtp_send_does_not_send_the_email_twice(
    platform: Platform,
) -> None:
    case_id = await submit_case(platform, f"crash-{uuid.uuid4().hex[:8]}@debtor.example")
    message = first_letter(case_id, Channel.EMAIL)
    real = platform.smtp

    class DiesAfterSending:
        async def send(self, *args: object) -> str:
            await real.send(*args)  # type: ignore[arg-type]
            raise SystemExit("killed between the send and its record")

        copies = real.copies

    platform.dispatcher.channels = {Channel.EMAIL: DiesAfterSending()}  # type: ignore[dict-item]
    with pytest.raises(SystemExit):
        await platform.dispatcher.dispatch(message)
    async with platform.units() as uow:
        record = await uow.sent.get(message.message_id)
    assert record is not None
    assert record.state is SendState.SENDING

    platform.dispatcher.channels = {Channel.EMAIL: real}
    platform.dispatcher.lease = timedelta(0)  # the killed attempt's lease has run out
    result = await platform.dispatcher.dispatch(message)

    assert result.sent
    assert len(await received(message.message_id)) == 1
    async with platform.units() as uow:
        record = await uow.sent.get(message.message_id)
    assert record is not None
    assert (record.state, record.duplicates) == (SendState.SENT, 0)


async def test_a_bounce_suppresses_the_address_and_nothing_more_goes_to_it(
    platform: Platform,
) -> None:
    email = f"gone-{uuid.uuid4().hex[:8]}@debtor.example"
    case_id = await submit_case(platform, email)
    first = first_letter(case_id, Channel.EMAIL)
    assert (await platform.dispatcher.dispatch(first)).sent
    bounce_address = f"bounces-{uuid.uuid4().hex[:8]}@recouvra.local"
    await aiosmtplib.send(
        make_dsn(email, f"{first.message_id}@recouvra.local", to=bounce_address),
        sender="MAILER-DAEMON@relay.example",
        recipients=[bounce_address],
        hostname=SMTP_HOST,
        port=SMTP_PORT,
    )
    mailbox = MailpitBounceMailbox(MAILPIT, bounce_address)

    assert await suppress_bounced(mailbox, platform.units) == 1
    assert await suppress_bounced(mailbox, platform.units) == 0  # read once
    async with platform.units() as uow:
        record = await uow.sent.get(first.message_id)
    assert record is not None
    assert record.reason.startswith("bounced:")

    again = await platform.dispatcher.dispatch(first_letter(case_id, Channel.EMAIL))
    assert not again.sent
    assert again.reason == "email address suppressed"


async def test_the_creditor_previews_over_grpc_and_a_stranger_sees_no_case(
    platform: Platform,
) -> None:
    case_id = await submit_case(platform, "preview@debtor.example")
    request = preview_pb2.PreviewMessageRequest(case_id=case_id, channel="letter")

    # Nobody holds the case yet: no collector to name, so no lawful first letter to show.
    with pytest.raises(grpc.aio.AioRpcError) as unassigned:
        await platform.preview.PreviewMessage(
            request, metadata=as_person("messaging", "creditor", "creditor-1")
        )
    assert unassigned.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "holder.address" in (unassigned.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await platform.preview.PreviewMessage(
            request, metadata=as_person("messaging", "creditor", "creditor-2")
        )
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_letter_whose_evidence_the_vault_missed_keeps_the_posted_pdf_on_retry(
    platform: Platform,
) -> None:
    case_id = await submit_case(platform, "letters@debtor.example")
    message = first_letter(case_id, Channel.LETTER)
    real = platform.dispatcher.evidence
    nobody = as_messaging("vault", "127.0.0.1:9")  # the vault does not answer
    platform.dispatcher.evidence = VaultEvidence(nobody)
    try:
        with pytest.raises(Unavailable):
            await platform.dispatcher.dispatch(message)
    finally:
        await nobody.close()
    async with platform.units() as uow:
        record = await uow.sent.get(message.message_id)
    assert record is not None
    assert record.state is SendState.SENDING  # posted, not yet proven: not recorded sent
    posted = (platform.letters.root / f"{message.message_id}.pdf").read_bytes()

    platform.dispatcher.evidence = real
    platform.dispatcher.lease = timedelta(0)  # the failed attempt's lease has run out
    result = await platform.dispatcher.dispatch(message)

    assert result.sent, result.reason
    assert await platform.letters.copies(message.message_id) == 1  # not posted twice
    listed = await platform.vault.ListDocuments(
        vault_pb2.ListDocumentsRequest(case_id=case_id),
        metadata=as_person("vault", "creditor", "creditor-1"),
    )
    (document,) = listed.documents
    assert document.sha256_hex == hashlib.sha256(posted).hexdigest()
    async with platform.units() as uow:
        record = await uow.sent.get(message.message_id)
    assert record is not None
    assert (record.state, record.duplicates) == (SendState.SENT, 0)
