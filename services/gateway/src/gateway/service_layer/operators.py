"""Operator use cases: making operators (command line only), vetting providers, reading the
audit trail and the flags. Every operator action is written to the audit trail in the same
transaction as its effect; the caller commits."""

from __future__ import annotations

from gateway.domain.errors import EmailTaken
from gateway.domain.model import (
    Organisation,
    OrganisationKind,
    Principal,
    User,
    Vetting,
    check_password,
    new_id,
)
from gateway.domain.operators import (
    OPERATORS_ORGANISATION,
    AuditEntry,
    OperatorAction,
    VettingFlag,
    check_operator,
    reason_given,
    vetted,
)
from gateway.service_layer.accounts import normalise_email
from gateway.service_layer.providers import ProviderDirectory
from gateway.service_layer.unit_of_work import GatewayUnitOfWork, Passwords
from recouvra_shared.unit_of_work import utcnow

MAX_TRAIL = 500


async def create_operator(
    email: str, password: str, actor: str, uow: GatewayUnitOfWork, passwords: Passwords
) -> User:
    """A new operator user, in the operators' organisation (made with the first one). Only the
    command line calls this: no route opens an operator account."""
    check_password(password)
    email = normalise_email(email)
    if await uow.accounts.user_by_email(email) is not None:
        raise EmailTaken()
    now = utcnow()
    existing = await uow.accounts.organisations_of_kind(OrganisationKind.OPERATOR)
    if existing:
        organisation = existing[0]
    else:
        organisation = Organisation(
            organisation_id=new_id(),
            kind=OrganisationKind.OPERATOR,
            name=OPERATORS_ORGANISATION,
            siren=None,
            referrer_id=None,
            created_at=now,
        )
        await uow.accounts.add_organisation(organisation)
    user = User(
        user_id=new_id(),
        organisation_id=organisation.organisation_id,
        email=email,
        password_hash=await passwords.hash(password),
        created_at=now,
    )
    if not await uow.accounts.add_user(user):
        raise EmailTaken()
    await uow.operations.record(
        AuditEntry(
            entry_id=new_id(),
            actor=actor,
            action=OperatorAction.OPERATOR_CREATED,
            target=f"user:{user.user_id}",
            at=now,
            detail={"email": email},
        )
    )
    return user


async def decide_on_provider(
    actor: str,
    provider_id: str,
    decision: Vetting,
    reason: str,
    uow: GatewayUnitOfWork,
    directory: ProviderDirectory,
) -> Organisation:
    """Approve or reject a provider, in the gateway and in matching (which then lets it into
    auctions, or keeps it out), and record who did it. A rejection must say why.

    Matching is told before the caller commits: when it cannot be told, nothing changes here;
    when the commit fails afterwards, deciding again sets both alike."""
    provider = vetted(await uow.accounts.get_organisation(provider_id), decision)
    why = reason_given(reason) if decision is Vetting.REJECTED else reason.strip()
    await uow.accounts.set_vetting(provider.organisation_id, decision)
    await directory.set_approval(
        provider.organisation_id, decision is Vetting.APPROVED, operator=actor
    )
    action = (
        OperatorAction.PROVIDER_APPROVED
        if decision is Vetting.APPROVED
        else OperatorAction.PROVIDER_REJECTED
    )
    await uow.operations.record(
        AuditEntry(
            entry_id=new_id(),
            actor=actor,
            action=action,
            target=f"organisation:{provider.organisation_id}",
            at=utcnow(),
            detail={"reason": why, "siren": provider.siren or ""},
        )
    )
    return provider


async def decide_as_operator(
    principal: Principal,
    provider_id: str,
    decision: Vetting,
    reason: str,
    uow: GatewayUnitOfWork,
    directory: ProviderDirectory,
) -> Organisation:
    """`decide_on_provider` for an operator who called the API."""
    check_operator(principal)
    return await decide_on_provider(
        principal.subject, provider_id, decision, reason, uow, directory
    )


async def providers_to_vet(
    principal: Principal, vetting: Vetting | None, uow: GatewayUnitOfWork
) -> list[tuple[Organisation, list[VettingFlag]]]:
    """Providers (in one vetting state, when given), oldest first, each with its flags. The
    read is recorded in the audit trail (the caller commits)."""
    check_operator(principal)
    providers = await uow.accounts.organisations_of_kind(OrganisationKind.PROVIDER, vetting)
    flags = await uow.operations.flags()
    await _record_read(
        uow,
        principal,
        OperatorAction.PROVIDERS_READ,
        "organisations:provider",
        {"vetting": vetting.value if vetting else "any", "shown": len(providers)},
    )
    return [(p, [f for f in flags if f.organisation_id == p.organisation_id]) for p in providers]


async def audit_trail(principal: Principal, uow: GatewayUnitOfWork, limit: int) -> list[AuditEntry]:
    """The latest operator actions, newest first; this read is recorded too (the caller
    commits), after the entries it shows."""
    check_operator(principal)
    entries = await uow.operations.trail(max(1, min(limit, MAX_TRAIL)))
    await _record_read(
        uow, principal, OperatorAction.AUDIT_READ, "operator_audit", {"shown": len(entries)}
    )
    return entries


async def _record_read(
    uow: GatewayUnitOfWork,
    principal: Principal,
    action: OperatorAction,
    target: str,
    detail: dict[str, object],
) -> None:
    await uow.operations.record(
        AuditEntry(
            entry_id=new_id(),
            actor=principal.subject,
            action=action,
            target=target,
            at=utcnow(),
            detail=detail,
        )
    )
