"""Checkpoints anchored in a write-once bucket (Object Lock on the local SeaweedFS) catch a
rolled-back audit log; the verify command needs only the pinned public key."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from minio.error import S3Error
from sqlalchemy import delete

from tests.support.stack import unique_name
from vault.adapters.anchor import S3AuditAnchor
from vault.adapters.keys import load_key_file
from vault.adapters.orm import audit_checkpoints, audit_log
from vault.service_layer.audit import checkpoint_and_anchor, verify_audit

pytestmark = pytest.mark.integration

RETENTION = timedelta(seconds=4)


@pytest.fixture
async def anchor(vault) -> AsyncIterator[S3AuditAnchor]:  # type: ignore[no-untyped-def]
    """An anchor bucket of its own, locked for a few seconds only, removed after."""
    bucket = unique_name("vault-audit").replace("_", "-")
    made = S3AuditAnchor(vault.store.client, bucket, RETENTION)
    started = time.monotonic()
    yield made
    client = made.client
    if not client.bucket_exists(bucket):
        return
    await asyncio.sleep(max(0.0, RETENTION.total_seconds() + 1 - (time.monotonic() - started)))
    for version in client.list_objects(bucket, recursive=True, include_version=True):
        client.remove_object(bucket, str(version.object_name), version_id=version.version_id)
    client.remove_bucket(bucket)


async def _entries(vault, n: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        await vault.put([vault.pdf + bytes([i])])


async def test_point_6_seaweedfs_locks_anchored_checkpoints_against_deletion(vault, anchor) -> None:
    await _entries(vault, 3)
    await checkpoint_and_anchor(vault.deps.units, anchor)
    assert anchor.locked is True  # SeaweedFS 4.48 accepts Object Lock on a new bucket
    client = anchor.client
    (stored,) = list(client.list_objects(anchor.bucket, recursive=True, include_version=True))
    retention = client.get_object_retention(anchor.bucket, str(stored.object_name))
    assert retention is not None
    assert retention.mode == "COMPLIANCE"
    with pytest.raises(S3Error) as refused:
        client.remove_object(anchor.bucket, str(stored.object_name), version_id=stored.version_id)
    assert refused.value.code == "AccessDenied"
    # A plain delete only hides it behind a delete marker: the verifier still reads it.
    client.remove_object(anchor.bucket, str(stored.object_name))
    assert [c.seq for c in await anchor.anchored()] == [3]


async def test_point_6_a_rolled_back_tail_fails_the_verify_command_without_a_private_key(
    vault, anchor, stack
) -> None:
    await _entries(vault, 6)
    await checkpoint_and_anchor(vault.deps.units, anchor)
    await _entries(vault, 4)  # a checkpoint at entry 10, signed in the database
    await checkpoint_and_anchor(vault.deps.units, anchor)
    assert [c.seq for c in await anchor.anchored()] == [6, 10]
    public_key = load_key_file(vault.key_file).audit_signing_key.public_key()
    assert (await verify_audit(vault.deps.units, public_key, anchor)).ok

    # Roll the log back to entry 7: the last entries and their checkpoint go together.
    async with vault.database.unit_of_work() as uow:
        await uow.session.execute(delete(audit_log).where(audit_log.c.seq > 7))
        await uow.session.execute(delete(audit_checkpoints).where(audit_checkpoints.c.seq > 7))
        await uow.commit()
    assert (await verify_audit(vault.deps.units, public_key)).ok  # what passed before

    env = {
        **os.environ,
        "RECOUVRA_VAULT_DATABASE_URL": vault.database.engine.url.render_as_string(
            hide_password=False
        ),
        "RECOUVRA_VAULT_KEY_FILE": "/nonexistent/keys.json",
        "RECOUVRA_VAULT_AUDIT_PUBLIC_KEY": vault.pinned_public_key(),
        "RECOUVRA_VAULT_AUDIT_ANCHOR_BUCKET": anchor.bucket,
        "RECOUVRA_VAULT_S3_ENDPOINT": stack.s3_endpoint,
        "RECOUVRA_VAULT_S3_ACCESS_KEY": stack.s3_access_key,
        "RECOUVRA_VAULT_S3_SECRET_KEY": stack.s3_secret_key,
    }
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "vault", "verify-audit"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert (
        "audit chain broken at entry 8: entries 8 to 10 were removed: the chain ends at entry 7 "
        "but a checkpoint at entry 10 was anchored"
    ) in result.stdout
