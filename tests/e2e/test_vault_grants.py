"""A provider's access to a case's evidence follows matching's assignment facts over real Kafka.

The vault runs as its own process; the test plays matching by producing assignment envelopes
to the (prefixed) topics with an idempotent aiokafka producer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from minio import Minio

from recouvra.events.v1.assignment_events_pb2 import CaseAssigned, CaseClosed, CaseRotated
from recouvra.vault.v1 import vault_pb2, vault_pb2_grpc
from recouvra_shared.events import new_event
from recouvra_shared.kafka_security import KafkaConnection
from tests.support.fixtures import ServiceProcess
from tests.support.identity import CallAs, as_person
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.e2e


def window_open() -> Timestamp:
    """A window end a day away: the vault refuses access once an assignment's window ends."""
    ends = Timestamp()
    ends.FromDatetime(datetime.now(UTC) + timedelta(days=1))
    return ends


PDF = b"%PDF-1.7\nsigned terms of sale, delivery note 2026-118\n" * 100


def caller(kind: str, tenant: str) -> CallAs:
    return as_person("vault", kind, tenant, "user")


async def read_code(stub: vault_pb2_grpc.VaultServiceStub, document_id: str, who: str) -> str:
    try:
        async for _ in stub.GetDocument(
            vault_pb2.GetDocumentRequest(document_id=document_id),
            metadata=caller("provider", who),
            timeout=10,
        ):
            pass
    except grpc.aio.AioRpcError as exc:
        return exc.code().name
    return "OK"


async def wait_for(
    stub: vault_pb2_grpc.VaultServiceStub, document_id: str, who: str, expected: str
) -> None:
    deadline = time.monotonic() + 60
    while (code := await read_code(stub, document_id, who)) != expected:
        assert time.monotonic() < deadline, f"{who} still gets {code}, expected {expected}"
        await asyncio.sleep(0.3)


async def test_provider_access_follows_assignment_rotation_and_closure(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    kafka_as: Callable[[str, str], KafkaConnection],
    tmp_path: Path,
) -> None:
    prefix = unique_name("e2e") + "."
    bucket = unique_name("vault").replace("_", "-")
    vault = run_service(
        "vault",
        make_database("vault"),
        prefix,
        bucket=bucket,
        key_file=str(tmp_path / "keys.json"),
        s3_endpoint=stack.s3_endpoint,
        s3_access_key=stack.s3_access_key,
        s3_secret_key=stack.s3_secret_key,
    ).start()
    producer = AIOKafkaProducer(  # as matching's Kafka user: the only one who may write these
        **kafka_as("matching", prefix).client_options(), enable_idempotence=True, acks="all"
    )
    await producer.start()

    async def publish(event_type: str, payload: Message) -> None:
        event = new_event(
            producer="matching",
            event_type=event_type,
            version=1,
            case_id="case-7",
            tenant_id="creditor-1",
            payload=payload,
        )
        await producer.send_and_wait(
            prefix + event.topic,
            event.envelope.SerializeToString(),
            key=b"case-7",
        )

    try:
        async with vault.channel() as channel:
            stub = vault_pb2_grpc.VaultServiceStub(channel)

            async def upload() -> vault_pb2.Document:
                async def requests():  # type: ignore[no-untyped-def]
                    yield vault_pb2.PutDocumentRequest(
                        metadata=vault_pb2.DocumentMetadata(
                            case_id="case-7", kind=vault_pb2.DOCUMENT_KIND_QUOTE_OR_TERMS
                        )
                    )
                    yield vault_pb2.PutDocumentRequest(chunk=PDF)

                result: vault_pb2.Document = await stub.PutDocument(
                    requests(), metadata=caller("creditor", "creditor-1"), timeout=30
                )
                return result

            document = await upload()
            assert await read_code(stub, document.document_id, "provider-a") == "NOT_FOUND"

            await publish(
                "case-assigned",
                CaseAssigned(
                    case_id="case-7",
                    provider_id="provider-a",
                    round=1,
                    window_ends_at=window_open(),
                ),
            )
            await wait_for(stub, document.document_id, "provider-a", "OK")
            assert await read_code(stub, document.document_id, "provider-b") == "NOT_FOUND"

            await publish(
                "case-rotated",
                CaseRotated(case_id="case-7", from_provider_id="provider-a", round=1),
            )
            await publish(
                "case-assigned",
                CaseAssigned(
                    case_id="case-7",
                    provider_id="provider-b",
                    round=2,
                    window_ends_at=window_open(),
                ),
            )
            await wait_for(stub, document.document_id, "provider-a", "NOT_FOUND")
            await wait_for(stub, document.document_id, "provider-b", "OK")

            await publish("case-closed", CaseClosed(case_id="case-7"))
            await wait_for(stub, document.document_id, "provider-b", "NOT_FOUND")
    finally:
        await producer.stop()
        assert vault.stop() == 0
        s3 = Minio(stack.s3_endpoint, stack.s3_access_key, stack.s3_secret_key, secure=False)
        for stored in s3.list_objects(bucket, recursive=True):
            s3.remove_object(bucket, str(stored.object_name))
        s3.remove_bucket(bucket)
