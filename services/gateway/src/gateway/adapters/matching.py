"""Matching's gRPC API as the gateway uses it: its refusals become the gateway's, by REST name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import grpc

from gateway.domain.errors import InvalidField, NotFound
from gateway.domain.model import Organisation, ProviderProfile
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra_shared.context import Caller, caller_var

# The gateway onboards providers as an internal service: matching refuses anyone else.
ONBOARDING_CALLER = Caller(kind="service", subject="gateway:provider-sign-up")

# Matching's field names for a provider, as the sign-up body names them.
PROFILE_FIELDS = {
    "name": "organisation_name",
    "siren": "siren",
    "kind": "profile.kind",
    "regions": "profile.regions",
    "serves_business": "profile.serves_business",
    "serves_consumer": "profile.serves_consumer",
    "min_amount_minor": "profile.min_amount",
    "max_amount_minor": "profile.max_amount",
    "judicial": "profile.judicial",
    "capacity": "profile.capacity",
}


def refusal(exc: grpc.aio.AioRpcError, fields: Mapping[str, str], not_found: str) -> Exception:
    """Matching's INVALID_ARGUMENT as InvalidField named as the REST body names it, and every
    NOT_FOUND as one fixed message, so a foreign id reads exactly like a missing one; any other
    status is returned unchanged (the problem handler maps it)."""
    code = exc.code()
    if code is grpc.StatusCode.NOT_FOUND:
        return NotFound(not_found)
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        field, sep, rule = (exc.details() or "").partition(": ")
        if not sep:
            return InvalidField("body", field)
        return InvalidField(fields.get(field, field), rule)
    unchanged: Exception = exc
    return unchanged


class GrpcProviderDirectory:
    """Registers providers with matching's ProviderDirectoryService."""

    def __init__(self, stub: Any) -> None:
        self.stub = stub  # recouvra.matching.v1 ProviderDirectoryServiceStub (generated)

    async def register(self, organisation: Organisation, profile: ProviderProfile) -> None:
        """The provider's id in matching is its organisation id in the gateway."""
        request = pb.RegisterProviderRequest(
            provider_id=organisation.organisation_id,
            name=organisation.name,
            kind=profile.kind,
            siren=organisation.siren or "",
            regions=list(profile.regions),
            serves_business=profile.serves_business,
            serves_consumer=profile.serves_consumer,
            min_amount_minor=profile.min_amount_minor,
            max_amount_minor=profile.max_amount_minor,
            judicial=profile.judicial,
            capacity=profile.capacity,
        )
        token = caller_var.set(ONBOARDING_CALLER)
        try:
            await self.stub.RegisterProvider(request)
        except grpc.aio.AioRpcError as exc:
            mapped = refusal(exc, PROFILE_FIELDS, "provider: no such provider")
            if mapped is exc:
                raise
            raise mapped from exc
        finally:
            caller_var.reset(token)
