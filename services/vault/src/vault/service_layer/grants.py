"""Access follows the assignment: a provider reads a case's documents while it works the case.

Facts about one (case, provider) may arrive in any order from different topics: the latest one
by occurrence stands, and a closed case stays closed until a bank reversal reopens it. Every
change, and every fact ignored, is audited.
"""

from __future__ import annotations

from datetime import datetime

from vault.domain.audit import AuditRecord
from vault.domain.commands import CloseCase, FactSource, GrantAccess, ReopenCase, RevokeAccess
from vault.domain.model import tenant_granted
from vault.service_layer.unit_of_work import VaultUnitOfWork


async def granted_tenant(
    uow: VaultUnitOfWork, case_id: str, provider_id: str, at: datetime
) -> str | None:
    """The creditor whose case `provider_id` may work at `at`, checked at each access."""
    return tenant_granted(await uow.grants.live_grants(case_id), provider_id, at)


def _entry(action: str, outcome: str, source: FactSource, provider: str) -> AuditRecord:
    return AuditRecord(
        action=action,
        outcome=outcome,
        actor_kind="service",
        actor_subject=source.producer,
        tenant_id=source.tenant_id,
        case_id=source.case_id,
        document_id="",
        detail=f"provider={provider} event={source.event_id}",
    )


async def grant_access(command: GrantAccess, uow: VaultUnitOfWork) -> None:
    """Let the provider read and add the case's documents, unless a later fact said otherwise."""
    source = command.source
    if await uow.grants.is_closed(command.case_id):
        await uow.audit.append(_entry("grant", "ignored-closed", source, command.provider_id))
        return
    applied = await uow.grants.set(
        case_id=command.case_id,
        provider_id=command.provider_id,
        tenant_id=source.tenant_id,
        round_=command.round,
        active=True,
        as_of=source.occurred_at,
        window_ends_at=command.window_ends_at,
    )
    outcome = "granted" if applied else "ignored-stale"
    await uow.audit.append(_entry("grant", outcome, source, command.provider_id))


async def revoke_access(command: RevokeAccess, uow: VaultUnitOfWork) -> None:
    """End the provider's access to the case, unless a later fact granted it again."""
    source = command.source
    applied = await uow.grants.set(
        case_id=command.case_id,
        provider_id=command.provider_id,
        tenant_id=source.tenant_id,
        round_=0,
        active=False,
        as_of=source.occurred_at,
    )
    outcome = f"revoked-{source.event_type}" if applied else "ignored-stale"
    await uow.audit.append(_entry("revoke", outcome, source, command.provider_id))


async def close_case(command: CloseCase, uow: VaultUnitOfWork) -> None:
    """End every provider's access to the case for good."""
    await uow.grants.close_case(command.case_id, command.source.occurred_at)
    await uow.audit.append(_entry("revoke", "case-closed", command.source, "*"))


async def reopen_case(command: ReopenCase, uow: VaultUnitOfWork) -> None:
    """A reversal reopened the case: its closure is lifted, and the holder it is back with reads
    its documents again until its window ends, as after an assignment. Rotating (no holder), the
    next assignment grants. A redelivered fact changes nothing and is not audited again."""
    source = command.source
    lifted = await uow.grants.reopen_case(command.case_id, source.occurred_at)
    if not command.provider_id:
        if lifted:
            await uow.audit.append(_entry("reopen", "reopened-rotating", source, "*"))
        return
    if not lifted and await _already_granted(uow, command):
        return
    if await uow.grants.is_closed(command.case_id):  # closed again after this reversal
        await uow.audit.append(_entry("grant", "ignored-closed", source, command.provider_id))
        return
    applied = await uow.grants.set(
        case_id=command.case_id,
        provider_id=command.provider_id,
        tenant_id=source.tenant_id,
        round_=command.round,
        active=True,
        as_of=source.occurred_at,
        window_ends_at=command.window_ends_at,
    )
    outcome = f"granted-{source.event_type}" if applied else "ignored-stale"
    await uow.audit.append(_entry("grant", outcome, source, command.provider_id))


async def _already_granted(uow: VaultUnitOfWork, command: ReopenCase) -> bool:
    """Whether this very fact was applied already (a redelivery under the same event)."""
    return any(
        grant.provider_id == command.provider_id and grant.as_of == command.source.occurred_at
        for grant in await uow.grants.live_grants(command.case_id)
    )
