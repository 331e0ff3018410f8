"""Storing a document on fakes: only ciphertext is kept, a refusal leaves nothing and is audited."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from recouvra_shared.errors import Conflict
from services.vault.tests.unit.fakes import (
    CREDITOR,
    OPEN_WINDOW,
    PDF,
    FakeDocuments,
    FakeVault,
    fact_source,
    read_all,
    stream,
)
from vault.domain.commands import GrantAccess, ReadDocument, StoreDocument
from vault.domain.errors import DocumentNotFound, InvalidField
from vault.domain.model import Actor, DocumentKind
from vault.service_layer.grants import grant_access
from vault.service_layer.reads import open_document
from vault.service_layer.uploads import store_document

UPLOAD = StoreDocument(
    actor=CREDITOR,
    tenant_id="",
    case_id="case-1",
    kind=DocumentKind.INVOICE,
    filename="invoice.pdf",
    shareable=False,
    sha256_hex="",
)


async def test_a_document_is_stored_encrypted_and_reads_back() -> None:
    vault = FakeVault()
    stored = await store_document(UPLOAD, stream(PDF[:100], PDF[100:]), vault.deps)

    assert (stored.tenant_id, stored.content_type) == ("creditor-1", "application/pdf")
    assert (stored.size_bytes, stored.sha256) == (len(PDF), hashlib.sha256(PDF).digest())
    assert stored.object_name == f"creditor-1/case-1/{stored.document_id}/v1"
    ciphertext = vault.store.read(stored.object_name)
    assert b"ACME SARL" not in ciphertext
    assert b"%PDF" not in ciphertext
    assert vault.tables.documents[stored.document_id] == stored

    document, content = await open_document(ReadDocument(CREDITOR, stored.document_id), vault.deps)
    assert document == stored
    assert await read_all(content) == PDF
    assert vault.audit() == [("put", "stored"), ("get", "granted")]
    assert vault.tables.entries[0].record.detail == (
        f"application/pdf {len(PDF)} bytes sha256={hashlib.sha256(PDF).hexdigest()}"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": None}, "metadata.kind: must be one of invoice, "),
        ({"filename": "f" * 256}, "metadata.filename: at most 255 characters"),
        ({"case_id": "../other"}, "metadata.case_id: "),
        ({"sha256_hex": "ABC"}, "metadata.sha256_hex: must be 64 lowercase"),
    ],
)
async def test_a_bad_description_is_refused_before_any_byte_is_read(
    change: dict[str, object], message: str
) -> None:
    vault = FakeVault()
    with pytest.raises(InvalidField) as refused:
        await store_document(replace(UPLOAD, **change), stream(PDF), vault.deps)  # type: ignore[arg-type]
    assert str(refused.value).startswith(message)
    assert vault.store.objects == {}
    assert vault.audit() == [("put", "refused")]
    assert vault.last_entry().case_id == ""
    assert vault.last_entry().detail == str(refused.value)


async def test_content_that_is_not_an_accepted_type_is_refused_and_nothing_is_stored() -> None:
    vault = FakeVault()
    with pytest.raises(InvalidField, match=r"^content: only PDF, PNG, JPEG and XML"):
        await store_document(UPLOAD, stream(b"MZ\x90\x00" + b"\x00" * 600), vault.deps)
    assert vault.store.objects == {}
    assert vault.tables.documents == {}
    assert vault.audit() == [("put", "refused")]
    assert vault.last_entry().case_id == "case-1"


async def test_content_hashing_differently_from_its_description_is_removed() -> None:
    vault = FakeVault()
    with pytest.raises(InvalidField, match=r"^metadata.sha256_hex: the received content"):
        await store_document(replace(UPLOAD, sha256_hex="0" * 64), stream(PDF), vault.deps)
    assert vault.store.objects == {}
    assert vault.tables.documents == {}
    assert vault.audit() == [("put", "refused")]


async def test_content_over_the_limit_is_refused_while_it_streams() -> None:
    vault = FakeVault()
    vault.deps.max_document_bytes = 1000
    received: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        for i in range(100):
            received.append(i)
            yield PDF[:300]

    with pytest.raises(InvalidField, match=r"^content: larger than the limit of 1000 bytes"):
        await store_document(UPLOAD, endless(), vault.deps)
    assert len(received) < 10
    assert vault.store.objects == {}
    assert vault.audit() == [("put", "refused")]


async def test_a_record_that_fails_to_commit_takes_its_ciphertext_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vault = FakeVault()

    async def database_gone(self: FakeDocuments, document: object) -> None:
        raise ConnectionError("database went away")

    monkeypatch.setattr(FakeDocuments, "add", database_gone)
    with pytest.raises(ConnectionError):
        await store_document(UPLOAD, stream(PDF), vault.deps)
    assert vault.store.objects == {}
    assert vault.audit() == []


async def test_a_provider_adds_evidence_only_to_a_case_it_works_for_its_creditor() -> None:
    vault = FakeVault()
    provider = Actor("provider", "bob", "provider-9")
    upload = replace(UPLOAD, actor=provider, tenant_id="someone-else")
    with pytest.raises(DocumentNotFound, match="case_id: no such case"):
        await store_document(upload, stream(PDF), vault.deps)

    async with vault.units() as uow:
        await grant_access(
            GrantAccess("case-1", "provider-9", 1, OPEN_WINDOW, fact_source("case-assigned", 1)),
            uow,
        )
        await uow.commit()
    stored = await store_document(upload, stream(PDF), vault.deps)
    assert stored.tenant_id == "creditor-1"
    assert vault.audit() == [("put", "refused"), ("grant", "granted"), ("put", "stored")]


async def test_a_service_names_the_tenant_and_an_unknown_caller_may_not_upload() -> None:
    vault = FakeVault()
    service = Actor("service", "intake", "")
    stored = await store_document(
        replace(UPLOAD, actor=service, tenant_id="creditor-7"), stream(PDF), vault.deps
    )
    assert stored.tenant_id == "creditor-7"
    with pytest.raises(DocumentNotFound):
        await store_document(
            replace(UPLOAD, actor=Actor("operator", "someone", "creditor-1")),
            stream(PDF),
            vault.deps,
        )


async def test_a_debtor_adds_proof_to_its_own_case_only_under_its_creditor() -> None:
    vault = FakeVault()
    debtor = Actor("debtor", "case-1", "creditor-1")
    proof = replace(UPLOAD, actor=debtor, tenant_id="creditor-9", shareable=True)
    stored = await store_document(proof, stream(PDF), vault.deps)
    assert (stored.tenant_id, stored.case_id) == ("creditor-1", "case-1")
    document, content = await open_document(ReadDocument(debtor, stored.document_id), vault.deps)
    assert await read_all(content) == PDF
    document, _ = await open_document(ReadDocument(CREDITOR, stored.document_id), vault.deps)
    assert document.document_id == stored.document_id
    with pytest.raises(DocumentNotFound):
        await store_document(replace(proof, case_id="case-2"), stream(PDF), vault.deps)
    assert len(vault.tables.documents) == 1


async def test_point_9_a_retry_with_the_same_key_and_content_answers_the_first_document() -> None:
    vault = FakeVault()
    upload = replace(UPLOAD, idempotency_key="gateway-req-7f3a")
    first = await store_document(upload, stream(PDF), vault.deps)
    again = await store_document(upload, stream(PDF[:100], PDF[100:]), vault.deps)
    assert again == first
    assert len(vault.tables.documents) == 1
    assert len(vault.store.objects) == 1
    assert vault.audit() == [("put", "stored"), ("put", "repeated")]


async def test_point_9_the_same_key_with_other_content_is_a_conflict_and_stores_nothing() -> None:
    vault = FakeVault()
    upload = replace(UPLOAD, idempotency_key="gateway-req-7f3a")
    await store_document(upload, stream(PDF), vault.deps)
    with pytest.raises(Conflict, match="idempotency_key: already used for another upload"):
        await store_document(upload, stream(PDF + b"tampered"), vault.deps)
    with pytest.raises(Conflict):
        await store_document(replace(upload, case_id="case-2"), stream(PDF), vault.deps)
    assert len(vault.tables.documents) == 1
    assert len(vault.store.objects) == 1
    assert vault.audit()[-2:] == [("put", "refused"), ("put", "refused")]


async def test_point_9_keys_belong_to_their_caller_and_no_key_stores_every_time() -> None:
    vault = FakeVault()
    key = "shared-looking-key"
    mine = await store_document(replace(UPLOAD, idempotency_key=key), stream(PDF), vault.deps)
    colleague = replace(UPLOAD, actor=replace(CREDITOR, subject="carol"), idempotency_key=key)
    theirs = await store_document(colleague, stream(PDF), vault.deps)
    assert theirs.document_id != mine.document_id
    await store_document(UPLOAD, stream(PDF), vault.deps)
    await store_document(UPLOAD, stream(PDF), vault.deps)
    assert len(vault.tables.documents) == 4
    with pytest.raises(InvalidField, match=r"metadata\.idempotency_key"):
        await store_document(replace(UPLOAD, idempotency_key="a b"), stream(PDF), vault.deps)


async def test_point_9_a_concurrent_attempt_that_commits_first_wins_and_the_loser_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vault = FakeVault()
    upload = replace(UPLOAD, idempotency_key="gateway-req-race")
    original_add = FakeDocuments.add
    winner: list[object] = []

    async def add_after_the_other_attempt(self: FakeDocuments, document: object) -> bool:
        if not winner:
            # The other attempt (the gateway's retry) commits while this one was uploading.
            monkeypatch.setattr(FakeDocuments, "add", original_add)
            winner.append(await store_document(upload, stream(PDF), vault.deps))
            self.tables.documents.update(vault.tables.documents)
        return await original_add(self, document)  # type: ignore[arg-type]

    monkeypatch.setattr(FakeDocuments, "add", add_after_the_other_attempt)
    first = await store_document(upload, stream(PDF), vault.deps)
    assert [first] == winner
    assert len(vault.tables.documents) == 1
    assert set(vault.store.objects) == {first.object_name}


async def test_point_14_xml_with_an_svg_root_after_a_declaration_is_refused_and_not_kept() -> None:
    vault = FakeVault()
    svg = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
    )
    with pytest.raises(InvalidField, match=r"^content: XML whose root is <svg>"):
        await store_document(UPLOAD, stream(svg[:20], svg[20:]), vault.deps)
    script_deep_inside = (
        b'<?xml version="1.0"?><Invoice>' + b"<Line>ok</Line>" * 200 + b"<script>x</script>"
    )
    with pytest.raises(InvalidField, match=r"^content: XML with <script>"):
        await store_document(UPLOAD, stream(script_deep_inside), vault.deps)
    assert vault.store.objects == {}
    assert vault.tables.documents == {}
    assert vault.audit() == [("put", "refused"), ("put", "refused")]
    invoice = b'<?xml version="1.0"?><Invoice>' + b"<Line>ok</Line>" * 200 + b"</Invoice>"
    stored = await store_document(UPLOAD, stream(invoice), vault.deps)
    assert stored.content_type == "application/xml"
