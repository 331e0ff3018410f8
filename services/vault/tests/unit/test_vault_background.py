"""The background loops: the first run one period after start, then every period, until stopped."""

from __future__ import annotations

import asyncio

from services.vault.tests.unit.fakes import CREDITOR, PDF, FakeAnchor, FakeVault, minutes, stream
from vault.domain.commands import StoreDocument
from vault.domain.model import DocumentKind, object_name
from vault.domain.orphans import quarantine_name
from vault.entrypoints.background import PeriodicJob, audit_checkpoint_job, orphan_sweep_job
from vault.service_layer.audit import record, service_entry
from vault.service_layer.uploads import store_document


async def test_a_job_first_runs_one_period_after_start_and_stops_when_asked() -> None:
    runs: list[float] = []
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def job() -> None:
        runs.append(loop.time() - started)

    periodic = PeriodicJob("test job", job, every_seconds=0.05)
    running = asyncio.create_task(periodic.run())
    await asyncio.sleep(0.18)
    await periodic.stop()
    await asyncio.wait_for(running, 1)
    stopped_after = len(runs)
    await asyncio.sleep(0.1)
    assert runs[0] >= 0.05
    assert len(runs) == stopped_after


async def test_a_failing_run_is_retried_and_the_loop_lives_on() -> None:
    attempts: list[int] = []

    async def flaky() -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("database away")

    periodic = PeriodicJob("flaky job", flaky, every_seconds=0.02)
    running = asyncio.create_task(periodic.run())
    for _ in range(100):
        if len(attempts) >= 3:
            break
        await asyncio.sleep(0.02)
    await periodic.stop()
    await asyncio.wait_for(running, 1)
    assert len(attempts) >= 3


async def test_the_sweeper_quarantines_an_orphan_once_past_the_grace() -> None:
    vault = FakeVault()
    vault.deps.clock = lambda: minutes(5)
    kept = await store_document(
        StoreDocument(CREDITOR, "", "case-1", DocumentKind.INVOICE, "f.pdf", False, ""),
        stream(PDF),
        vault.deps,
    )
    stray = object_name("creditor-1", "case-1", "4d7f2a32-5d5d-4a8e-9f44-1d1f3f7f0a11", 1)
    vault.store.place(stray, b"sealed", minutes(0))
    sweeper = orphan_sweep_job(vault.deps, grace_seconds=0, every_seconds=0.01)
    running = asyncio.create_task(sweeper.run())
    for _ in range(100):
        if stray not in vault.store.objects:
            break
        await asyncio.sleep(0.01)
    await sweeper.stop()
    await asyncio.wait_for(running, 1)
    assert set(vault.store.objects) == {kept.object_name, quarantine_name(stray)}
    assert ("orphan-swept", "quarantined") in vault.audit()


async def test_the_checkpoint_job_signs_the_head_and_anchors_it() -> None:
    vault = FakeVault()
    anchor = FakeAnchor()
    await record(vault.units, service_entry("test", "done", "one entry"))
    signer = audit_checkpoint_job(vault.units, anchor, every_seconds=0.01)
    running = asyncio.create_task(signer.run())
    for _ in range(100):
        if anchor.kept:
            break
        await asyncio.sleep(0.01)
    await signer.stop()
    await asyncio.wait_for(running, 1)
    assert list(vault.tables.checkpoints) == [1]
    assert [checkpoint.seq for checkpoint in anchor.kept] == [1]
