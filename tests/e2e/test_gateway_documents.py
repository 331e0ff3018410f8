"""Evidence over REST, end to end: the gateway in front of intake and the vault (and matching,
which providers sign up with), all running as processes on the real stack.

A creditor attaches a real PDF to its case and reads it back byte for byte; another creditor
gets 404. A provider gets 404 until matching's case-assigned event reaches the vault, then
reads the document, and gets 404 again once the case is recalled. The creditor erases the
document (crypto-shredding) and a download answers 410. The test plays matching's events by
producing them to the (prefixed) topics, as tests/e2e/test_vault_grants.py does.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from minio import Minio

from recouvra.events.v1.assignment_events_pb2 import CaseAssigned, CaseRecalled
from recouvra_shared.events import new_event
from recouvra_shared.kafka_security import KafkaConnection
from tests.support.fixtures import ServiceProcess
from tests.support.marketplace import (
    CREDITOR_SIREN,
    idempotency_key,
    log_in,
    operator_log_in,
    sign_up_provider,
    wait_http,
)
from tests.support.stack import ROOT, Stack, free_port, unique_name

pytestmark = pytest.mark.e2e


def window_open() -> Timestamp:
    """A window end a day away: the vault refuses access once an assignment's window ends."""
    ends = Timestamp()
    ends.FromDatetime(datetime.now(UTC) + timedelta(days=1))
    return ends


PASSWORD = "correct horse battery staple"
PROBLEM = "application/problem+json"
PDF = (ROOT / "services" / "intake" / "tests" / "data" / "invoice-facturx.pdf").read_bytes()


async def sign_up_creditor(client: httpx.AsyncClient, name: str) -> tuple[str, dict[str, str]]:
    email = f"{unique_name('creditor')}@example.fr"
    signed = await client.post(
        "/v1/accounts",
        json={
            "organisation_name": name,
            "siren": CREDITOR_SIREN,
            "email": email,
            "password": PASSWORD,
        },
        headers=idempotency_key(),
    )
    assert signed.status_code == 201, signed.text
    return signed.json()["organisation"]["id"], await log_in(client, email)


def case_body() -> dict[str, object]:
    today = datetime.now(UTC).date()
    return {
        "debtor": {
            "kind": "company",
            "name": "Transports Lefèvre SAS",
            "siren_or_siret": "552100554",
        },
        "invoices": [
            {
                "invoice_number": "F-2026-0042",
                "issue_date": (today - timedelta(days=90)).isoformat(),
                "due_date": (today - timedelta(days=60)).isoformat(),
                "amount_due": {"amount": "1250.00", "currency": "EUR"},
            }
        ],
    }


async def status_within(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], expected: int
) -> httpx.Response:
    """Poll until the path answers `expected`: grants follow Kafka events, asynchronously."""
    deadline = time.monotonic() + 30
    while (answer := await client.get(path, headers=headers)).status_code != expected:
        assert time.monotonic() < deadline, f"{path}: still {answer.status_code}, not {expected}"
        await asyncio.sleep(0.3)
    return answer


async def test_evidence_is_read_by_its_creditor_and_the_provider_holding_the_case_only(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    kafka_as: Callable[[str, str], KafkaConnection],
    tmp_path: Path,
) -> None:
    prefix = unique_name("e2e_docs") + "."
    bucket = unique_name("vault").replace("_", "-")
    intake = run_service("intake", make_database("intake"), prefix)
    matching = run_service("matching", make_database("matching"), prefix)
    vault = run_service(
        "vault",
        make_database("vault"),
        prefix,
        bucket=bucket,
        key_file=str(tmp_path / "keys.json"),
        s3_endpoint=stack.s3_endpoint,
        s3_access_key=stack.s3_access_key,
        s3_secret_key=stack.s3_secret_key,
    )
    http_port = free_port()
    gateway = run_service(
        "gateway",
        make_database("gateway"),
        prefix,
        http_port=str(http_port),
        intake_target=intake.target,
        matching_target=matching.target,
        vault_target=vault.target,
    )
    processes = (intake, matching, vault, gateway)
    await asyncio.gather(*(asyncio.to_thread(p.start) for p in processes))
    producer = AIOKafkaProducer(  # as matching's Kafka user: the only one who may write these
        **kafka_as("matching", prefix).client_options(), enable_idempotence=True, acks="all"
    )
    await producer.start()
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", timeout=30)
    try:
        await wait_http(client, gateway)
        alice_id, alice = await sign_up_creditor(client, "Atelier A")
        _, bob = await sign_up_creditor(client, "Atelier B")
        operator = await operator_log_in(client, gateway)
        provider_id, provider = await sign_up_provider(
            client, "Etude Lambert", "732829320", operator=operator
        )
        created = await client.post(
            "/v1/cases", json=case_body(), headers=alice | idempotency_key()
        )
        assert created.status_code == 201, created.text
        case_id = created.json()["case_id"]

        async def publish(event_type: str, payload: Message) -> None:
            event = new_event(
                producer="matching",
                event_type=event_type,
                version=1,
                case_id=case_id,
                tenant_id=alice_id,
                payload=payload,
            )
            await producer.send_and_wait(
                prefix + event.topic, event.envelope.SerializeToString(), key=case_id.encode()
            )

        # The creditor attaches the invoice and reads it back, byte for byte.
        stored = await client.post(
            f"/v1/cases/{case_id}/documents",
            files={"file": ("facture F-2026-0042.pdf", PDF, "application/pdf")},
            data={"kind": "invoice", "sha256": hashlib.sha256(PDF).hexdigest()},
            headers=alice | idempotency_key(),
        )
        assert stored.status_code == 201, stored.text
        document = stored.json()
        assert document["content_type"] == "application/pdf"
        assert document["size_bytes"] == len(PDF)
        listed = await client.get(f"/v1/cases/{case_id}/documents", headers=alice)
        assert listed.json()["items"] == [document]
        downloaded = await client.get(document["href"], headers=alice)
        assert downloaded.status_code == 200
        assert downloaded.content == PDF
        assert downloaded.headers["content-type"] == "application/pdf"
        assert downloaded.headers["content-length"] == str(len(PDF))
        assert 'filename="facture F-2026-0042.pdf"' in downloaded.headers["content-disposition"]

        # Another creditor: 404, exactly like a case that does not exist.
        foreign = await client.get(document["href"], headers=bob)
        missing = await client.get(
            f"/v1/cases/{uuid.uuid4()}/documents/{document['id']}", headers=bob
        )
        assert foreign.status_code == missing.status_code == 404
        assert foreign.json() | {"instance": ""} == missing.json() | {"instance": ""}

        # The provider: nothing before the case is assigned to it, then the document, then
        # nothing again once the case is recalled.
        held = f"/v1/provider/assignments/{case_id}/documents/{document['id']}"
        assert (await client.get(held, headers=provider)).status_code == 404
        await publish(
            "case-assigned",
            CaseAssigned(
                case_id=case_id, provider_id=provider_id, round=1, window_ends_at=window_open()
            ),
        )
        granted = await status_within(client, held, provider, 200)
        assert granted.content == PDF
        await publish(
            "case-recalled",
            CaseRecalled(case_id=case_id, provider_id=provider_id, reason="released", round=1),
        )
        recalled = await status_within(client, held, provider, 404)
        assert recalled.headers["content-type"] == PROBLEM

        # Erased for good: described still, never readable again.
        erased = await client.delete(document["href"], headers=alice)
        assert erased.status_code == 200, erased.text
        assert erased.json()["shredded_at"] is not None
        gone = await client.get(document["href"], headers=alice)
        assert gone.status_code == 410
        assert gone.headers["content-type"] == PROBLEM
        assert "crypto-shredded" in gone.json()["detail"]
    finally:
        await client.aclose()
        await producer.stop()
        exits = {process.service: process.stop() for process in processes}
        s3 = Minio(stack.s3_endpoint, stack.s3_access_key, stack.s3_secret_key, secure=False)
        if s3.bucket_exists(bucket):
            for leftover in s3.list_objects(bucket, recursive=True):
                s3.remove_object(bucket, str(leftover.object_name))
            s3.remove_bucket(bucket)
    assert exits == dict.fromkeys(exits, 0), gateway.log_text()[-3000:]
