"""Wires vault's adapters once: the only place that knows which pieces make the service."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from minio import Minio

from recouvra.vault.v1 import vault_pb2, vault_pb2_grpc
from recouvra_shared.db import Database
from recouvra_shared.runtime import ServiceParts, Wiring
from vault.adapters.anchor import S3AuditAnchor
from vault.adapters.keys import KeyFileWrapper, create_key_file, load_key_file
from vault.adapters.store import S3ObjectStore
from vault.adapters.unit_of_work import SqlVaultUnitOfWork, vault_units
from vault.config import VaultSettings
from vault.domain.orphans import SweepPolicy
from vault.entrypoints.assignment_facts import assignment_subscriptions
from vault.entrypoints.background import audit_checkpoint_job, orphan_sweep_job
from vault.entrypoints.grpc_api import VaultApi
from vault.service_layer.deps import VaultDeps
from vault.service_layer.unit_of_work import VaultUnitOfWork

log = logging.getLogger(__name__)


def ensure_key_file(settings: VaultSettings) -> None:
    """Create a development key file on first start; anywhere else a missing one is an error
    (weak keys are refused by the settings themselves)."""
    if settings.key_file.exists():
        return
    if settings.environment != "development":
        raise ValueError(f"key_file: {settings.key_file} does not exist")
    create_key_file(settings.key_file)
    log.warning("created a development key file at %s", settings.key_file)


def s3_client(settings: VaultSettings) -> Minio:
    """A client of the vault's S3 store (no request is made until first use)."""
    return Minio(
        settings.s3_endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=settings.s3_secure,
        region=settings.s3_region,
    )


def audit_anchor(settings: VaultSettings) -> S3AuditAnchor:
    """Where checkpoints are anchored outside the database."""
    return S3AuditAnchor(
        s3_client(settings),
        settings.audit_anchor_bucket,
        timedelta(days=settings.audit_anchor_retention_days),
    )


def pinned_public_key(settings: VaultSettings) -> Ed25519PublicKey:
    """The audit verification key pinned in the settings; ValueError when missing or wrong."""
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(settings.audit_public_key))
    except ValueError as exc:
        raise ValueError(
            "audit_public_key: set RECOUVRA_VAULT_AUDIT_PUBLIC_KEY to the output of "
            "`python -m vault audit-public-key` (base64 of a raw Ed25519 public key)"
        ) from exc


def check_pinned_key(settings: VaultSettings) -> None:
    """Refuse a signing key that does not match the pinned public key (when one is pinned)."""
    if not settings.audit_public_key:
        if settings.environment != "development":
            log.warning("audit_public_key is not pinned: `verify-audit` cannot run without it")
        return
    signing = load_key_file(settings.key_file).audit_signing_key.public_key()
    if signing.public_bytes_raw() != pinned_public_key(settings).public_bytes_raw():
        raise ValueError("audit_public_key: does not match the key file's audit signing key")


def units_of(settings: VaultSettings, database: Database) -> Callable[[], SqlVaultUnitOfWork]:
    """The vault's units of work on `database`, signing checkpoints with the key file's key."""
    signing_key = load_key_file(settings.key_file).audit_signing_key
    return vault_units(database, signing_key, settings.audit_checkpoint_every)


def sweep_policy(settings: VaultSettings) -> SweepPolicy:
    """The orphan sweeper's limits from the settings."""
    return SweepPolicy(
        max_per_run=settings.orphan_max_per_run,
        max_orphan_share=settings.orphan_max_share,
        share_floor=settings.orphan_share_floor,
        new_database_margin=timedelta(seconds=settings.orphan_new_database_margin_seconds),
    )


def build_deps(settings: VaultSettings, units: Callable[[], VaultUnitOfWork]) -> VaultDeps:
    """The use cases' dependencies from the settings (reads the key file, connects nothing)."""
    store = S3ObjectStore(s3_client(settings), settings.bucket, settings.s3_part_size)
    return VaultDeps(
        units=units,
        store=store,
        keys=KeyFileWrapper(settings.key_file),
        max_document_bytes=settings.max_document_bytes,
        chunk_size=settings.chunk_size,
    )


def build(wiring: Wiring) -> ServiceParts:
    """Vault serves VaultService, follows assignments to grant and revoke access, signs audit
    checkpoints and sweeps orphaned objects in the background."""
    settings = wiring.settings
    assert isinstance(settings, VaultSettings)
    ensure_key_file(settings)
    check_pinned_key(settings)
    units = units_of(settings, wiring.database)
    deps = build_deps(settings, units)
    checkpoints = audit_checkpoint_job(
        deps.units, audit_anchor(settings), settings.audit_checkpoint_seconds
    )
    sweeper = orphan_sweep_job(
        deps,
        grace_seconds=settings.orphan_grace_seconds,
        every_seconds=settings.orphan_sweep_seconds,
        quarantine_seconds=settings.orphan_quarantine_seconds,
        policy=sweep_policy(settings),
    )
    api = VaultApi(deps)
    return ServiceParts(
        grpc_services=[
            (
                vault_pb2.DESCRIPTOR.services_by_name["VaultService"].full_name,
                lambda server: vault_pb2_grpc.add_VaultServiceServicer_to_server(api, server),
            )
        ],
        subscriptions=assignment_subscriptions(),
        unit_of_work=units,
        background=[checkpoints.run, sweeper.run],
        on_stop=[checkpoints.stop, sweeper.stop],
    )
