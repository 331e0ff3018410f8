"""Evidence over REST, with fakes of intake and the vault: what reaches the vault, as whom and in
what pieces; what comes back, with which headers; every refusal as problem+json."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import grpc
import httpx
import pytest
from fastapi import FastAPI

from gateway.adapters.intake import IntakeClient
from gateway.adapters.security import Passwords, Tokens
from gateway.adapters.vault import VaultClient
from gateway.entrypoints.api import documents
from gateway.entrypoints.http import create_app
from recouvra.vault.v1 import vault_pb2
from services.gateway.tests.unit.gateway_fakes import (
    PROBLEM,
    FakeCases,
    FakeMatching,
    FakeStore,
    FakeVault,
    fields_of,
    key,
    marketplace_services,
    rpc_error,
    sign_up,
    sign_up_provider,
)

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ninvoice F-2026-0042, 1250.00 EUR\n" * 40
MIB = 1024 * 1024


@pytest.fixture
def cases() -> FakeCases:
    return FakeCases()


@pytest.fixture
def vault() -> FakeVault:
    return FakeVault()


@pytest.fixture
def app(
    store: FakeStore, passwords: Passwords, tokens: Tokens, cases: FakeCases, vault: FakeVault
) -> FastAPI:
    services = marketplace_services(store, passwords, tokens, FakeMatching())
    return create_app(replace(services, intake=IntakeClient(cases), vault=VaultClient(vault)), {})


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


async def body_messages(app: FastAPI, path: str, headers: dict[str, str]) -> list[bytes]:
    """The body of a GET as the app sends it, message by message (httpx would join them)."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("gateway", 80),
    }
    sent: list[dict[str, Any]] = []
    requested = False
    finished = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            finished.set()

    await app(scope, receive, send)
    assert sent[0]["status"] == 200
    return [m["body"] for m in sent if m["type"] == "http.response.body" and m.get("body")]


async def creditor(client: httpx.AsyncClient, email: str) -> tuple[str, dict[str, str]]:
    headers = await sign_up(client, email)
    return (await client.get("/v1/me", headers=headers)).json()["organisation_id"], headers


async def upload(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    content: bytes = PDF,
    idempotency_key: str = "up-1",
    filename: str = "F-2026-0042.pdf",
    **form: str,
) -> httpx.Response:
    return await client.post(
        path,
        files={"file": (filename, content, "application/pdf")},
        data={"kind": "invoice", **form},
        headers=headers | key(idempotency_key),
    )


async def test_a_creditor_attaches_lists_and_downloads_a_document_byte_for_byte(
    client: httpx.AsyncClient, cases: FakeCases, vault: FakeVault
) -> None:
    alice_id, alice = await creditor(client, "alice@example.fr")
    cases.creditors["case-a"] = alice_id

    stored = await upload(
        client,
        "/v1/cases/case-a/documents",
        alice,
        kind="delivery-proof",
        shareable="true",
        filename="bon de livraison n°118.pdf",
    )

    assert stored.status_code == 201, stored.text
    view = stored.json()
    assert stored.headers["Location"] == view["href"] == f"/v1/cases/case-a/documents/{view['id']}"
    assert view["kind"] == "delivery-proof"
    assert view["shareable"] is True
    assert view["size_bytes"] == len(PDF)
    assert view["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert view["content_type"] == "application/pdf"
    assert view["shredded_at"] is None
    # The vault is asked as the creditor, with the bytes' hash to check what it receives.
    (caller, metadata), *_ = vault.called("PutDocument")
    assert caller is not None
    assert (caller.kind, caller.tenant_id) == ("creditor", alice_id)
    assert metadata.kind == vault_pb2.DOCUMENT_KIND_DELIVERY_PROOF
    assert metadata.sha256_hex == hashlib.sha256(PDF).hexdigest()
    assert metadata.filename == "bon de livraison n°118.pdf"

    listed = await client.get("/v1/cases/case-a/documents", headers=alice)
    assert listed.status_code == 200
    assert listed.json()["items"] == [view]

    downloaded = await client.get(view["href"], headers=alice)
    assert downloaded.status_code == 200
    assert downloaded.content == PDF
    assert downloaded.headers["content-type"] == "application/pdf"
    assert downloaded.headers["content-length"] == str(len(PDF))
    assert downloaded.headers["content-disposition"] == (
        'attachment; filename="bon de livraison n_118.pdf"; '
        "filename*=UTF-8''bon%20de%20livraison%20n%C2%B0118.pdf"
    )
    assert downloaded.headers["x-content-type-options"] == "nosniff"


async def test_a_5_mib_upload_reaches_the_vault_in_pieces_of_at_most_1_mib(
    app: FastAPI, client: httpx.AsyncClient, cases: FakeCases, vault: FakeVault
) -> None:
    alice_id, alice = await creditor(client, "alice@example.fr")
    cases.creditors["case-a"] = alice_id
    large = b"%PDF-1.7\n" + bytes(range(256)) * (5 * MIB // 256)

    stored = await upload(client, "/v1/cases/case-a/documents", alice, large)

    assert stored.status_code == 201, stored.text
    assert len(vault.chunk_sizes) >= 5
    assert max(vault.chunk_sizes) <= MIB
    assert vault.contents[stored.json()["id"]] == large

    # And back: sent on in the vault's pieces as they come, whole and in order.
    pieces = await body_messages(app, stored.json()["href"], alice)
    assert b"".join(pieces) == large
    assert len(pieces) >= 5 * MIB // vault.read_chunk


async def test_the_vault_is_given_the_idempotency_key_so_a_retry_after_a_deadline_stores_once(
    client: httpx.AsyncClient, cases: FakeCases, vault: FakeVault
) -> None:
    alice_id, alice = await creditor(client, "alice@example.fr")
    cases.creditors["case-a"] = alice_id

    stored = await upload(client, "/v1/cases/case-a/documents", alice, idempotency_key="up-77")

    assert stored.status_code == 201, stored.text
    [(_, metadata)] = vault.called("PutDocument")
    assert metadata.idempotency_key == "up-77"


async def test_a_file_over_the_limit_is_413_naming_file_and_never_reaches_the_vault(
    client: httpx.AsyncClient, cases: FakeCases, vault: FakeVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice_id, alice = await creditor(client, "alice@example.fr")
    cases.creditors["case-a"] = alice_id
    monkeypatch.setattr(documents, "MAX_DOCUMENT_BYTES", MIB)

    over = await upload(client, "/v1/cases/case-a/documents", alice, PDF * (MIB // len(PDF) + 1))
    assert over.status_code == 413
    assert fields_of(over) == {"file": "must be at most 1 MiB"}

    # Far over: the body limit answers before the form is even read, naming the file too.
    monkeypatch.undo()
    huge = await upload(client, "/v1/cases/case-a/documents", alice, b"%PDF-" + bytes(26 * MIB))
    assert huge.status_code == 413
    assert set(fields_of(huge)) == {"file"}
    assert vault.calls == []


async def test_another_creditors_case_is_404_like_a_missing_one_without_reaching_the_vault(
    client: httpx.AsyncClient, cases: FakeCases, vault: FakeVault
) -> None:
    alice_id, alice = await creditor(client, "alice@example.fr")
    _, bob = await creditor(client, "bob@example.fr")
    cases.creditors["case-a"] = alice_id
    stored = (await upload(client, "/v1/cases/case-a/documents", alice)).json()
    calls = len(vault.calls)

    for case in ("case-a", "case-missing"):
        answers = [
            await upload(client, f"/v1/cases/{case}/documents", bob, idempotency_key=case),
            await client.get(f"/v1/cases/{case}/documents", headers=bob),
            await client.get(f"/v1/cases/{case}/documents/{stored['id']}", headers=bob),
            await client.delete(f"/v1/cases/{case}/documents/{stored['id']}", headers=bob),
        ]
        for answer in answers:
            assert answer.status_code == 404, answer.text
            assert answer.headers["content-type"] == PROBLEM
            assert answer.json()["detail"] == "case: no such case"
    assert len(vault.calls) == calls

    # Alice's own document under another of her cases is not found there either.
    cases.creditors["case-a2"] = alice_id
    elsewhere = await client.get(f"/v1/cases/case-a2/documents/{stored['id']}", headers=alice)
    assert elsewhere.status_code == 404
    assert elsewhere.json()["detail"] == "document: no such document in this case"
    erase_elsewhere = await client.delete(
        f"/v1/cases/case-a2/documents/{stored['id']}", headers=alice
    )
    assert erase_elsewhere.status_code == 404
    assert vault.called("ShredDocument") == []


async def test_bad_input_is_422_naming_the_field_and_stores_nothing(
    client: httpx.AsyncClient, cases: FakeCases, vault: FakeVault
) -> None:
    alice_id, alice = await creditor(client, "alice@example.fr")
    cases.creditors["case-a"] = alice_id
    path = "/v1/cases/case-a/documents"

    bad_kind = await upload(client, path, alice, kind="receipt", idempotency_key="a")
    assert bad_kind.status_code == 422
    assert set(fields_of(bad_kind)) == {"kind"}
    assert "quote-or-terms" in fields_of(bad_kind)["kind"]
    no_file = await client.post(path, data={"kind": "invoice"}, headers=alice | key("b"))
    assert set(fields_of(no_file)) == {"file"}
    empty = await upload(client, path, alice, b"", idempotency_key="c")
    assert fields_of(empty) == {"file": "must not be empty"}
    wrong_hash = await upload(client, path, alice, idempotency_key="d", sha256="0" * 64)
    assert wrong_hash.status_code == 422
    assert fields_of(wrong_hash) == {"sha256": "does not match the SHA-256 of the uploaded file"}
    not_hex = await upload(client, path, alice, idempotency_key="e", sha256="not-a-hash")
    assert set(fields_of(not_hex)) == {"sha256"}
    no_key = await client.post(
        path, files={"file": ("a.pdf", PDF)}, data={"kind": "invoice"}, headers=alice
    )
    assert set(fields_of(no_key)) == {"Idempotency-Key"}
    assert vault.calls == []

    # The vault tells the type from the bytes: its refusal names the file too.
    html = await upload(client, path, alice, b"<html><script>", idempotency_key="f")
    assert html.status_code == 422
    assert fields_of(html) == {"file": "only PDF, PNG, JPEG and XML documents are accepted"}
    assert vault.documents == {}
    # Refused, so not remembered: the same key may be used again for a good file.
    again = await upload(client, path, alice, idempotency_key="f")
    assert again.status_code == 201


async def test_a_retried_upload_returns_the_first_answer_and_stores_one_document(
    client: httpx.AsyncClient, cases: FakeCases, vault: FakeVault
) -> None:
    alice_id, alice = await creditor(client, "alice@example.fr")
    cases.creditors["case-a"] = alice_id
    path = "/v1/cases/case-a/documents"

    first = await upload(client, path, alice, idempotency_key="same")
    retry = await upload(client, path, alice, idempotency_key="same")
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert len(vault.documents) == 1

    other_bytes = await upload(client, path, alice, PDF + b"%%EOF", idempotency_key="same")
    assert other_bytes.status_code == 409
    assert set(fields_of(other_bytes)) == {"Idempotency-Key"}
    assert len(vault.documents) == 1


async def test_the_provider_holding_the_case_reads_and_adds_and_nobody_else_does(
    client: httpx.AsyncClient, cases: FakeCases, vault: FakeVault
) -> None:
    alice_id, alice = await creditor(client, "alice@example.fr")
    cases.creditors["case-a"] = alice_id
    vault.owners["case-a"] = alice_id
    stored = (await upload(client, "/v1/cases/case-a/documents", alice)).json()
    provider_id, provider = await sign_up_provider(client, "etude@example.fr")
    base = "/v1/provider/assignments/case-a/documents"

    # Not held: the same 404 as a document or case that does not exist; nothing listed.
    download = await client.get(f"{base}/{stored['id']}", headers=provider)
    missing = await client.get(f"{base}/00000000-0000-0000-0000-000000000000", headers=provider)
    assert download.status_code == missing.status_code == 404
    assert download.json()["detail"] == missing.json()["detail"]
    refused = await upload(client, base, provider, idempotency_key="p1")
    assert refused.status_code == 404
    assert refused.json()["detail"] == "case: no such case held by you"
    assert (await client.get(base, headers=provider)).json() == {"items": []}
    # A creditor's account cannot use the provider's door.
    assert (await client.get(base, headers=alice)).status_code == 403

    vault.grants["case-a"] = provider_id
    download = await client.get(f"{base}/{stored['id']}", headers=provider)
    assert download.status_code == 200
    assert download.content == PDF
    added = await upload(
        client,
        base,
        provider,
        PDF + b"mise en demeure",
        idempotency_key="p2",
        kind="correspondence",
    )
    assert added.status_code == 201, added.text
    assert added.json()["href"] == f"{base}/{added.json()['id']}"
    caller, _ = vault.called("PutDocument")[-1]
    assert caller is not None
    assert (caller.kind, caller.tenant_id) == ("provider", provider_id)
    listed = await client.get(base, headers=provider)
    assert [d["id"] for d in listed.json()["items"]] == [stored["id"], added.json()["id"]]
    # The creditor sees what the provider added.
    mine = await client.get("/v1/cases/case-a/documents", headers=alice)
    assert [d["kind"] for d in mine.json()["items"]] == ["invoice", "correspondence"]

    vault.grants.pop("case-a")
    assert (await client.get(f"{base}/{stored['id']}", headers=provider)).status_code == 404


async def test_an_erased_document_is_410_and_listed_with_when(
    client: httpx.AsyncClient, cases: FakeCases, vault: FakeVault
) -> None:
    alice_id, alice = await creditor(client, "alice@example.fr")
    cases.creditors["case-a"] = alice_id
    stored = (await upload(client, "/v1/cases/case-a/documents", alice)).json()

    erased = await client.delete(f"{stored['href']}?reason=GDPR request 2026-118", headers=alice)
    assert erased.status_code == 200, erased.text
    assert erased.json()["shredded_at"] is not None
    assert vault.called("ShredDocument")[0][1].reason == "GDPR request 2026-118"
    again = await client.delete(stored["href"], headers=alice)
    assert again.status_code == 200
    assert again.json() == erased.json()

    gone = await client.get(stored["href"], headers=alice)
    assert gone.status_code == 410
    assert gone.headers["content-type"] == PROBLEM
    assert gone.json()["title"] == "Document erased"
    listed = await client.get("/v1/cases/case-a/documents", headers=alice)
    assert listed.json()["items"][0]["shredded_at"] == erased.json()["shredded_at"]


async def test_a_document_failing_its_integrity_check_is_never_served_whole(
    client: httpx.AsyncClient, cases: FakeCases, vault: FakeVault
) -> None:
    alice_id, alice = await creditor(client, "alice@example.fr")
    cases.creditors["case-a"] = alice_id
    small = (await upload(client, "/v1/cases/case-a/documents", alice)).json()
    large_content = PDF * (MIB // len(PDF) + 1)
    large = (
        await upload(client, "/v1/cases/case-a/documents", alice, large_content, "up-2")
    ).json()
    vault.corrupted |= {small["id"], large["id"]}

    # Small: the vault's refusal comes before any byte, so it is a problem document.
    refused = await client.get(small["href"], headers=alice)
    assert refused.status_code == 502
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["title"] == "Stored document failed its integrity check"

    # Large: bytes were on their way; the stream is cut short of its Content-Length.
    async with client.stream("GET", large["href"], headers=alice) as cut:
        assert cut.headers["content-length"] == str(len(large_content))
        received = b"".join([piece async for piece in cut.aiter_raw()])
    assert len(received) < len(large_content)
    assert vault.stream.cancelled


@pytest.mark.parametrize(
    ("code", "status"),
    [(grpc.StatusCode.UNAVAILABLE, 503), (grpc.StatusCode.DEADLINE_EXCEEDED, 503)],
)
async def test_an_unreachable_vault_is_503_with_retry_after(
    client: httpx.AsyncClient, cases: FakeCases, vault: FakeVault, code: Any, status: int
) -> None:
    alice_id, alice = await creditor(client, "alice@example.fr")
    cases.creditors["case-a"] = alice_id
    vault.errors["ListDocuments"] = rpc_error(code, "connection refused")

    answer = await client.get("/v1/cases/case-a/documents", headers=alice)

    assert answer.status_code == status
    assert answer.headers["content-type"] == PROBLEM
    assert answer.headers["Retry-After"] == "1"


async def test_a_partner_attaches_evidence_for_the_creditor_it_referred_only(
    client: httpx.AsyncClient, cases: FakeCases, vault: FakeVault
) -> None:
    partner = await sign_up(client, "api@facturo.fr", kind="partner")
    alice_id, _ = await creditor(client, "alice@example.fr")
    referred = await client.post(
        "/v1/partner/creditors",
        json={"organisation_name": "Boulangerie Martin", "siren": "552 100 554"},
        headers=partner | key("c1"),
    )
    referred_id = referred.json()["id"]
    cases.creditors |= {"case-r": referred_id, "case-a": alice_id}

    stored = await upload(
        client, "/v1/cases/case-r/documents", partner | {"X-On-Behalf-Of": referred_id}
    )
    assert stored.status_code == 201, stored.text
    # The vault keeps it for the creditor the partner was checked to act for.
    caller, _ = vault.called("PutDocument")[-1]
    assert caller is not None
    assert (caller.kind, caller.tenant_id) == ("creditor", referred_id)
    foreign = await client.get(
        "/v1/cases/case-a/documents", headers=partner | {"X-On-Behalf-Of": alice_id}
    )
    assert foreign.status_code == 404


async def test_openapi_lists_the_document_routes(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    creditor_one = paths["/v1/cases/{case_id}/documents/{document_id}"]
    assert set(paths["/v1/cases/{case_id}/documents"]) == {"get", "post"}
    assert set(creditor_one) == {"get", "delete"}
    assert set(paths["/v1/provider/assignments/{case_id}/documents"]) == {"get", "post"}
    assert set(paths["/v1/provider/assignments/{case_id}/documents/{document_id}"]) == {"get"}
    form = paths["/v1/cases/{case_id}/documents"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in form
    download = creditor_one["get"]["responses"]
    assert "application/pdf" in download["200"]["content"]
    assert {"404", "410", "502", "503"} <= set(download)
    assert "413" in paths["/v1/cases/{case_id}/documents"]["post"]["responses"]
