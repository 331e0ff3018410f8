"""Quarantining ciphertext no document row points to, then deleting it after a retention
period; every move and deletion is audited, and a bucket that looks wrong is left alone."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from vault.domain.audit import AuditRecord
from vault.domain.model import ObjectAddress, parse_object_name
from vault.domain.orphans import (
    DEFAULT_POLICY,
    QUARANTINE_PREFIX,
    StoredObject,
    SweepPolicy,
    SweepReport,
    Verdict,
    judge,
    why_not_sweep,
)
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


async def _scan_page(
    deps: VaultDeps,
    page: list[StoredObject],
    older_than: datetime,
    report: SweepReport,
    doomed: list[_Doomed],
) -> None:
    named = [parse_object_name(stored.name) for stored in page]
    async with deps.units() as uow:
        rows = await uow.documents.objects_of(
            {address.document_id for address in named if address is not None}
        )
    for stored in page:
        verdict, address = judge(stored, rows, older_than)
        report.count(stored, verdict)
        if verdict is Verdict.FOREIGN:
            log.warning("object %s is not named by the vault; left for an operator", stored.name)
        elif verdict.removable and address is not None:
            if len(doomed) < report.cap:
                doomed.append(_Doomed(stored, verdict, address))
            else:
                report.left_for_next += 1


async def _quarantine(deps: VaultDeps, doomed: list[_Doomed], report: SweepReport) -> None:
    # Write-ahead: the entries commit before the objects move, so no move is ever unaudited.
    # A crash in between leaves entries for objects still there; the next sweep moves (and
    # audits) them again.
    await record(deps.units, *[one.audit("quarantined") for one in doomed])
    try:
        refused = await deps.store.quarantine([one.stored.name for one in doomed])
    except Exception:
        await record(deps.units, *[one.audit("quarantine-failed") for one in doomed])
        report.failed += len(doomed)
        raise
    for one in doomed:
        if one.stored.name in refused:
            log.warning("could not quarantine %s", one.describe())
        else:
            log.info("quarantined %s", one.describe())
    if refused:
        await record(
            deps.units,
            *[one.audit("quarantine-failed") for one in doomed if one.stored.name in refused],
        )
    report.quarantined += len(doomed) - len(refused)
    report.failed += len(refused)


async def _purge_quarantine(
    deps: VaultDeps, purge_before: datetime, page_size: int, report: SweepReport
) -> None:
    expired: list[StoredObject] = []
    async for page in deps.store.list_pages(page_size, prefix=QUARANTINE_PREFIX):
        expired += [stored for stored in page if stored.last_modified < purge_before]
    if not expired:
        return
    entries = []
    for stored in expired:
        address = parse_object_name(stored.name.removeprefix(QUARANTINE_PREFIX))
        entries.append(
            service_entry(
                "quarantine-purged",
                "deleted",
                f"{stored.name}: {stored.size} bytes, quarantined "
                f"{stored.last_modified:%Y-%m-%d %H:%M:%S%z}, retention over",
                tenant_id=address.tenant_id if address else "",
                case_id=address.case_id if address else "",
                document_id=address.document_id if address else "",
            )
        )
    await record(deps.units, *entries)
    refused = await deps.store.delete_many([stored.name for stored in expired])
    report.purged += len(expired) - len(refused)
    report.failed += len(refused)


async def sweep_orphans(
    deps: VaultDeps,
    *,
    older_than: datetime,
    dry_run: bool = False,
    page_size: int = 1000,
    stopping: Callable[[], bool] = _never,
    policy: SweepPolicy = DEFAULT_POLICY,
    purge_before: datetime | None = None,
) -> SweepReport:
    """Quarantine objects without a row last modified before `older_than`, and shredded
    leftovers, at most `policy.max_per_run`, unless the bucket looks judged against the wrong
    database; then delete quarantined objects moved there before `purge_before`."""
    report = SweepReport(dry_run=dry_run, cap=policy.max_per_run)
    async with deps.units() as held:
        if not await held.try_sweep_lock():
            report.busy = True
            log.info("orphan sweep skipped: another one is running")
            return report
        oldest_row = await held.documents.oldest_created_at()
        doomed: list[_Doomed] = []
        async for page in deps.store.list_pages(page_size):
            if stopping():
                report.stopped = True
                break
            await _scan_page(deps, page, older_than, report, doomed)
        if not report.stopped:
            report.refused = why_not_sweep(report, oldest_row, policy)
        if report.stopped or report.refused is not None:
            if report.refused is not None:
                log.error("orphan sweep refused: %s", report.refused)
                if not dry_run:
                    refusal = service_entry("orphan-sweep", "refused", report.refused)
                    await record(deps.units, refusal)
        elif dry_run:
            for one in doomed:
                log.info("dry run: would quarantine %s", one.describe())
        else:
            if doomed:
                await _quarantine(deps, doomed, report)
            if purge_before is not None:
                await _purge_quarantine(deps, purge_before, page_size, report)
    log.info("orphan sweep: %s", report.summary())
    return report
