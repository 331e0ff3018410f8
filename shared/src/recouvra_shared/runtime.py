"""One way to run a service: wire adapters once, serve gRPC and Kafka, stop gracefully.

`python -m <service>` serves; `python -m <service> migrate` upgrades its database schema as the
schema owner and lets the runtime role use the tables (`recouvra_shared.db_roles`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from recouvra_shared.db import Database, UnitOfWork
from recouvra_shared.db_roles import migrate
from recouvra_shared.gc_tuning import settle_after_startup
from recouvra_shared.grpc import GrpcServer, client_channel
from recouvra_shared.grpc_processes import (
    WORKER_COMMAND,
    GrpcProcesses,
    die_with_parent,
    service_module,
    watch_parent,
)
from recouvra_shared.identity import ServiceIdentity
from recouvra_shared.inbox import InboxConsumer, Subscription
from recouvra_shared.logging import configure_logging
from recouvra_shared.metrics.exposition import ServiceMetrics
from recouvra_shared.metrics.readings import ReadingSource
from recouvra_shared.outbox import OutboxRelay
from recouvra_shared.retention import Retention, RetentionRule, platform_rules
from recouvra_shared.settings import ServiceSettings
from recouvra_shared.tls import TlsMaterial, load_tls, watch_renewal
from recouvra_shared.topics import ensure_topics, make_broker
from recouvra_shared.tracing import setup_tracing

log = logging.getLogger(__name__)


@dataclass
class ServiceParts:
    """What a service plugs into the runtime, built by its bootstrap from the wired adapters."""

    grpc_services: Sequence[tuple[str, Callable[[grpc.aio.Server], None]]] = ()
    subscriptions: Sequence[Subscription[Any]] = ()
    # The service's own unit of work (owning its repositories), handed to its event handlers.
    unit_of_work: Callable[[], UnitOfWork] | None = None
    published_topics: Sequence[str] = ()
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = ()
    on_stop: Sequence[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    # The service's own metrics read from its database (recouvra_shared.metrics.readings).
    readings: Sequence[ReadingSource] = ()
    # Tables of the service that only grow, pruned hourly (and the inbox, for every service).
    retention: Sequence[RetentionRule] = ()
    # Its gRPC handlers keep nothing in process that a call to another process would miss (no
    # cache to invalidate, no outbox row to wake this process's relay): it may be served by
    # `grpc_processes` > 1 (recouvra_shared.grpc_processes).
    grpc_in_many_processes: bool = False


@dataclass
class Wiring:
    """The adapters every service gets: its database, its Kafka broker and its identity."""

    settings: ServiceSettings
    database: Database
    broker: Any
    # This process's mutual TLS material, for its gRPC server and its clients; None only under
    # the development switch RECOUVRA_TLS_INSECURE.
    tls: TlsMaterial | None = None
    identity: ServiceIdentity | None = None

    def channel_to(self, service: str, target: str) -> Any:
        """A gRPC channel to `service` at `target`: mutual TLS expecting `service`'s certificate,
        and calls carrying this service's signed tokens (for the caller in `caller_var`, or for
        this service itself). Wired without an identity (a test looking at the wiring), its
        calls carry none and are refused."""
        minter = self.identity.signer() if self.identity is not None else None
        return client_channel(
            target, tls=self.tls, server_name=service, audience=service, minter=minter
        )


Bootstrap = Callable[[Wiring], ServiceParts]


class ServiceRuntime:
    """Starts a service's parts in dependency order and stops them in reverse."""

    def __init__(self, settings: ServiceSettings, bootstrap: Bootstrap) -> None:
        self.settings = settings
        self.bootstrap = bootstrap
        self.stopping = asyncio.Event()

    async def run(self) -> None:
        """Serve until SIGTERM or SIGINT, then shut down gracefully."""
        settings = self.settings
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)

        tls = load_tls(settings)  # before anything connects: no certificate, no service
        identity = ServiceIdentity.from_settings(settings)
        database = Database.connect(settings.database_url.get_secret_value())
        broker = make_broker(settings)
        wiring = Wiring(
            settings=settings, database=database, broker=broker, tls=tls, identity=identity
        )
        parts = self.bootstrap(wiring)
        refuse_many_processes(settings, parts)
        units = parts.unit_of_work or database.unit_of_work
        for subscription in parts.subscriptions:
            InboxConsumer(subscription, units, broker, settings).register()

        topics = [*parts.published_topics]
        for sub in parts.subscriptions:
            topics += [sub.topic, sub.dead_letter_topic]
        if topics:
            await ensure_topics(settings, topics)
        await broker.start()

        relay = OutboxRelay(database, broker, settings)
        metrics = ServiceMetrics(
            settings,
            database,
            consumer_groups=[(sub.consumer, sub.topic) for sub in parts.subscriptions],
            dead_letter_topics=[sub.dead_letter_topic for sub in parts.subscriptions],
            sources=parts.readings,
        )
        metrics.start()
        tasks = [asyncio.create_task(relay.run(), name="outbox-relay")]
        tasks.append(asyncio.create_task(metrics.run(), name="metrics"))
        tasks += [asyncio.create_task(job(), name=job.__name__) for job in parts.background]
        retention = Retention(database, [*platform_rules(settings), *parts.retention]).loop()
        tasks.append(asyncio.create_task(retention.run(), name="retention"))
        if tls is not None and settings.tls_restart_on_renewal:
            renewal = watch_renewal(settings, tls, self.stopping.set)
            tasks.append(asyncio.create_task(renewal, name="tls-renewal"))

        server = GrpcServer(
            settings.grpc_target,
            [name for name, _ in parts.grpc_services],
            tls=tls,
            health_bind=settings.grpc_health_target,
            verifier=identity.verifier,
        )
        for _, register in parts.grpc_services:
            register(server.server)
        # The port is bound (not yet listening): the other processes bind it too and serve
        # before this one reports SERVING.
        processes = GrpcProcesses(settings, server.port, service_module(settings))
        await processes.start()
        tasks.append(asyncio.create_task(processes.supervise(), name="grpc-processes"))
        settle_after_startup(settings.gc_thresholds)
        await server.start()
        log.info(
            "%s serving gRPC (%s) on %s:%d",
            settings.service_name,
            "mutual TLS" if tls else "PLAIN TEXT, development only",
            settings.grpc_host,
            server.port,
        )

        stop_waiter = asyncio.create_task(self.stopping.wait())
        done, _ = await asyncio.wait([stop_waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stop_waiter and task.exception():
                log.error("background task %s died", task.get_name(), exc_info=task.exception())

        log.info("%s shutting down", settings.service_name)
        await asyncio.gather(
            server.stop(settings.shutdown_grace_seconds),
            processes.stop(settings.shutdown_grace_seconds),
        )
        relay.stop()
        retention.stop()
        await metrics.stop()
        for hook in parts.on_stop:
            await hook()
        _, still_running = await asyncio.wait(tasks, timeout=settings.shutdown_grace_seconds)
        for task in still_running:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await broker.stop()
        await database.dispose()
        log.info("%s stopped", settings.service_name)


def refuse_many_processes(settings: ServiceSettings, parts: ServiceParts) -> None:
    """Refuse `grpc_processes` > 1 for a service whose gRPC handlers were not made for it."""
    if settings.grpc_processes > 1 and not parts.grpc_in_many_processes:
        raise SystemExit(
            f"grpc_processes: {settings.service_name} serves gRPC from one process only "
            f"(got {settings.grpc_processes})"
        )


async def serve_grpc_only(
    settings: ServiceSettings,
    bootstrap: Bootstrap,
    number: int,
    port: int,
    parent: int,
    ready_fd: int | None = None,
) -> None:
    """One more process answering the service's gRPC on its first process's port (`python -m
    <service> grpc-worker`, started by that process): no consumer, relay or retention, only
    this process's own metrics; dies with its parent, stops on SIGTERM."""
    die_with_parent(parent)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    tls = load_tls(settings)
    identity = ServiceIdentity.from_settings(settings)
    database = Database.connect(settings.database_url.get_secret_value())
    wiring = Wiring(settings, database, make_broker(settings), tls=tls, identity=identity)
    parts = bootstrap(wiring)  # only its gRPC services are served here
    refuse_many_processes(settings, parts)
    own_ports = settings.grpc_process_metrics_ports
    # Its own port when the operator named them, else any free port (or none, like the first).
    metrics_port = own_ports[number - 2] if own_ports else settings.metrics_port and 0
    metrics = ServiceMetrics(
        settings.model_copy(update={"metrics_port": metrics_port}),
        database,
        service_readings=False,
    )
    metrics.start()
    tasks = [
        asyncio.create_task(metrics.run(), name="metrics"),
        asyncio.create_task(watch_parent(parent, stopping), name="parent-watch"),
    ]
    server = GrpcServer(
        f"{settings.grpc_host}:{port}",
        [name for name, _ in parts.grpc_services],
        tls=tls,
        verifier=identity.verifier,
    )
    for _, register in parts.grpc_services:
        register(server.server)
    settle_after_startup(settings.gc_thresholds)
    await server.start()
    if ready_fd is not None:  # the first process waits for this before it reports SERVING
        os.write(ready_fd, b"1")
        os.close(ready_fd)
    log.info(
        "%s gRPC process %d serving on %s:%d",
        settings.service_name,
        number,
        settings.grpc_host,
        port,
    )
    await stopping.wait()
    await server.stop(settings.shutdown_grace_seconds)
    await metrics.stop()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await database.dispose()
    log.info("%s gRPC process %d stopped", settings.service_name, number)


def run_cli(
    settings_factory: Callable[[], ServiceSettings],
    bootstrap: Bootstrap,
    migrations: Path,
    argv: Sequence[str] | None = None,
) -> None:
    """The command line of every service: `serve` (the default), `migrate` or `retention`
    (delete what the retention rules say has expired, once; `--dry-run` only counts)."""
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=["serve", "migrate", "retention", WORKER_COMMAND],
    )
    parser.add_argument("--dry-run", action="store_true", help="retention: count, delete nothing")
    # grpc-worker: started by `serve` itself when grpc_processes > 1, never by hand.
    parser.add_argument("--number", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--parent", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings = settings_factory()
    configure_logging(settings.service_name, settings.log_level)
    setup_tracing(settings.service_name)
    if args.command == "retention":
        asyncio.run(run_retention(settings, bootstrap, dry_run=args.dry_run))
        return
    if args.command == WORKER_COMMAND:
        asyncio.run(
            serve_grpc_only(settings, bootstrap, args.number, args.port, args.parent, args.ready_fd)
        )
        return
    if args.command == "migrate":
        runtime_url = settings.database_url.get_secret_value()
        owner_url = settings.migration_database_url.get_secret_value()
        if not owner_url and settings.environment != "development":
            prefix = settings.model_config.get("env_prefix", "")
            raise SystemExit(
                f"migrate: {prefix}MIGRATION_DATABASE_URL (the schema owner) is required in "
                f"{settings.environment}: the runtime role may not change the schema"
            )
        migrate(migrations, owner_url or runtime_url, runtime_url)
        log.info("%s database schema is up to date", settings.service_name)
        return
    asyncio.run(ServiceRuntime(settings, bootstrap).run())


async def run_retention(
    settings: ServiceSettings, bootstrap: Bootstrap, *, dry_run: bool = False
) -> dict[str, int]:
    """Apply the service's retention rules once (`python -m <service> retention`), printing
    how many rows each deleted (or, dry, would delete)."""
    database = Database.connect(settings.database_url.get_secret_value())
    try:
        # The bootstrap only declares the parts here: nothing is served or consumed.
        parts = bootstrap(Wiring(settings, database, make_broker(settings)))
        retention = Retention(database, [*platform_rules(settings), *parts.retention])
        counts = await (retention.count() if dry_run else retention.run_once())
    finally:
        await database.dispose()
    verb = "would delete" if dry_run else "deleted"
    for name, count in counts.items():
        print(f"{settings.service_name} retention: {name}: {verb} {count} rows")
    return counts
