"""Intake, settlement and the vault served in-process on the real stack, and messaging's
dispatcher wired to them as bootstrap wires it (calling as the service `messaging`), to the
stack's Mailpit, and to a letter folder."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import httpx

from intake.bootstrap import SERVICE_NAME as INTAKE_SERVICE
from intake.bootstrap import intake_api
from messaging.adapters.email_channel import MailpitLog, SmtpChannel
from messaging.adapters.facts_clients import IntakeCases, SettlementPayments
from messaging.adapters.parties import PartiesFile
from messaging.adapters.print_and_post import LetterFolder, SmsSink
from messaging.adapters.rendering import JinjaRenderer
from messaging.adapters.unit_of_work import SqlMessagingUnitOfWork, messaging_units
from messaging.adapters.vault_documents import VaultDocuments
from messaging.adapters.vault_evidence import VaultEvidence
from messaging.adapters.webhook_secret_box import WebhookSecretBox
from messaging.domain.outgoing import Channel
from messaging.entrypoints.preview_api import SERVICE_NAME as PREVIEW_SERVICE
from messaging.entrypoints.preview_api import PreviewApi
from messaging.entrypoints.preview_api import register as register_preview
from messaging.service_layer.compose import FactSources, PortalLinks
from messaging.service_layer.dispatch import ChannelDispatcher
from recouvra.intake.v1 import intake_pb2_grpc
from recouvra.messaging.v1 import preview_pb2_grpc
from recouvra.vault.v1 import vault_pb2, vault_pb2_grpc
from recouvra_shared.db import Database
from recouvra_shared.grpc import GrpcServer, client_channel
from recouvra_shared.runtime import Wiring
from services.intake.tests.integration.intake_harness import TODAY
from settlement.bootstrap import build as build_settlement
from settlement.config import SettlementSettings
from tests.support.identity import identity_keys
from tests.support.pki import platform_pki
from tests.support.stack import Stack, unique_name
from vault.adapters.keys import KeyFileWrapper, create_key_file, load_key_file
from vault.adapters.store import S3ObjectStore
from vault.adapters.unit_of_work import vault_units
from vault.entrypoints.grpc_api import VaultApi
from vault.service_layer.deps import VaultDeps

# Seals webhook signing secrets (unused by these tests, needed by the unit of work).
TEST_BOX = WebhookSecretBox("test-key-sealing-webhook-secrets-0123456789")

MAILPIT = os.environ.get("RECOUVRA_MAILPIT_URL", "http://127.0.0.1:18025")
SMTP_HOST = os.environ.get("RECOUVRA_SMTP_HOST", "127.0.0.1")
SMTP_PORT = int(os.environ.get("RECOUVRA_SMTP_PORT", "11025"))
HOLDER = {
    "name": "Cabinet Durand Recouvrement",
    "address_lines": ["4 place Bellecour"],
    "postal_code": "69002",
    "city": "Lyon",
    "email": "dossiers@durand-recouvrement.example",
}
CREDITOR = {
    "name": "Fournil Martin SAS",
    "address_lines": ["8 avenue Foch"],
    "postal_code": "75016",
    "city": "Paris",
    "email": "compta@fournil-martin.example",
}


def as_messaging(service: str, target: str) -> Any:
    """A channel to `service` as bootstrap's `Wiring.channel_to` makes it for messaging."""
    return client_channel(
        target,
        tls=platform_pki().material("messaging"),
        server_name=service,
        audience=service,
        minter=identity_keys().minter("messaging"),
    )


async def _serve(name: str, service_name: str, register: Callable[[Any], None]) -> GrpcServer:
    server = GrpcServer(
        "127.0.0.1:0",
        [service_name],
        tls=platform_pki().material(name),
        verifier=identity_keys().verifier(name),
    )
    register(server.server)
    await server.start()
    return server


@dataclass
class Platform:
    """What a test drives and reads back."""

    intake: intake_pb2_grpc.IntakeServiceStub
    dispatcher: ChannelDispatcher
    units: Callable[[], SqlMessagingUnitOfWork]
    smtp: SmtpChannel
    letters: LetterFolder
    vault: vault_pb2_grpc.VaultServiceStub
    preview: preview_pb2_grpc.PreviewServiceStub
    documents: VaultDocuments  # the vault's documents of a case, read as messaging
    parties: Path


@asynccontextmanager
async def running_platform(
    stack: Stack, make_database: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[Platform]:
    """Intake, settlement and the vault on fresh databases (and a bucket of their own), and
    messaging's dispatcher on its own database."""
    async with AsyncExitStack() as stack_of:
        intake_db = Database.connect(make_database("intake"), pool_size=2)
        stack_of.push_async_callback(intake_db.dispose)
        intake = await _serve(
            "intake",
            INTAKE_SERVICE,
            lambda server: intake_pb2_grpc.add_IntakeServiceServicer_to_server(
                intake_api(intake_db, lambda: TODAY), server
            ),
        )
        stack_of.push_async_callback(intake.stop, 0)
        intake_caller = platform_pki().channel(f"127.0.0.1:{intake.port}", "intake")
        stack_of.push_async_callback(intake_caller.close)

        settlement_db = Database.connect(make_database("settlement"), pool_size=2)
        stack_of.push_async_callback(settlement_db.dispose)
        parts = build_settlement(
            Wiring(settings=SettlementSettings(), database=settlement_db, broker=None)
        )
        (settlement_name, register_settlement), *_ = parts.grpc_services
        settlement = await _serve("settlement", settlement_name, register_settlement)
        stack_of.push_async_callback(settlement.stop, 0)

        key_file = tmp_path / "vault-keys.json"
        create_key_file(key_file)
        vault_db = Database.connect(make_database("vault"), pool_size=2)
        stack_of.push_async_callback(vault_db.dispose)
        store = S3ObjectStore.connect(
            stack.s3_endpoint,
            stack.s3_access_key,
            stack.s3_secret_key,
            unique_name("messaging-evidence").replace("_", "-"),
            region="us-east-1",
            part_size=5 * 1024 * 1024,
        )
        deps = VaultDeps(
            units=vault_units(vault_db, load_key_file(key_file).audit_signing_key, 10),
            store=store,
            keys=KeyFileWrapper(key_file),
            max_document_bytes=16 * 1024 * 1024,
        )
        vault_name = vault_pb2.DESCRIPTOR.services_by_name["VaultService"].full_name
        vault = await _serve(
            "vault",
            vault_name,
            lambda server: vault_pb2_grpc.add_VaultServiceServicer_to_server(
                VaultApi(deps), server
            ),
        )
        stack_of.push_async_callback(vault.stop, 0)

        def empty_bucket() -> None:
            if not store.client.bucket_exists(store.bucket):  # made on the first document
                return
            for item in store.client.list_objects(store.bucket, recursive=True):
                store.client.remove_object(store.bucket, str(item.object_name))
            store.client.remove_bucket(store.bucket)

        stack_of.callback(empty_bucket)

        messaging_db = Database.connect(make_database("messaging"), pool_size=2)
        stack_of.push_async_callback(messaging_db.dispose)
        parties = tmp_path / "parties.json"
        parties.write_text(
            json.dumps({"providers": {"provider-1": HOLDER}, "creditors": {"creditor-1": CREDITOR}})
        )
        smtp = SmtpChannel(
            host=SMTP_HOST,
            port=SMTP_PORT,
            sender="recouvrement@recouvra.local",
            sender_name="Recouvra",
            domain="recouvra.local",
            log=MailpitLog(MAILPIT),
        )
        letters = LetterFolder(tmp_path / "letters")
        channels = []
        for service, port in (
            ("intake", intake.port),
            ("settlement", settlement.port),
            ("vault", vault.port),
        ):
            channel = as_messaging(service, f"127.0.0.1:{port}")
            stack_of.push_async_callback(channel.close)
            channels.append(channel)
        units = messaging_units(messaging_db, TEST_BOX)
        dispatcher = ChannelDispatcher(
            units=units,
            sources=FactSources(
                cases=IntakeCases(channels[0]),
                parties=PartiesFile(parties),
                payments=SettlementPayments(channels[1]),
            ),
            portal=PortalLinks(base_url="http://127.0.0.1:8000", secret=b"p" * 32),
            renderer=JinjaRenderer(),
            channels={
                Channel.EMAIL: smtp,
                Channel.LETTER: letters,
                Channel.SMS: SmsSink(tmp_path / "sms.jsonl"),
            },
            evidence=VaultEvidence(channels[2]),
            now=lambda: datetime.now(UTC),
        )
        previews = PreviewApi(
            dispatcher.sources, dispatcher.portal, JinjaRenderer(), dispatcher.now
        )
        preview_server = await _serve("messaging", PREVIEW_SERVICE, register_preview(previews))
        stack_of.push_async_callback(preview_server.stop, 0)
        preview_channel = platform_pki().channel(f"127.0.0.1:{preview_server.port}", "messaging")
        stack_of.push_async_callback(preview_channel.close)
        vault_reader = platform_pki().channel(f"127.0.0.1:{vault.port}", "vault")
        stack_of.push_async_callback(vault_reader.close)
        yield Platform(
            intake=intake_pb2_grpc.IntakeServiceStub(intake_caller),
            dispatcher=dispatcher,
            units=units,
            smtp=smtp,
            letters=letters,
            vault=vault_pb2_grpc.VaultServiceStub(vault_reader),
            preview=preview_pb2_grpc.PreviewServiceStub(preview_channel),
            documents=VaultDocuments(channels[2]),
            parties=parties,
        )


async def mailpit(path: str, **params: Any) -> Any:
    """A GET on Mailpit's API, as JSON (or bytes for a part)."""
    async with httpx.AsyncClient(base_url=MAILPIT, timeout=10) as client:
        answer = await client.get(path, params=params)
        answer.raise_for_status()
        if answer.headers.get("content-type", "").startswith("application/json"):
            return answer.json()
        return answer.content


def grpc_code(error: BaseException) -> grpc.StatusCode | None:
    """The status of a failed call, for assertions."""
    return error.code() if isinstance(error, grpc.aio.AioRpcError) else None
