"""Wires vault's adapters once: the only place that knows which pieces make the service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from recouvra.vault.v1 import vault_pb2, vault_pb2_grpc
from recouvra_shared.inbox import Subscription
from recouvra_shared.runtime import ServiceParts, Wiring
from vault.adapters.keys import KeyFileWrapper, create_key_file, load_key_file
from vault.adapters.store import S3ObjectStore
from vault.config import VaultSettings
from vault.entrypoints.grpc_api import VaultApi
from vault.service_layer.documents import VaultDeps
from vault.service_layer.grants import grant_handlers
from vault.service_layer.orphans import OrphanSweeper

log = logging.getLogger(__name__)
CONSUMER = "vault-grants"


def build_deps(settings: VaultSettings, wiring: Wiring) -> VaultDeps:
    """The use cases' dependencies from the settings (reads the key file, connects nothing)."""
    if not settings.key_file.exists():
        if settings.environment != "development":
            raise ValueError(f"key_file: {settings.key_file} does not exist")
        create_key_file(settings.key_file)
        log.warning("created a development key file at %s", settings.key_file)
    store = S3ObjectStore.connect(
        settings.s3_endpoint,
        settings.s3_access_key,
        settings.s3_secret_key.get_secret_value(),
        settings.bucket,
        secure=settings.s3_secure,
        region=settings.s3_region,
        part_size=settings.s3_part_size,
    )
    return VaultDeps(
        database=wiring.database,
        store=store,
        keys=KeyFileWrapper(settings.key_file),
        audit_signing_key=load_key_file(settings.key_file).audit_signing_key,
        max_document_bytes=settings.max_document_bytes,
        checkpoint_every=settings.audit_checkpoint_every,
        chunk_size=settings.chunk_size,
    )


def checkpoint_loop(
    deps: VaultDeps, every_seconds: float
) -> Callable[[], Coroutine[Any, Any, None]]:
    """A background job signing the head of the audit chain when it moved since the last one."""

    async def sign_audit_head() -> None:
        while True:
            await asyncio.sleep(every_seconds)
            try:
                async with deps.database.unit_of_work() as uow:
                    await deps.audit(uow).checkpoint_head()
                    await uow.commit()
            except Exception:  # a database outage must not end the service; retry next round
                log.exception("could not sign an audit checkpoint")

    return sign_audit_head


def orphan_sweeper(settings: VaultSettings, deps: VaultDeps) -> OrphanSweeper:
    """The sweeper of objects no document row points to, as the settings tune it."""
    return OrphanSweeper(
        deps,
        grace_seconds=settings.orphan_grace_seconds,
        every_seconds=settings.orphan_sweep_seconds,
    )


def build(wiring: Wiring) -> ServiceParts:
    """Vault serves VaultService, follows assignments to grant and revoke access, signs audit
    checkpoints and sweeps orphaned objects in the background."""
    settings = wiring.settings
    assert isinstance(settings, VaultSettings)
    deps = build_deps(settings, wiring)
    sweeper = orphan_sweeper(settings, deps)
    api = VaultApi(deps)
    handlers = grant_handlers(deps.audit)
    return ServiceParts(
        grpc_services=[
            (
                vault_pb2.DESCRIPTOR.services_by_name["VaultService"].full_name,
                lambda server: vault_pb2_grpc.add_VaultServiceServicer_to_server(api, server),
            )
        ],
        subscriptions=[
            Subscription(topic, f"{CONSUMER}-{topic.split('.')[1]}", event_type, handler)
            for topic, (event_type, handler) in handlers.items()
        ],
        background=[checkpoint_loop(deps, settings.audit_checkpoint_seconds), sweeper.run],
        on_stop=[sweeper.stop],
    )
