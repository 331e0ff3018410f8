"""The vault's background loops: signing the audit chain's head, sweeping orphaned objects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from recouvra_shared.polling import PollingLoop
from vault.domain.orphans import DEFAULT_POLICY, SweepPolicy
from vault.domain.ports import AuditAnchor
from vault.service_layer.audit import checkpoint_and_anchor
from vault.service_layer.deps import VaultDeps
from vault.service_layer.orphans import sweep_orphans
from vault.service_layer.unit_of_work import VaultUnitOfWork


class PeriodicJob:
    """A use case run once a period, the first time one period after start, until stopped.

    A failed run is logged and retried with growing pauses, never further apart than the period.
    """

    def __init__(
        self, name: str, job: Callable[[], Awaitable[object]], every_seconds: float
    ) -> None:
        self.job = job
        self.every_seconds = every_seconds
        self.loop = PollingLoop(
            name, self.run_once, idle_seconds=every_seconds, max_backoff_seconds=every_seconds
        )

    async def run_once(self) -> bool:
        """One run; False: nothing more to do before the next period."""
        await self.job()
        return False

    async def run(self) -> None:
        """Run every period until stopped."""
        await self.loop.pause(self.every_seconds)
        await self.loop.run()

    async def stop(self) -> None:
        """Let a run in progress finish (a sweep finishes its current page), then stop."""
        self.loop.stop()

    @property
    def stopping(self) -> bool:
        """Whether stop() was called."""
        return self.loop.stopping


def audit_checkpoint_job(
    units: Callable[[], VaultUnitOfWork], anchor: AuditAnchor, every_seconds: float
) -> PeriodicJob:
    """Signs the head of the audit chain every period and anchors the new checkpoints outside
    the database, so the tail that could be cut off unseen stays short in time."""
    return PeriodicJob(
        "audit checkpoint", lambda: checkpoint_and_anchor(units, anchor), every_seconds
    )


def orphan_sweep_job(
    deps: VaultDeps,
    *,
    grace_seconds: float,
    every_seconds: float,
    quarantine_seconds: float = 30 * 86400.0,
    policy: SweepPolicy = DEFAULT_POLICY,
    page_size: int = 1000,
) -> PeriodicJob:
    """Quarantines, every period, objects without a row once older than the grace, and deletes
    those quarantined longer than `quarantine_seconds`."""
    grace = timedelta(seconds=grace_seconds)
    retention = timedelta(seconds=quarantine_seconds)

    async def sweep() -> None:
        now = deps.clock()
        await sweep_orphans(
            deps,
            older_than=now - grace,
            page_size=page_size,
            stopping=lambda: job.stopping,
            policy=policy,
            purge_before=now - retention,
        )

    job = PeriodicJob("orphan sweep", sweep, every_seconds)
    return job
