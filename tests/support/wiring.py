"""Each service wired by its own bootstrap, connecting to nothing: what the contract tests and the
Kafka catalogue read (topics, subscriptions, gRPC services) comes from the code that runs."""

from __future__ import annotations

import asyncio
import importlib

from recouvra_shared.db import Database
from recouvra_shared.runtime import ServiceParts, Wiring
from recouvra_shared.settings import ServiceSettings
from recouvra_shared.topics import make_broker

SERVICES = ["gateway", "intake", "scoring", "matching", "messaging", "vault", "settlement"]
# A database URL nothing listens on: building the wiring never connects.
NOWHERE = "postgresql+asyncpg://u:p@127.0.0.1:1/none"


def settings_of(service: str) -> ServiceSettings:
    """The service's own settings class, with defaults and a database nobody answers on."""
    config = importlib.import_module(f"{service}.config")
    [settings_class] = [
        value
        for name, value in vars(config).items()
        if name.endswith("Settings")
        and isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value is not ServiceSettings
    ]
    settings: ServiceSettings = settings_class(database_url=NOWHERE)
    return settings


def build_parts(service: str, wiring: Wiring | None = None) -> ServiceParts:
    """What the service's bootstrap builds from `wiring` (by default: its settings, a pool and a
    broker that never connect). Call it inside a running event loop, or use `parts_of`."""
    if wiring is None:
        settings = settings_of(service)
        wiring = Wiring(settings, Database.connect(NOWHERE), make_broker(settings))
    parts: ServiceParts = importlib.import_module(f"{service}.bootstrap").build(wiring)
    return parts


def parts_of(service: str) -> ServiceParts:
    """`build_parts` inside an event loop of its own, as the service builds them: the broker and
    the pool want one, and an earlier test in the same worker may have closed the default loop."""

    async def build() -> ServiceParts:
        return build_parts(service)

    return asyncio.run(build())
