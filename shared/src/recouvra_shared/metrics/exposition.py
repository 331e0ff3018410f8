"""Serves a service's metrics over HTTP (`/metrics` on its metrics port) and keeps the sampled
readings fresh."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, start_http_server

from recouvra_shared.db import Database
from recouvra_shared.kafka_security import KafkaConnection
from recouvra_shared.metrics import expect_dead_letters
from recouvra_shared.metrics.kafka_lag import ConsumerLag
from recouvra_shared.metrics.readings import (
    PoolCollector,
    ReadingSource,
    SampledCollector,
    platform_readings,
)
from recouvra_shared.outages import describe_failure
from recouvra_shared.settings import ServiceSettings

log = logging.getLogger(__name__)


class ServiceMetrics:
    """One service's metrics: what the code counts as it goes, plus readings sampled every
    `metrics_sample_seconds` from the database (outbox, dead letters, the service's own) and from
    Kafka (its consumer groups' lag). Without a metrics port, nothing is served or sampled."""

    def __init__(
        self,
        settings: ServiceSettings,
        database: Database,
        *,
        consumer_groups: Sequence[tuple[str, str]] = (),
        dead_letter_topics: Sequence[str] = (),
        sources: Sequence[ReadingSource] = (),
        registry: CollectorRegistry = REGISTRY,
        service_readings: bool = True,
    ) -> None:
        self.settings = settings
        self.database = database
        self.registry = registry
        prefix = settings.kafka_topic_prefix
        self.lag: ConsumerLag | None = None
        self.dead_letter_topics = list(dead_letter_topics)
        # Without service readings (a service's second gRPC process), only what this process
        # counts is served: the service-wide readings come from its first process alone.
        self.sources: dict[str, ReadingSource] = (
            {"platform": self._platform} if service_readings else {}
        )
        if consumer_groups:
            groups = [(prefix + g, prefix + t) for g, t in consumer_groups]
            self.lag = ConsumerLag(KafkaConnection.of(settings), groups)
            self.sources["kafka"] = self.lag.readings
        for number, source in enumerate(sources):
            self.sources[f"{getattr(source, '__qualname__', 'service')}#{number}"] = source
        self.sampled = SampledCollector()
        self.pool = PoolCollector(database)
        self.port = 0
        self._server: Any = None
        self._stopping = asyncio.Event()

    async def _platform(self) -> Sequence[Any]:
        return await platform_readings(self.database)

    @property
    def enabled(self) -> bool:
        return self.settings.metrics_port is not None

    def start(self) -> None:
        """Register the collectors and serve /metrics on the metrics port (0: any free port)."""
        if not self.enabled:
            return
        for topic in self.dead_letter_topics:
            expect_dead_letters(topic)
        try:
            server, _ = start_http_server(
                self.settings.metrics_port or 0, self.settings.metrics_host, registry=self.registry
            )
        except OSError as exc:
            # Metrics are for operators: a taken port is logged loudly, the service still serves.
            log.error(
                "metrics: cannot serve on %s:%s: %s",
                self.settings.metrics_host,
                self.settings.metrics_port,
                exc,
            )
            return
        self._server = server
        self.port = server.server_port
        self.registry.register(self.sampled)
        self.registry.register(self.pool)
        log.info("metrics on http://%s:%d/metrics", self.settings.metrics_host, self.port)

    async def sample_once(self) -> None:
        """Read every source once; a failing source is logged and keeps its last readings."""
        for name, source in self.sources.items():
            try:
                self.sampled.keep(name, await source())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("metrics: reading %s failed: %s", name, describe_failure(exc))

    async def run(self) -> None:
        """Sample until stopped. The runtime stops the service when any of its tasks ends, so
        without a metrics port this waits for the stop instead of sampling."""
        if not self.enabled:
            await self._stopping.wait()
            return
        while not self._stopping.is_set():
            await self.sample_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stopping.wait(), timeout=self.settings.metrics_sample_seconds
                )

    async def stop(self) -> None:
        """Stop sampling and serving."""
        self._stopping.set()
        if self.lag is not None:
            await self.lag.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            # A runtime started again in the same process registers them anew.
            self.registry.unregister(self.sampled)
            self.registry.unregister(self.pool)
