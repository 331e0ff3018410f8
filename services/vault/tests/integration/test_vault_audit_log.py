"""The audit chain as stored: the verifier (function and command) catches tampering in the table."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from sqlalchemy import delete, select, update

from vault.adapters.keys import load_key_file
from vault.adapters.orm import audit_checkpoints, audit_log
from vault.service_layer.audit import verify_audit

pytestmark = pytest.mark.integration


async def _entries(vault, n: int) -> None:
    for i in range(n):
        await vault.put([vault.pdf + bytes([i])])


async def _report(vault):  # type: ignore[no-untyped-def]
    key = load_key_file(vault.key_file).audit_signing_key.public_key()
    return await verify_audit(vault.deps.units, key)


async def test_an_intact_log_verifies_with_signed_checkpoints(vault) -> None:
    await _entries(vault, 12)
    report = await _report(vault)
    assert report.ok
    assert report.entries == 12
    assert report.checkpoints == 1


async def test_an_edited_entry_is_reported(vault) -> None:
    await _entries(vault, 6)
    async with vault.database.unit_of_work() as uow:
        await uow.session.execute(
            update(audit_log).where(audit_log.c.seq == 4).values(actor_subject="nobody")
        )
        await uow.commit()
    report = await _report(vault)
    assert report.first_bad_seq == 4
    assert "edited" in report.problem


async def test_a_deleted_entry_is_reported(vault) -> None:
    await _entries(vault, 6)
    async with vault.database.unit_of_work() as uow:
        await uow.session.execute(delete(audit_log).where(audit_log.c.seq == 3))
        await uow.commit()
    report = await _report(vault)
    assert report.first_bad_seq == 3
    assert "removed" in report.problem


async def test_swapped_entries_are_reported(vault) -> None:
    await _entries(vault, 6)
    async with vault.database.unit_of_work() as uow:
        # Renumber entries 2 and 3 the other way round.
        await uow.session.execute(update(audit_log).where(audit_log.c.seq == 2).values(seq=-2))
        await uow.session.execute(update(audit_log).where(audit_log.c.seq == 3).values(seq=2))
        await uow.session.execute(update(audit_log).where(audit_log.c.seq == -2).values(seq=3))
        await uow.commit()
    report = await _report(vault)
    assert report.first_bad_seq == 2
    assert "out of order" in report.problem


async def test_the_verify_command_names_the_first_bad_entry(vault, stack) -> None:
    await _entries(vault, 11)  # one checkpoint at entry 10
    async with vault.database.unit_of_work() as uow:
        assert len((await uow.session.execute(select(audit_checkpoints))).all()) == 1
        await uow.session.execute(
            update(audit_log).where(audit_log.c.seq == 7).values(detail="forged")
        )
        await uow.commit()
    env = {
        **os.environ,
        "RECOUVRA_VAULT_DATABASE_URL": vault.database.engine.url.render_as_string(
            hide_password=False
        ),
        # The verifier needs the pinned public key only: no key file at all.
        "RECOUVRA_VAULT_KEY_FILE": "/nonexistent/keys.json",
        "RECOUVRA_VAULT_AUDIT_PUBLIC_KEY": vault.pinned_public_key(),
        "RECOUVRA_VAULT_AUDIT_ANCHOR_BUCKET": f"{vault.store.bucket}-never-anchored",
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
    assert "audit chain broken at entry 7: entry 7 was edited" in result.stdout
