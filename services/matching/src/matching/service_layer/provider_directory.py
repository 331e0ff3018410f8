"""Onboarding: operators register collection providers."""

from __future__ import annotations

from matching.domain.clock import Clock
from matching.domain.errors import InvalidField
from matching.domain.providers import Provider
from matching.service_layer import awaiting_provider
from matching.service_layer.unit_of_work import MatchingUnitOfWork


async def register_provider(provider: Provider, uow: MatchingUnitOfWork, *, clock: Clock) -> None:
    """Register (or update) a provider; one SIREN belongs to one provider. Cases waiting for a
    provider it may cover are looked at again."""
    other = await uow.providers.with_siren(provider.siren)
    if other is not None and other.provider_id != provider.provider_id:
        raise InvalidField("siren", "already registered to another provider")
    await uow.providers.save(provider)
    await awaiting_provider.provider_may_take_cases(provider, uow, clock.now())
