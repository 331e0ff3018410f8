"""Sweeping the bucket of ciphertext no document row points to; every deletion is audited."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from vault.domain.audit import AuditRecord
from vault.domain.model import ObjectAddress, parse_object_name
from vault.domain.orphans import StoredObject, SweepReport, Verdict, judge
from vault.service_layer.audit import record, service_entry
from vault.service_layer.deps import VaultDeps

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
        return service_entry(
            _ACTION[self.verdict],
            outcome,
            self.describe(),
            tenant_id=self.address.tenant_id,
            case_id=self.address.case_id,
            document_id=self.address.document_id,
        )


def _never() -> bool:
    return False


async def _sweep_page(
    deps: VaultDeps, page: list[StoredObject], older_than: datetime, report: SweepReport
) -> None:
    named = [parse_object_name(stored.name) for stored in page]
    async with deps.units() as uow:
        rows = await uow.documents.objects_of(
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
    await record(deps.units, *[one.audit("deleted") for one in doomed])
    try:
        refused = await deps.store.delete_many([one.stored.name for one in doomed])
    except Exception:
        await record(deps.units, *[one.audit("delete-failed") for one in doomed])
        report.failed += len(doomed)
        raise
    for one in doomed:
        if one.stored.name in refused:
            log.warning("could not delete %s", one.describe())
        else:
            log.info("deleted %s", one.describe())
    if refused:
        await record(
            deps.units,
            *[one.audit("delete-failed") for one in doomed if one.stored.name in refused],
        )
    report.deleted += len(doomed) - len(refused)
    report.failed += len(refused)


async def sweep_orphans(
    deps: VaultDeps,
    *,
    older_than: datetime,
    dry_run: bool = False,
    page_size: int = 1000,
    stopping: Callable[[], bool] = _never,
) -> SweepReport:
    """Delete objects without a row last modified before `older_than`, and shredded leftovers."""
    report = SweepReport(dry_run=dry_run)
    async with deps.units() as held:
        if not await held.try_sweep_lock():
            report.busy = True
            log.info("orphan sweep skipped: another one is running")
            return report
        async for page in deps.store.list_pages(page_size):
            if stopping():
                break
            await _sweep_page(deps, page, older_than, report)
    log.info("orphan sweep: %s", report.summary())
    return report
