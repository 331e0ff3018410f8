"""Metrics read from where the truth is kept (a table, Kafka's offsets), sampled now and then and
served from the last sample, so a scrape never waits on the database or the brokers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from recouvra_shared.db import Database, dead_letters, outbox, outbox_dead_letters
from recouvra_shared.unit_of_work import utcnow


@dataclass(frozen=True)
class Reading:
    """One sampled value of a metric: a gauge, or a counter kept by the source (a table's rows)."""

    name: str
    documentation: str
    value: float
    labels: Mapping[str, str] = field(default_factory=dict)
    kind: Literal["gauge", "counter"] = "gauge"


# What a service adds to the platform's readings: an async function returning its readings.
ReadingSource = Callable[[], Awaitable[Sequence[Reading]]]


def age_seconds(since: datetime | None) -> float:
    """How long ago `since` was; 0 for nothing waiting."""
    return max(0.0, (utcnow() - since).total_seconds()) if since is not None else 0.0


class SampledCollector(Collector):
    """Serves the last readings of each source; a source that failed keeps its last answer."""

    def __init__(self) -> None:
        self._readings: dict[str, Sequence[Reading]] = {}

    def keep(self, source: str, readings: Sequence[Reading]) -> None:
        """Replace what `source` last read."""
        self._readings[source] = list(readings)

    def collect(self) -> Iterator[Metric]:
        families: dict[str, GaugeMetricFamily | CounterMetricFamily] = {}
        for readings in list(self._readings.values()):
            for reading in readings:
                family = families.get(reading.name)
                if family is None:
                    kind = CounterMetricFamily if reading.kind == "counter" else GaugeMetricFamily
                    family = kind(
                        reading.name, reading.documentation, labels=sorted(reading.labels)
                    )
                    families[reading.name] = family
                values = [reading.labels[name] for name in sorted(reading.labels)]
                family.add_metric(values, reading.value)
        yield from families.values()


class PoolCollector(Collector):
    """The database pools at scrape time: connections in use, idle, and each pool's size; the
    pool of transactions, and the pool of reads without a transaction (the gateway's checks)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self) -> Iterator[Metric]:
        engines = {"transactions": self.database.engine}
        if self.database.reads is not None:
            engines["reads"] = self.database.reads
        connections = GaugeMetricFamily(
            "recouvra_db_pool_connections",
            "Database connections of the pool, in use or idle.",
            labels=["pool", "state"],
        )
        sizes = GaugeMetricFamily(
            "recouvra_db_pool_size",
            "Connections the pool keeps (before overflow).",
            labels=["pool"],
        )
        for name, engine in engines.items():
            pool = engine.sync_engine.pool
            connections.add_metric(
                [name, "in_use"], float(getattr(pool, "checkedout", lambda: 0)())
            )
            connections.add_metric([name, "idle"], float(getattr(pool, "checkedin", lambda: 0)()))
            size = getattr(pool, "size", None)
            if size is not None:
                sizes.add_metric([name], float(size()))
        yield connections
        yield sizes


async def platform_readings(database: Database) -> list[Reading]:
    """The outbox's backlog and the age of its oldest unsent row, rows moved aside, and the dead
    letters recorded per topic: the same tables in every service."""
    async with database.unit_of_work() as uow:
        backlog, oldest = (
            await uow.session.execute(
                select(func.count(), func.min(outbox.c.created_at)).where(
                    outbox.c.sent_at.is_(None)
                )
            )
        ).one()
        moved_aside = await uow.session.scalar(
            select(func.count()).select_from(outbox_dead_letters)
        )
        per_topic = (
            await uow.session.execute(
                select(dead_letters.c.topic, func.count()).group_by(dead_letters.c.topic)
            )
        ).all()
    readings = [
        Reading("recouvra_outbox_backlog", "Outbox rows not yet published.", float(backlog)),
        Reading(
            "recouvra_outbox_oldest_unsent_age_seconds",
            "Age of the oldest outbox row not yet published (0 when none waits).",
            age_seconds(oldest),
        ),
        Reading(
            "recouvra_outbox_dead_letters",
            "Outbox rows moved aside after Kafka kept refusing them (outbox_dead_letters).",
            float(moved_aside or 0),
        ),
    ]
    readings += [
        Reading(
            "recouvra_dead_letters_recorded",
            "Dead letters recorded for operators (table dead_letters), per source topic.",
            float(count),
            {"topic": topic},
        )
        for topic, count in per_topic
    ]
    return readings
