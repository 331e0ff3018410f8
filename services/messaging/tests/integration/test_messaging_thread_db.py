"""The case thread on the real stack: CaseThreadService and PortalThreadService over mutual TLS
on messaging's PostgreSQL, attachments checked against the real vault, each recipient told by
e-mail through the real Mailpit (the notice names the case, never the words), and a recalled
holder losing the thread."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pypdf
import pytest

from messaging.adapters.email_channel import MailpitLog
from messaging.adapters.facts_clients import IntakeCases
from messaging.adapters.thread_mail import SmtpNoticeMailer, ThreadAddresses
from messaging.domain.portal_sessions import open_session
from messaging.entrypoints import thread_api
from messaging.service_layer import holdings, plan_lifecycle
from messaging.service_layer.case_thread import send_next_notice
from recouvra.intake.v1 import intake_pb2
from recouvra.messaging.v1 import thread_pb2 as pb
from recouvra.messaging.v1 import thread_pb2_grpc
from recouvra_shared.grpc import GrpcServer
from services.intake.tests.integration.intake_harness import company, invoice
from tests.support.identity import as_person, as_service, identity_keys
from tests.support.pki import platform_pki
from tests.support.stack import Stack

from .messaging_harness import (
    MAILPIT,
    SMTP_HOST,
    SMTP_PORT,
    Platform,
    grpc_code,
    mailpit,
    running_platform,
)

pytestmark = pytest.mark.integration

SECRET = b"portal-secret-for-tests-0123456789"
GATEWAY = as_service("messaging", "gateway")
CREDITOR = as_person("messaging", "creditor", "creditor-1")
HOLDER = as_person("messaging", "provider", "provider-1")
STRANGER = as_person("messaging", "provider", "provider-9")
DOMAIN = "recouvra.local"


class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Thread:
    platform: Platform
    parties: thread_pb2_grpc.CaseThreadServiceStub
    debtor: thread_pb2_grpc.PortalThreadServiceStub


@pytest.fixture
async def thread(
    stack: Stack, make_database: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[Thread]:
    async with running_platform(stack, make_database, tmp_path) as platform:
        server = GrpcServer(
            "127.0.0.1:0",
            [thread_api.CASE_THREAD, thread_api.PORTAL_THREAD],
            tls=platform_pki().material("messaging"),
            verifier=identity_keys().verifier("messaging"),
        )
        thread_api.register_case_thread(
            thread_api.CaseThreadApi(platform.units, platform.documents, WallClock())
        )(server.server)
        thread_api.register_portal_thread(
            thread_api.PortalThreadApi(
                platform.units, platform.documents, WallClock(), lambda: SECRET
            )
        )(server.server)
        await server.start()
        channel = platform_pki().channel(f"127.0.0.1:{server.port}", "messaging")
        try:
            yield Thread(
                platform,
                thread_pb2_grpc.CaseThreadServiceStub(channel),
                thread_pb2_grpc.PortalThreadServiceStub(channel),
            )
        finally:
            await channel.close()
            await server.stop(0)


def a_pdf() -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def held_case(thread: Thread, email: str) -> str:
    """A case submitted to intake, assigned to provider-1, messaging told as its consumers are."""
    reply = await thread.platform.intake.SubmitCase(
        intake_pb2.SubmitCaseRequest(
            creditor_id="creditor-1",
            debtor=company(email=email),
            invoices=[invoice(f"F-{uuid.uuid4().hex[:6]}", "900.00")],
        ),
        metadata=as_person("intake", "creditor", "creditor-1"),
    )
    case_id = str(reply.case_id)
    async with thread.platform.units() as uow:
        await plan_lifecycle.case_submitted(
            uow, case_id=case_id, creditor_id="creditor-1", debtor_key=email, region="FR-IDF"
        )
        await holdings.case_assigned(uow, case_id, "provider-1", 1)
        await uow.commit()
    return case_id


async def test_the_thread_checks_the_vault_tells_each_recipient_and_follows_the_holding(
    thread: Thread,
) -> None:
    debtor_email = f"debiteur-{uuid.uuid4().hex[:8]}@example.fr"
    case_id = await held_case(thread, debtor_email)
    document = await thread.platform.dispatcher.evidence.keep_pdf(
        case_id=case_id,
        creditor_id="creditor-1",
        message_id=str(uuid.uuid4()),
        filename="bon-de-livraison.pdf",
        pdf=a_pdf(),
    )
    other_case = await held_case(thread, "autre@example.fr")
    foreign = await thread.platform.dispatcher.evidence.keep_pdf(
        case_id=other_case,
        creditor_id="creditor-1",
        message_id=str(uuid.uuid4()),
        filename="autre.pdf",
        pdf=a_pdf(),
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await thread.parties.PostThreadMessage(
            pb.PostThreadMessageRequest(
                case_id=case_id, to=["holder"], text="x", attachment_document_ids=[foreign]
            ),
            metadata=CREDITOR,
        )
    assert grpc_code(refused.value) is grpc.StatusCode.INVALID_ARGUMENT
    assert "attachment_document_ids" in str(refused.value.details())

    words = "Le bon de livraison signé est joint"
    posted = await thread.parties.PostThreadMessage(
        pb.PostThreadMessageRequest(
            case_id=case_id,
            to=["holder", "debtor"],
            text=words,
            attachment_document_ids=[document],
        ),
        metadata=CREDITOR,
    )
    session = open_session(case_id, datetime.now(UTC), SECRET)
    await thread.debtor.PostPortalMessage(
        pb.PostPortalMessageRequest(session=session, to=["creditor"], text="Merci, je paierai"),
        metadata=GATEWAY,
    )
    held = await thread.parties.ListThreadMessages(
        pb.ListThreadMessagesRequest(case_id=case_id), metadata=HOLDER
    )
    assert [(m.text, list(m.attachment_document_ids)) for m in held.messages] == [
        (words, [document])
    ]
    mine = await thread.debtor.ListPortalMessages(
        pb.ListPortalMessagesRequest(session=session), metadata=GATEWAY
    )
    assert [m.author for m in mine.messages] == ["creditor", "debtor"]
    with pytest.raises(grpc.aio.AioRpcError) as stranger:
        await thread.parties.ListThreadMessages(
            pb.ListThreadMessagesRequest(case_id=case_id), metadata=STRANGER
        )
    assert grpc_code(stranger.value) is grpc.StatusCode.NOT_FOUND

    intake = thread.platform.dispatcher.sources.cases
    assert isinstance(intake, IntakeCases)
    mailer = SmtpNoticeMailer(
        host=SMTP_HOST,
        port=SMTP_PORT,
        sender="notices@recouvra.local",
        sender_name="Recouvra",
        domain=DOMAIN,
        log=MailpitLog(MAILPIT),
    )
    addresses = ThreadAddresses(thread.platform.parties, intake)
    clock = WallClock()
    while await send_next_notice(thread.platform.units, addresses, mailer, clock.now()):
        pass
    async with thread.platform.units() as uow:
        notices = [
            *await uow.thread_notices.of_message(posted.message_id),
            *await uow.thread_notices.of_message(mine.messages[1].message_id),
        ]
    told = {}
    for notice in notices:
        found = await mailpit(
            "/api/v1/search", query=f'message-id:"thread-{notice.notice_id}@{DOMAIN}"'
        )
        (summary,) = found["messages"]  # each notice once
        mail = await mailpit(f"/api/v1/message/{summary['ID']}")
        assert case_id in mail["Text"]
        assert words not in mail["Text"]  # where to read it, never what it says
        told[notice.party.value] = [to["Address"] for to in mail["To"]]
    assert told == {
        "holder": ["dossiers@durand-recouvrement.example"],
        "debtor": [debtor_email],
        "creditor": ["compta@fournil-martin.example"],
    }

    async with thread.platform.units() as uow:  # matching recalls the holder
        await holdings.holding_ended(uow, case_id, "provider-1", 1)
        await uow.commit()
    with pytest.raises(grpc.aio.AioRpcError) as recalled:
        await thread.parties.ListThreadMessages(
            pb.ListThreadMessagesRequest(case_id=case_id), metadata=HOLDER
        )
    assert grpc_code(recalled.value) is grpc.StatusCode.NOT_FOUND
