"""`DebtorNames` on intake's GetCase, calling as settlement itself (intake lets settlement read
every case, to propose a case for a credit by its payer's name). A case intake refuses or does
not know is left out; intake unreachable leaves the rest out too: the queue is listed without
proposals rather than not at all."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import grpc

from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc

log = logging.getLogger(__name__)
_GIVE_UP = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


class IntakeDebtorNames:
    """The debtors' names of cases, one GetCase each."""

    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float = 3.0) -> None:
        self.stub = intake_pb2_grpc.IntakeServiceStub(channel)
        self.timeout_seconds = timeout_seconds

    async def names(self, case_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for case_id in case_ids:
            try:
                case = await self.stub.GetCase(
                    intake_pb2.GetCaseRequest(case_id=case_id), timeout=self.timeout_seconds
                )
            except grpc.aio.AioRpcError as error:
                if error.code() in _GIVE_UP:
                    log.warning("intake unreachable, suspense listed without names: %s", error)
                    break
                continue
            name = case.debtor.name or case.debtor_name
            if name:
                found[case_id] = name
        return found
