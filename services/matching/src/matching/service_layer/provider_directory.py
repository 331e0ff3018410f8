"""Onboarding: providers register (through the gateway's sign-up, or operators), and wait for an
operator's approval before they take part in any auction."""

from __future__ import annotations

from dataclasses import replace

from matching.domain.clock import Clock
from matching.domain.errors import InvalidField, NotFound
from matching.domain.providers import Provider
from matching.service_layer import awaiting_provider
from matching.service_layer.unit_of_work import MatchingUnitOfWork


async def register_provider(provider: Provider, uow: MatchingUnitOfWork, *, clock: Clock) -> None:
    """Register (or update) a provider; one SIREN belongs to one provider. Changing a profile
    never changes the provider's approval. Cases waiting for a provider it may cover are looked
    at again."""
    other = await uow.providers.with_siren(provider.siren)
    if other is not None and other.provider_id != provider.provider_id:
        raise InvalidField("siren", "already registered to another provider")
    existing = await uow.providers.get(provider.provider_id)
    if existing is not None:
        provider = replace(provider, active=existing.active)
    await uow.providers.save(provider)
    await awaiting_provider.provider_may_take_cases(provider, uow, clock.now())


async def sign_up_provider(provider: Provider, uow: MatchingUnitOfWork, *, clock: Clock) -> None:
    """A provider that signed itself up: new, it is pending (in no auction) until an operator
    approves it; known, its profile is updated and its approval kept."""
    if await uow.providers.get(provider.provider_id) is None:
        provider = replace(provider, active=False)
    await register_provider(provider, uow, clock=clock)


async def set_provider_approval(
    provider_id: str, approved: bool, uow: MatchingUnitOfWork, *, clock: Clock
) -> Provider:
    """An operator approved (or rejected) the provider: approved, it takes part in the next
    auctions and waiting cases it may cover are looked at again; rejected, it takes part in none
    (what it holds already stays until it ends)."""
    provider = await uow.providers.get(provider_id.strip())
    if provider is None:
        raise NotFound("provider: no such provider")
    provider = replace(provider, active=approved)
    await uow.providers.save(provider)
    await awaiting_provider.provider_may_take_cases(provider, uow, clock.now())
    return provider
