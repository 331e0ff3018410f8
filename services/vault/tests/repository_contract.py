"""What every implementation of the vault's unit of work must do: the fake and PostgreSQL alike.

Subclassed once per backend (tests/unit for the fakes, tests/integration for SQLAlchemy), so the
fakes the use-case tests run on are held to the real repositories' behaviour.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vault.domain.audit import AuditRecord, verify_chain
from vault.domain.crypto import WrappedKey
from vault.domain.model import CaseGrant, Document, DocumentKind, object_name
from vault.domain.orphans import RowRef
from vault.service_layer.unit_of_work import VaultUnitOfWork

Units = Callable[[], VaultUnitOfWork]
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CHECKPOINT_EVERY = 3


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


def holder(grants: list[CaseGrant], provider_id: str) -> str | None:
    """The tenant of `provider_id`'s live grant among `grants` (the window is the rule's)."""
    return next((g.tenant_id for g in grants if g.provider_id == provider_id), None)


def a_document(minute: int, *, case_id: str = "case-1", key_id: str = "kek-1") -> Document:
    document_id = str(uuid.uuid4())
    return Document(
        document_id=document_id,
        tenant_id="creditor-1",
        case_id=case_id,
        kind=DocumentKind.INVOICE,
        content_type="application/pdf",
        size_bytes=10,
        sha256=b"\x01" * 32,
        version=1,
        shareable=False,
        filename="f.pdf",
        object_name=object_name("creditor-1", case_id, document_id, 1),
        wrapped_key=WrappedKey(key_id, b"wrapped"),
        created_at=at(minute),
    )


def a_record(n: int) -> AuditRecord:
    return AuditRecord("get", "granted", "creditor", "alice", "creditor-1", "case-1", f"d-{n}", "")


class VaultUnitOfWorkContract:
    """The behaviour the use cases rely on; a subclass provides `units` and `signing_key`."""

    @pytest.fixture
    def signing_key(self) -> Ed25519PrivateKey:
        raise NotImplementedError

    @pytest.fixture
    def units(self, signing_key: Ed25519PrivateKey) -> Units:
        raise NotImplementedError

    async def test_only_a_commit_keeps_changes(self, units: Units) -> None:
        kept, dropped = a_document(1), a_document(2)
        async with units() as uow:
            await uow.documents.add(kept)
            await uow.commit()
        async with units() as uow:
            await uow.documents.add(dropped)
            await uow.audit.append(a_record(1))
        async with units() as uow:
            assert await uow.documents.get(kept.document_id) == kept
            assert await uow.documents.get(dropped.document_id) is None
            assert await uow.audit.chain() == ([], [])

    async def test_documents_by_case_by_id_and_as_the_sweeper_sees_them(self, units: Units) -> None:
        second, first, other = a_document(2), a_document(1), a_document(0, case_id="case-2")
        async with units() as uow:
            for document in (second, first, other):
                await uow.documents.add(document)
            await uow.documents.shred(second.document_id, at(5))
            await uow.commit()
        async with units() as uow:
            listed = await uow.documents.of_case("case-1")
            assert [d.document_id for d in listed] == [first.document_id, second.document_id]
            assert (listed[1].wrapped_key, listed[1].shredded_at) == (None, at(5))
            missing = str(uuid.uuid4())
            assert await uow.documents.objects_of(
                [first.document_id, second.document_id, missing]
            ) == {
                first.document_id: RowRef(first.object_name, shredded=False),
                second.document_id: RowRef(second.object_name, shredded=True),
            }
            assert await uow.documents.objects_of([]) == {}

    async def test_rewrapping_finds_live_keys_under_other_keys_oldest_first(
        self, units: Units
    ) -> None:
        documents = [a_document(m) for m in (3, 1, 2)] + [a_document(0, key_id="kek-2")]
        async with units() as uow:
            for document in documents:
                await uow.documents.add(document)
            await uow.documents.shred(documents[2].document_id, at(9))
            await uow.commit()
        async with units() as uow:
            found = await uow.documents.wrapped_under_other_keys("kek-2", limit=1)
            assert [d.document_id for d in found] == [documents[1].document_id]
            await uow.documents.rewrap(found[0].document_id, WrappedKey("kek-2", b"rewrapped"))
            await uow.commit()
        async with units() as uow:
            left = await uow.documents.wrapped_under_other_keys("kek-2", limit=10)
            assert [d.document_id for d in left] == [documents[0].document_id]
            rewrapped = await uow.documents.get(documents[1].document_id)
            assert rewrapped is not None
            assert rewrapped.wrapped_key == WrappedKey("kek-2", b"rewrapped")

    async def test_the_latest_fact_about_a_grant_stands(self, units: Units) -> None:
        async with units() as uow:
            grants = uow.grants
            assert await grants.set(
                case_id="case-1",
                provider_id="p-1",
                tenant_id="creditor-1",
                round_=2,
                active=True,
                as_of=at(3),
                window_ends_at=at(60),
            )
            stale = await grants.set(
                case_id="case-1",
                provider_id="p-1",
                tenant_id="creditor-1",
                round_=0,
                active=False,
                as_of=at(2),
            )
            assert not stale
            assert holder(await grants.live_grants("case-1"), "p-1") == "creditor-1"
            assert await grants.set(
                case_id="case-1",
                provider_id="p-1",
                tenant_id="",
                round_=0,
                active=False,
                as_of=at(4),
            )
            assert holder(await grants.live_grants("case-1"), "p-1") is None
            # A revocation keeps the grant's tenant: re-granting later names it again.
            assert await grants.set(
                case_id="case-1",
                provider_id="p-1",
                tenant_id="creditor-1",
                round_=3,
                active=True,
                as_of=at(5),
            )
            assert holder(await grants.live_grants("case-1"), "p-1") == "creditor-1"
            assert holder(await grants.live_grants("case-1"), "p-2") is None
            await uow.commit()

    async def test_a_closed_case_grants_nothing_any_more(self, units: Units) -> None:
        async with units() as uow:
            await uow.grants.set(
                case_id="case-1",
                provider_id="p-1",
                tenant_id="creditor-1",
                round_=1,
                active=True,
                as_of=at(1),
            )
            assert not await uow.grants.is_closed("case-1")
            await uow.grants.close_case("case-1", at(2))
            await uow.grants.close_case("case-1", at(3))
            assert await uow.grants.is_closed("case-1")
            assert holder(await uow.grants.live_grants("case-1"), "p-1") is None
            await uow.grants.set(
                case_id="case-1",
                provider_id="p-1",
                tenant_id="creditor-1",
                round_=2,
                active=True,
                as_of=at(4),
            )
            assert holder(await uow.grants.live_grants("case-1"), "p-1") is None
            await uow.commit()

    async def test_a_reversal_lifts_a_closure_only_if_it_came_after_it(self, units: Units) -> None:
        async with units() as uow:
            assert not await uow.grants.reopen_case("case-1", at(1))  # never closed
            await uow.grants.close_case("case-1", at(2))
            assert not await uow.grants.reopen_case("case-1", at(1))  # older than the closing
            assert await uow.grants.is_closed("case-1")
            assert await uow.grants.reopen_case("case-1", at(3))
            assert not await uow.grants.is_closed("case-1")
            await uow.grants.set(
                case_id="case-1",
                provider_id="p-1",
                tenant_id="creditor-1",
                round_=2,
                active=True,
                as_of=at(3),
            )
            assert holder(await uow.grants.live_grants("case-1"), "p-1") == "creditor-1"
            await uow.commit()

    async def test_the_audit_chain_links_and_signs_every_n_entries_and_its_head(
        self, units: Units, signing_key: Ed25519PrivateKey
    ) -> None:
        async with units() as uow:
            assert await uow.audit.sign_head() is None
            appended = [await uow.audit.append(a_record(n)) for n in range(1, 5)]
            await uow.commit()
        assert [e.seq for e in appended] == [1, 2, 3, 4]
        async with units() as uow:
            assert await uow.audit.sign_head() == 4
            await uow.commit()
        async with units() as uow:
            entries, checkpoints = await uow.audit.chain()
        assert entries == appended
        assert [c.seq for c in checkpoints] == [CHECKPOINT_EVERY, 4]
        assert verify_chain(entries, checkpoints, signing_key.public_key()).ok

    async def test_the_oldest_row_and_the_keys_in_use(self, units: Units) -> None:
        async with units() as uow:
            assert await uow.documents.oldest_created_at() is None
            assert await uow.documents.key_ids_in_use() == set()
            erased = a_document(1, key_id="kek-0")
            for document in (a_document(3), erased, a_document(2, key_id="kek-2")):
                await uow.documents.add(document)
            await uow.documents.shred(erased.document_id, at(4))
            await uow.commit()
        async with units() as uow:
            assert await uow.documents.oldest_created_at() == at(1)
            assert await uow.documents.key_ids_in_use() == {"kek-1", "kek-2"}

    async def test_an_idempotency_key_names_one_document_only(self, units: Units) -> None:
        first = replace(a_document(1), idempotency_key="creditor/creditor-1/alice/k-1")
        second = replace(a_document(2), idempotency_key=first.idempotency_key)
        async with units() as uow:
            assert await uow.documents.add(first)
            await uow.commit()
        async with units() as uow:
            assert not await uow.documents.add(second)
            assert await uow.documents.with_idempotency_key("creditor/creditor-1/alice/k-1") == (
                first
            )
            assert await uow.documents.with_idempotency_key("creditor/creditor-1/bob/k-1") is None
            assert await uow.documents.get(second.document_id) is None

    async def test_live_grants_of_a_case_with_their_windows(self, units: Units) -> None:
        async with units() as uow:
            for provider, active in (("p-1", True), ("p-2", False)):
                await uow.grants.set(
                    case_id="case-1",
                    provider_id=provider,
                    tenant_id="creditor-1",
                    round_=1,
                    active=active,
                    as_of=at(1),
                    window_ends_at=at(60),
                )
            await uow.commit()
        async with units() as uow:
            assert await uow.grants.live_grants("case-1") == [
                CaseGrant("p-1", "creditor-1", 1, at(1), at(60))
            ]
            assert await uow.grants.live_grants("case-2") == []

    async def test_checkpoints_after_a_seq_in_order(self, units: Units) -> None:
        async with units() as uow:
            for n in range(1, 2 * CHECKPOINT_EVERY + 2):
                await uow.audit.append(a_record(n))
            await uow.audit.sign_head()
            await uow.commit()
        async with units() as uow:
            after = await uow.audit.checkpoints_after(CHECKPOINT_EVERY)
        assert [c.seq for c in after] == [2 * CHECKPOINT_EVERY, 2 * CHECKPOINT_EVERY + 1]

    async def test_one_sweep_lock_holder_at_a_time(self, units: Units) -> None:
        async with units() as first:
            assert await first.try_sweep_lock()
            async with units() as second:
                assert not await second.try_sweep_lock()
        async with units() as third:
            assert await third.try_sweep_lock()
