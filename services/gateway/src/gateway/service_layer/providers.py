"""Provider accounts: the gateway keeps the credentials, matching's directory the profile."""

from __future__ import annotations

from typing import Protocol

from gateway.domain.errors import InvalidField
from gateway.domain.model import (
    Organisation,
    OrganisationKind,
    ProviderProfile,
    SignUp,
    SignUpProvider,
    User,
)
from gateway.service_layer.accounts import sign_up_quietly
from gateway.service_layer.unit_of_work import GatewayUnitOfWork, Passwords


class ProviderDirectory(Protocol):
    """Matching's register of providers, as the gateway uses it."""

    async def register(self, organisation: Organisation, profile: ProviderProfile) -> None:
        """Register (or update) the provider whose id is the organisation's id; InvalidField
        names the REST field of a profile matching refuses."""


async def sign_up_provider(
    command: SignUpProvider,
    uow: GatewayUnitOfWork,
    passwords: Passwords,
    directory: ProviderDirectory,
) -> tuple[Organisation, User]:
    """Open the provider's account, then register it with matching.

    Registered inside the caller's unit of work, before it commits: when matching refuses the
    profile, no account is left behind; when the commit fails afterwards, matching holds a
    provider no credential can act for, harmless, and a retry registers a new one. An e-mail
    that already has an account is answered alike and nothing is opened or registered
    (`sign_up_quietly`).
    """
    if not command.siren.strip():
        raise InvalidField("siren", "is required for a provider")
    organisation, user, opened = await sign_up_quietly(
        SignUp(
            organisation_name=command.organisation_name,
            kind=OrganisationKind.PROVIDER,
            siren=command.siren,
            email=command.email,
            password=command.password,
        ),
        uow,
        passwords,
    )
    if opened:
        await directory.register(organisation, command.profile)
    return organisation, user
