"""Sweeping the bucket of ciphertext no document row points to; every deletion is audited."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from recouvra_shared.db import utcnow
from vault.adapters.repository import DocumentRepository, try_sweep_lock
from vault.domain.audit import AuditRecord
from vault.domain.model import ObjectAddress, parse_object_name
from vault.domain.orphans import StoredObject, SweepReport, Verdict, judge
from vault.service_layer.documents import VaultDeps

log = logging.getLogger(__name__)

_ACTION = {Verdict.ORPHAN: "orphan-swept", Verdict.SHREDDED_LEFTOVER: "shred-leftover-swept"}
_WHY = {Verdict.ORPHAN: "no document row", Verdict.SHREDDED_LEFTOVER: "document shredded"}


@dataclass(frozen=True)
class _Doomed:
    """An object the sweep removes, with why and whose it was."""

    stored: StoredObject
    verdict: Verdict
    address: ObjectAddress

    def describe(self) -> str:
        return (
            f"{self.stored.name}: {self.stored.size} bytes, last modified "
            f"{self.stored.last_modified:%Y-%m-%d %H:%M:%S%z}, {_WHY[self.verdict]}"
        )

    def audit(self, outcome: str) -> AuditRecord:
        return AuditRecord(
            action=_ACTION[self.verdict],
            outcome=outcome,
            actor_kind="service",
            actor_subject="vault",
            tenant_id=self.address.tenant_id,
            case_id=self.address.case_id,
            document_id=self.address.document_id,
            detail=self.describe()[:500],
        )


async def _append(deps: VaultDeps, records: Sequence[AuditRecord]) -> None:
    async with deps.database.unit_of_work() as uow:
        audit = deps.audit(uow)
        for entry in records:
            await audit.append(entry)
        await uow.commit()


async def _sweep_page(
    deps: VaultDeps, page: list[StoredObject], older_than: datetime, report: SweepReport
) -> None:
    named = [parse_object_name(stored.name) for stored in page]
    async with deps.database.unit_of_work() as uow:
        rows = await DocumentRepository(uow.session).objects_of(
            {address.document_id for address in named if address is not None}
        )
    doomed: list[_Doomed] = []
    for stored in page:
        verdict, address = judge(stored, rows, older_than)
        report.count(verdict)
        if verdict is Verdict.FOREIGN:
            log.warning("object %s is not named by the vault; left for an operator", stored.name)
        elif verdict.removable and address is not None:
            doomed.append(_Doomed(stored, verdict, address))
    if not doomed:
        return
    if report.dry_run:
        for one in doomed:
            log.info("dry run: would delete %s", one.describe())
        return
    # Write-ahead: the entries commit before the objects go, so no deletion is ever unaudited.
    # A crash in between leaves entries for objects still there; the next sweep deletes (and
    # audits) them again.
    await _append(deps, [one.audit("deleted") for one in doomed])
    try:
        refused = await deps.store.delete_many([one.stored.name for one in doomed])
    except Exception:
        await _append(deps, [one.audit("delete-failed") for one in doomed])
        report.failed += len(doomed)
        raise
    for one in doomed:
        if one.stored.name in refused:
            log.warning("could not delete %s", one.describe())
        else:
            log.info("deleted %s", one.describe())
    if refused:
        await _append(
            deps, [one.audit("delete-failed") for one in doomed if one.stored.name in refused]
        )
    report.deleted += len(doomed) - len(refused)
    report.failed += len(refused)


async def sweep_orphans(
    deps: VaultDeps,
    *,
    older_than: datetime,
    dry_run: bool = False,
    page_size: int = 1000,
    stopping: asyncio.Event | None = None,
) -> SweepReport:
    """Delete objects without a row last modified before `older_than`, and shredded leftovers."""
    report = SweepReport(dry_run=dry_run)
    async with deps.database.unit_of_work() as held:
        if not await try_sweep_lock(held.session):
            report.busy = True
            log.info("orphan sweep skipped: another one is running")
            return report
        async for page in deps.store.list_pages(page_size):
            if stopping is not None and stopping.is_set():
                break
            await _sweep_page(deps, page, older_than, report)
    log.info("orphan sweep: %s", report.summary())
    return report


class OrphanSweeper:
    """The vault's background sweep, every `every_seconds`, of objects older than the grace."""

    def __init__(
        self,
        deps: VaultDeps,
        *,
        grace_seconds: float,
        every_seconds: float,
        page_size: int = 1000,
    ) -> None:
        self.deps = deps
        self.grace = timedelta(seconds=grace_seconds)
        self.every_seconds = every_seconds
        self.page_size = page_size
        self._stopping = asyncio.Event()

    async def sweep(self, *, dry_run: bool = False) -> SweepReport:
        """One sweep now."""
        return await sweep_orphans(
            self.deps,
            older_than=utcnow() - self.grace,
            dry_run=dry_run,
            page_size=self.page_size,
            stopping=self._stopping,
        )

    async def run(self) -> None:
        """Sweep every period until stopped; a failed sweep is logged and retried next period."""
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.every_seconds)
            if self._stopping.is_set():
                return
            try:
                await self.sweep()
            except Exception:  # S3 or the database away: the service stays up, next period retries
                log.exception("orphan sweep failed; retrying at the next period")

    async def stop(self) -> None:
        """Let a sweep in progress finish its page, then stop."""
        self._stopping.set()
