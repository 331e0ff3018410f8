"""Quarantining ciphertext no document row points to, against real PostgreSQL and S3."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import grpc
import pytest
from sqlalchemy import select

from recouvra.vault.v1 import vault_pb2
from recouvra_shared.unit_of_work import utcnow
from vault.adapters.keys import load_key_file
from vault.adapters.orm import audit_log
from vault.adapters.repository import SqlDocuments
from vault.adapters.store import S3ObjectStore
from vault.domain.model import object_name
from vault.domain.orphans import QUARANTINE_PREFIX, quarantine_name
from vault.entrypoints.background import orphan_sweep_job
from vault.service_layer.audit import verify_audit
from vault.service_layer.orphans import sweep_orphans

pytestmark = pytest.mark.integration


async def _bytes(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def orphan(vault, case_id: str = "case-1") -> str:  # type: ignore[no-untyped-def]
    """Ciphertext stored the way an upload stores it, whose row was never committed."""
    name = object_name("creditor-1", case_id, str(uuid.uuid4()), 1)
    await vault.store.put_stream(name, _bytes(b"sealed bytes nobody can open"))
    return name


def live(vault) -> set[str]:  # type: ignore[no-untyped-def]
    return {name for name in vault.object_names() if not name.startswith(QUARANTINE_PREFIX)}


def in_quarantine(vault) -> set[str]:  # type: ignore[no-untyped-def]
    return {
        name.removeprefix(QUARANTINE_PREFIX)
        for name in vault.object_names()
        if name.startswith(QUARANTINE_PREFIX)
    }


def last_modified(vault, name: str) -> datetime:  # type: ignore[no-untyped-def]
    stat = vault.store.client.stat_object(vault.store.bucket, name)
    assert stat.last_modified is not None
    return stat.last_modified


async def audit_rows(vault) -> list[tuple[str, str, str, str]]:  # type: ignore[no-untyped-def]
    async with vault.database.unit_of_work() as uow:
        rows = await uow.session.execute(
            select(
                audit_log.c.action,
                audit_log.c.outcome,
                audit_log.c.document_id,
                audit_log.c.actor_subject,
            ).order_by(audit_log.c.seq)
        )
        return [tuple(row) for row in rows]


async def chain_ok(vault) -> bool:  # type: ignore[no-untyped-def]
    key = load_key_file(vault.key_file).audit_signing_key.public_key()
    return (await verify_audit(vault.deps.units, key)).ok


async def test_a_sweep_quarantines_old_orphans_and_shred_leftovers_only_and_audits_each(
    vault,
) -> None:
    kept = await vault.put([vault.pdf])
    shredded = await vault.put([vault.pdf])
    leftover = await vault.put([vault.pdf])
    for document in (shredded, leftover):
        await vault.stub.ShredDocument(
            vault_pb2.ShredDocumentRequest(document_id=document.document_id, reason="GDPR"),
            metadata=vault.caller("creditor", "creditor-1"),
        )
    # The shred's delete "failed" for one of them: its ciphertext is still in the bucket.
    leftover_name = object_name("creditor-1", "case-1", leftover.document_id, 1)
    await vault.store.put_stream(leftover_name, _bytes(b"unreadable without its key"))
    foreign = "notes/operator-readme.txt"
    await vault.store.put_stream(foreign, _bytes(b"not the vault's"))
    old_orphan = await orphan(vault)
    cutoff = last_modified(vault, old_orphan) + timedelta(seconds=1)
    await asyncio.sleep(1.2)
    recent_orphan = await orphan(vault, case_id="case-2")
    assert last_modified(vault, recent_orphan) >= cutoff
    before = set(vault.object_names())
    kept_name = object_name("creditor-1", "case-1", kept.document_id, 1)
    assert before == {kept_name, leftover_name, foreign, old_orphan, recent_orphan}
    entries_before = await audit_rows(vault)

    # Pages of two: the five objects span three listings.
    dry = await sweep_orphans(vault.deps, older_than=cutoff, dry_run=True, page_size=2)
    assert (dry.scanned, dry.orphans, dry.shredded_leftovers) == (5, 1, 1)
    assert (dry.referenced, dry.recent, dry.foreign, dry.quarantined) == (1, 1, 1, 0)
    assert set(vault.object_names()) == before
    assert await audit_rows(vault) == entries_before

    swept_at = utcnow()
    report = await sweep_orphans(vault.deps, older_than=cutoff, page_size=2)
    assert (report.quarantined, report.failed) == (2, 0)
    assert live(vault) == {kept_name, foreign, recent_orphan}
    assert in_quarantine(vault) == {old_orphan, leftover_name}
    # The copy is dated when it was moved: the retention counts from the quarantine.
    moved = last_modified(vault, quarantine_name(old_orphan))
    assert moved >= swept_at.replace(microsecond=0) - timedelta(seconds=1)
    new_entries = (await audit_rows(vault))[len(entries_before) :]
    assert sorted(new_entries) == sorted(
        [
            ("orphan-swept", "quarantined", old_orphan.split("/")[2], "vault"),
            ("shred-leftover-swept", "quarantined", leftover.document_id, "vault"),
        ]
    )
    assert await chain_ok(vault)
    _, body = await vault.get(kept.document_id)
    assert body == vault.pdf

    again = await sweep_orphans(vault.deps, older_than=cutoff, page_size=2)
    assert (again.scanned, again.quarantined, again.in_quarantine) == (3, 0, 2)

    purged = await sweep_orphans(
        vault.deps, older_than=cutoff, purge_before=utcnow() + timedelta(minutes=1)
    )
    assert purged.purged == 2
    assert set(vault.object_names()) == {kept_name, foreign, recent_orphan}
    assert await chain_ok(vault)


async def test_point_3_a_sweep_against_an_empty_database_deletes_nothing(vault) -> None:
    strays = {await orphan(vault, case_id=f"case-{n}") for n in range(3)}
    report = await sweep_orphans(
        vault.deps,
        older_than=utcnow() + timedelta(hours=1),
        purge_before=utcnow() + timedelta(days=365),
    )
    assert (report.orphans, report.quarantined, report.purged) == (3, 0, 0)
    assert "no document rows" in (report.refused or "")
    assert set(vault.object_names()) == strays
    assert [row[:2] for row in await audit_rows(vault)] == [("orphan-sweep", "refused")]


async def test_an_upload_whose_commit_and_cleanup_both_failed_leaves_an_orphan_the_sweep_takes(
    vault, monkeypatch
) -> None:
    kept = await vault.put([vault.pdf])

    async def commit_fails(self, document) -> None:  # type: ignore[no-untyped-def]
        raise ConnectionError("database went away before the commit")

    async def cleanup_fails(name: str) -> None:
        raise ConnectionError("S3 went away before the cleanup")

    monkeypatch.setattr(SqlDocuments, "add", commit_fails)
    monkeypatch.setattr(vault.store, "delete", cleanup_fails)
    with pytest.raises(grpc.aio.AioRpcError):
        await vault.put([vault.pdf], case_id="case-lost")
    monkeypatch.undo()
    kept_name = object_name("creditor-1", "case-1", kept.document_id, 1)
    (stray,) = set(vault.object_names()) - {kept_name}
    assert stray.startswith("creditor-1/case-lost/")

    report = await sweep_orphans(vault.deps, older_than=utcnow() + timedelta(seconds=5))
    assert (report.orphans, report.quarantined) == (1, 1)
    assert live(vault) == {kept_name}
    assert await chain_ok(vault)


async def test_the_sweep_command_dry_runs_then_quarantines_and_the_chain_verifies(
    vault, stack
) -> None:
    kept = await vault.put([vault.pdf])
    stray = await orphan(vault)
    env = {
        **os.environ,
        "RECOUVRA_VAULT_DATABASE_URL": vault.database.engine.url.render_as_string(
            hide_password=False
        ),
        "RECOUVRA_VAULT_KEY_FILE": str(vault.key_file),
        "RECOUVRA_VAULT_S3_ENDPOINT": stack.s3_endpoint,
        "RECOUVRA_VAULT_S3_ACCESS_KEY": stack.s3_access_key,
        "RECOUVRA_VAULT_S3_SECRET_KEY": stack.s3_secret_key,
        "RECOUVRA_VAULT_BUCKET": vault.store.bucket,
        "RECOUVRA_VAULT_ORPHAN_GRACE_SECONDS": "0",
        "RECOUVRA_VAULT_AUDIT_PUBLIC_KEY": vault.pinned_public_key(),
        "RECOUVRA_VAULT_AUDIT_ANCHOR_BUCKET": f"{vault.store.bucket}-never-anchored",
    }

    async def command(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "vault", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    dry = await command("sweep-orphans", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "1 referenced, 1 orphans" in dry.stdout
    assert "would quarantine 1 (dry run)" in dry.stdout
    assert stray in vault.object_names()

    swept = await command("sweep-orphans")
    assert swept.returncode == 0, swept.stderr
    assert "quarantined 1, failed 0" in swept.stdout
    assert live(vault) == {object_name("creditor-1", "case-1", kept.document_id, 1)}
    assert in_quarantine(vault) == {stray}

    verified = await command("verify-audit")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "audit chain intact" in verified.stdout


async def test_a_sweep_waits_its_turn_while_another_one_runs(vault) -> None:
    stray = await orphan(vault)
    async with vault.deps.units() as other:
        assert await other.try_sweep_lock()
        report = await sweep_orphans(vault.deps, older_than=utcnow() + timedelta(hours=1))
    assert report.busy
    assert report.scanned == 0
    assert stray in vault.object_names()


async def test_the_background_sweeper_quarantines_an_orphan_once_past_the_grace(vault) -> None:
    kept = await vault.put([vault.pdf])
    stray = await orphan(vault)
    sweeper = orphan_sweep_job(vault.deps, grace_seconds=0, every_seconds=0.2)
    running = asyncio.create_task(sweeper.run())
    try:
        for _ in range(75):  # up to 15 s
            if stray not in live(vault):
                break
            await asyncio.sleep(0.2)
    finally:
        await sweeper.stop()
        await asyncio.wait_for(running, 15)
    assert live(vault) == {object_name("creditor-1", "case-1", kept.document_id, 1)}
    assert ("orphan-swept", "quarantined", stray.split("/")[2], "vault") in await audit_rows(vault)


async def test_a_bucket_never_written_to_lists_nothing(stack) -> None:
    store = S3ObjectStore.connect(
        stack.s3_endpoint,
        stack.s3_access_key,
        stack.s3_secret_key,
        f"vault-never-{uuid.uuid4().hex[:12]}",
        region="us-east-1",
    )
    assert [page async for page in store.list_pages(10)] == []


async def test_a_listing_appends_one_audit_entry_naming_the_case_and_the_caller(vault) -> None:
    await vault.put([vault.pdf])
    before = await audit_rows(vault)
    await vault.stub.ListDocuments(
        vault_pb2.ListDocumentsRequest(case_id="case-1"),
        metadata=vault.caller("creditor", "creditor-1", subject="alice"),
    )
    await vault.stub.ListDocuments(
        vault_pb2.ListDocumentsRequest(case_id="case-1"),
        metadata=vault.caller("creditor", "creditor-2", subject="mallory"),
    )
    async with vault.database.unit_of_work() as uow:
        rows = (
            await uow.session.execute(
                select(audit_log).where(audit_log.c.seq > len(before)).order_by(audit_log.c.seq)
            )
        ).mappings()
        listed = [
            (
                r["action"],
                r["actor_kind"],
                r["actor_subject"],
                r["tenant_id"],
                r["case_id"],
                r["detail"],
            )
            for r in rows
        ]
    assert listed == [
        (
            "list",
            "creditor",
            "alice",
            "creditor-1",
            "case-1",
            "documents shown: 1; caller tenant creditor-1",
        ),
        (
            "list",
            "creditor",
            "mallory",
            "",
            "case-1",
            "documents shown: 0; caller tenant creditor-2",
        ),
    ]
    assert await chain_ok(vault)
