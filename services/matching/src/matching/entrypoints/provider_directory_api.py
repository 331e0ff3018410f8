"""Onboarding of providers by operators over gRPC."""

from __future__ import annotations

from collections.abc import Callable

import grpc

from matching.domain.clock import Clock
from matching.domain.providers import new_provider
from matching.entrypoints.callers import require_operator, require_operator_person
from matching.service_layer.provider_directory import set_provider_approval, sign_up_provider
from matching.service_layer.unit_of_work import MatchingUnitOfWork
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra.matching.v1 import bidding_pb2_grpc as pb_grpc


class ProviderDirectoryApi(pb_grpc.ProviderDirectoryServiceServicer):
    """Providers are registered (pending), and operators approve or reject them."""

    def __init__(self, units: Callable[[], MatchingUnitOfWork], clock: Clock) -> None:
        self.units = units
        self.clock = clock

    async def RegisterProvider(
        self, request: pb.RegisterProviderRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterProviderReply:
        require_operator()
        provider = new_provider(
            provider_id=request.provider_id,
            name=request.name,
            kind=request.kind,
            siren=request.siren,
            regions=list(request.regions),
            serves_business=request.serves_business,
            serves_consumer=request.serves_consumer,
            min_amount_minor=request.min_amount_minor,
            max_amount_minor=request.max_amount_minor,
            judicial=request.judicial,
            capacity=request.capacity,
        )
        async with self.units() as uow:
            await sign_up_provider(provider, uow, clock=self.clock)
            await uow.commit()
        return pb.RegisterProviderReply(provider_id=provider.provider_id)

    async def SetProviderApproval(
        self, request: pb.SetProviderApprovalRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetProviderApprovalReply:
        require_operator_person()
        async with self.units() as uow:
            provider = await set_provider_approval(
                request.provider_id, request.approved, uow, clock=self.clock
            )
            await uow.commit()
        return pb.SetProviderApprovalReply(
            provider_id=provider.provider_id, approved=provider.active
        )
