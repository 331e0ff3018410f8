"""Retention of the tables that only grow: each row kept for a documented period, then deleted.

A service declares its rules (`ServiceParts.retention`, one line in its bootstrap); every
service also prunes its inbox (`platform_rules`). The runtime runs them in the background,
hourly, a batch per rule and per transaction so no long lock is held and replicas share the
work; `python -m <service> retention` runs them once by hand (`--dry-run` only counts).

A rule deletes a row when its time column is older than the period and the row is not still
needed (`still_needed`, a condition that protects a row whatever its age). The periods and why
are in the README ("Retention"); a rule's period comes from the service's settings where the
service reads the rows for that long (the log-in failure window, the inbox after the topics).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, delete, func, not_, select, tuple_

from recouvra_shared.db import Database, inbox
from recouvra_shared.polling import PollingLoop
from recouvra_shared.settings import ServiceSettings
from recouvra_shared.unit_of_work import utcnow

log = logging.getLogger(__name__)

RUN_EVERY_SECONDS = 3600.0
BATCH_ROWS = 5000


@dataclass(frozen=True)
class RetentionRule:
    """Rows of `table` whose `column` is older than `period` go, unless `still_needed`."""

    name: str
    table: Table
    column: str
    period: timedelta
    still_needed: Callable[[Table], ColumnElement[bool]] | None = None

    def __post_init__(self) -> None:
        if self.period <= timedelta(0):
            raise ValueError(f"{self.name}: a retention period must be positive")
        if self.column not in self.table.c:
            raise ValueError(f"{self.name}: {self.table.name} has no column {self.column}")

    def expired(self, now: datetime) -> ColumnElement[bool]:
        """The rows this rule deletes at `now`."""
        old = self.table.c[self.column] < now - self.period
        if self.still_needed is None:
            return old
        return old & not_(self.still_needed(self.table))


def platform_rules(settings: ServiceSettings) -> list[RetentionRule]:
    """What every service prunes: handled event ids, once their event cannot come back."""
    return [
        RetentionRule("inbox", inbox, "processed_at", timedelta(days=settings.inbox_retention_days))
    ]


class Retention:
    """Deletes what the rules say has expired, in batches."""

    def __init__(
        self,
        database: Database,
        rules: Sequence[RetentionRule],
        *,
        batch_rows: int = BATCH_ROWS,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        names = [rule.name for rule in rules]
        if len(set(names)) != len(names):
            raise ValueError(f"retention rules: names must be unique ({', '.join(names)})")
        self.database = database
        self.rules = list(rules)
        self.batch_rows = batch_rows
        self.clock = clock

    async def count(self) -> dict[str, int]:
        """How many rows each rule would delete now."""
        now, counts = self.clock(), {}
        async with self.database.unit_of_work() as uow:
            for rule in self.rules:
                query = select(func.count()).select_from(rule.table).where(rule.expired(now))
                counts[rule.name] = int(await uow.session.scalar(query) or 0)
        return counts

    async def prune_batch(self, rule: RetentionRule) -> int:
        """Delete at most one batch of the rule's expired rows; returns how many."""
        key = tuple_(*rule.table.primary_key.columns)
        batch = (
            select(*rule.table.primary_key.columns)
            .where(rule.expired(self.clock()))
            .limit(self.batch_rows)
        )
        async with self.database.unit_of_work() as uow:
            result = await uow.session.execute(delete(rule.table).where(key.in_(batch)))
            await uow.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    async def step(self) -> bool:
        """One batch per rule; True while some rule still has a full batch to delete."""
        more = False
        for rule in self.rules:
            deleted = await self.prune_batch(rule)
            if deleted:
                log.info("retention: %d %s rows deleted", deleted, rule.name)
            more = more or deleted >= self.batch_rows
        return more

    async def run_once(self) -> dict[str, int]:
        """Delete everything expired now; how many rows per rule."""
        deleted = dict.fromkeys((rule.name for rule in self.rules), 0)
        for rule in self.rules:
            while True:
                batch = await self.prune_batch(rule)
                deleted[rule.name] += batch
                if batch < self.batch_rows:
                    break
        return deleted

    def loop(self, every_seconds: float = RUN_EVERY_SECONDS) -> PollingLoop:
        """The background job: a step, again at once while batches are full, else hourly."""
        return PollingLoop("retention", self.step, idle_seconds=every_seconds)
