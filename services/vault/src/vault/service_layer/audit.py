"""The audit chain's own use cases, and the entries the other use cases append to it."""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from vault.domain.audit import AuditRecord, VerifyReport, verify_chain
from vault.domain.model import Actor
from vault.domain.ports import AuditAnchor
from vault.service_layer.unit_of_work import VaultUnitOfWork

MAX_DETAIL = 500


def entry(
    action: str,
    outcome: str,
    actor: Actor,
    *,
    tenant_id: str = "",
    case_id: str = "",
    document_id: str = "",
    detail: str = "",
) -> AuditRecord:
    """What a caller's request did, as the audit chain records it."""
    return AuditRecord(
        action=action,
        outcome=outcome,
        actor_kind=actor.kind,
        actor_subject=actor.subject or actor.tenant_id,
        tenant_id=tenant_id,
        case_id=case_id,
        document_id=document_id,
        detail=detail[:MAX_DETAIL],
    )


def service_entry(action: str, outcome: str, detail: str, **where: str) -> AuditRecord:
    """What the vault did on its own (sweeps, key rotation), as the audit chain records it."""
    return AuditRecord(
        action=action,
        outcome=outcome,
        actor_kind="service",
        actor_subject="vault",
        tenant_id=where.get("tenant_id", ""),
        case_id=where.get("case_id", ""),
        document_id=where.get("document_id", ""),
        detail=detail[:MAX_DETAIL],
    )


async def record(units: Callable[[], VaultUnitOfWork], *entries: AuditRecord) -> None:
    """Append entries in their own transaction (refusals and failures, whatever else rolls back)."""
    async with units() as uow:
        for one in entries:
            await uow.audit.append(one)
        await uow.commit()


async def sign_audit_head(units: Callable[[], VaultUnitOfWork]) -> int | None:
    """Sign a checkpoint at the head of the chain, so its unsigned tail stays short in time."""
    async with units() as uow:
        signed = await uow.audit.sign_head()
        await uow.commit()
    return signed


async def anchor_checkpoints(units: Callable[[], VaultUnitOfWork], anchor: AuditAnchor) -> int:
    """Copy the checkpoints not anchored yet outside the database; how many were copied."""
    since = await anchor.highest_seq()
    async with units() as uow:
        pending = await uow.audit.checkpoints_after(since)
    for checkpoint in pending:
        await anchor.anchor(checkpoint)
    return len(pending)


async def checkpoint_and_anchor(
    units: Callable[[], VaultUnitOfWork], anchor: AuditAnchor
) -> int | None:
    """Sign the head of the chain, then anchor every checkpoint signed since the last run."""
    signed = await sign_audit_head(units)
    await anchor_checkpoints(units, anchor)
    return signed


async def verify_audit(
    units: Callable[[], VaultUnitOfWork],
    public_key: Ed25519PublicKey,
    anchor: AuditAnchor | None = None,
) -> VerifyReport:
    """Read the whole chain, its checkpoints and the anchored ones; report the first tampered
    entry. Only the public key is needed."""
    anchored = await anchor.anchored() if anchor is not None else []
    async with units() as uow:
        entries, checkpoints = await uow.audit.chain()
    return verify_chain(entries, checkpoints, public_key, anchored)
