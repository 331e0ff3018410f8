"""`DebtorSirens` on intake's GetDebtorSiren, calling as scoring itself (intake answers no one
else). Intake unreachable or too slow is an outage (`SirenSourceUnreachable`): the event is
retried, never scored without its debtor's SIREN, nor lost."""

from __future__ import annotations

import grpc

from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc
from scoring.service_layer.ports import SirenSourceUnreachable

_OUTAGES = (
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
)


class IntakeDebtorSirens:
    """The debtors' SIRENs, one GetDebtorSiren each."""

    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float = 5.0) -> None:
        self.stub = intake_pb2_grpc.IntakeServiceStub(channel)
        self.timeout_seconds = timeout_seconds

    async def siren_of(self, case_id: str) -> str | None:
        request = intake_pb2.GetDebtorSirenRequest(case_id=case_id)
        try:
            answer = await self.stub.GetDebtorSiren(request, timeout=self.timeout_seconds)
        except grpc.aio.AioRpcError as error:
            if error.code() in _OUTAGES:
                raise SirenSourceUnreachable(
                    f"intake: GetDebtorSiren {error.code().name}: {error.details()}"
                ) from error
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise  # refused (a wiring fault): retried, then dead-lettered for an operator
        return answer.siren or None
