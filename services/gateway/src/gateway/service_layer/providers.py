"""Provider accounts: the gateway keeps the credentials and the vetting, matching's directory the
profile. A new provider is pending until an operator approves it (service_layer.operators)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from gateway.domain.errors import Conflict, InvalidField
from gateway.domain.model import (
    Organisation,
    OrganisationKind,
    ProviderProfile,
    SignUp,
    SignUpProvider,
    User,
    Vetting,
    new_id,
    valid_siren,
)
from gateway.domain.operators import FlagRule, VettingFlag, names_differ
from gateway.service_layer.accounts import sign_up_quietly
from gateway.service_layer.unit_of_work import GatewayUnitOfWork, Passwords
from recouvra_shared.company_registry import RegisteredCompany
from recouvra_shared.errors import Violation
from recouvra_shared.unit_of_work import utcnow


class ProviderDirectory(Protocol):
    """Matching's register of providers, as the gateway uses it."""

    async def register(self, organisation: Organisation, profile: ProviderProfile) -> None:
        """Register (or update) the provider whose id is the organisation's id; InvalidField
        names the REST field of a profile matching refuses. Matching keeps a new provider out of
        every auction until it is approved."""

    async def set_approval(self, provider_id: str, approved: bool, operator: str) -> None:
        """Tell matching an operator approved (or rejected) the provider."""


class CompanyRegistry(Protocol):
    """The company registry (offline SIRENE extract now)."""

    async def lookup(self, siren: str) -> RegisteredCompany | None:
        """The company with this SIREN, or None when the registry does not know it."""


class SirenClaimed(Conflict):
    """Another account already claimed this SIREN (operators were told)."""

    def __init__(self) -> None:
        super().__init__(violations=[Violation("siren", "is already claimed by another account")])


async def registered_siren(siren: str, registry: CompanyRegistry) -> RegisteredCompany | None:
    """What the registry says of a valid SIREN; a company it lists as ceased is refused."""
    company = await registry.lookup(siren)
    if company is not None and not company.active:
        raise InvalidField("siren", "the company registry lists this company as ceased")
    return company


async def flag_claimed_siren(
    holder: Organisation, email: str, units: Callable[[], GatewayUnitOfWork]
) -> None:
    """Flag the provider holding a SIREN that a sign-up claimed again, in a transaction of its
    own: the refused sign-up leaves nothing else behind."""
    async with units() as uow:
        await uow.operations.raise_flag(
            VettingFlag(
                flag_id=new_id(),
                organisation_id=holder.organisation_id,
                rule=FlagRule.SIREN_CLAIMED_AGAIN,
                detail=f"a provider sign-up as {email.strip().lower()} claimed SIREN "
                f"{holder.siren}",
                raised_at=utcnow(),
            )
        )
        await uow.commit()


async def sign_up_provider(
    command: SignUpProvider,
    uow: GatewayUnitOfWork,
    passwords: Passwords,
    directory: ProviderDirectory,
    registry: CompanyRegistry,
    units: Callable[[], GatewayUnitOfWork],
) -> tuple[Organisation, User]:
    """Open the provider's account, pending an operator's approval, then register it with
    matching (which keeps it out of auctions until then).

    The SIREN must be valid and not ceased in the company registry; one the registry does not
    know, or under another name, is flagged for the operators who vet the provider. A SIREN
    another provider holds is refused, and that provider flagged (`units` opens the
    transaction that keeps the flag). Registered
    inside the caller's unit of work, before it commits: when matching refuses the profile, no
    account is left behind; when the commit fails afterwards, matching holds a provider no
    credential can act for, harmless, and a retry registers a new one. An e-mail that already
    has an account is answered alike and nothing is opened or registered (`sign_up_quietly`).
    """
    siren = valid_siren(command.siren)
    if siren is None:
        raise InvalidField("siren", "is required for a provider")
    company = await registered_siren(siren, registry)
    holder = await uow.accounts.provider_with_siren(siren)
    if holder is not None:
        await flag_claimed_siren(holder, command.email, units)
        raise SirenClaimed()
    organisation, user, opened = await sign_up_quietly(
        SignUp(
            organisation_name=command.organisation_name,
            kind=OrganisationKind.PROVIDER,
            siren=siren,
            email=command.email,
            password=command.password,
        ),
        uow,
        passwords,
        vetting=Vetting.PENDING,
    )
    if opened:
        await directory.register(organisation, command.profile)
        for rule, detail in _registry_doubts(organisation, company):
            await uow.operations.raise_flag(
                VettingFlag(new_id(), organisation.organisation_id, rule, detail, utcnow())
            )
    return replace(organisation, vetting=Vetting.PENDING), user


def _registry_doubts(
    organisation: Organisation, company: RegisteredCompany | None
) -> list[tuple[FlagRule, str]]:
    if company is None:
        return [(FlagRule.SIREN_NOT_IN_REGISTRY, f"SIREN {organisation.siren} is not registered")]
    if names_differ(organisation.name, company.name):
        return [
            (
                FlagRule.NAME_DIFFERS_FROM_REGISTRY,
                f"signed up as {organisation.name!r}; the registry names {company.name!r}",
            )
        ]
    return []
