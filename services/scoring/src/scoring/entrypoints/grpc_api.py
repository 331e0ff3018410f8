"""Scoring's gRPC API."""

from __future__ import annotations

import grpc

from recouvra.scoring.v1 import scoring_pb2, scoring_pb2_grpc
from recouvra_shared.context import caller_var
from recouvra_shared.db import Database
from recouvra_shared.grpc import abort
from scoring.service_layer import handlers


class ScoringApi(scoring_pb2_grpc.ScoringServiceServicer):
    """ScoringService over the scoring database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def GetScore(
        self, request: scoring_pb2.GetScoreRequest, context: grpc.aio.ServicerContext
    ) -> scoring_pb2.Score:
        try:
            async with self.database.unit_of_work() as uow:
                found = await handlers.latest_score(request.case_id, uow)
        except ValueError:
            found = None
        caller = caller_var.get()
        foreign = (
            found is not None
            and caller is not None
            and caller.kind == "creditor"
            and caller.tenant_id != found[0]
        )
        if found is None or foreign:
            await abort(context, grpc.StatusCode.NOT_FOUND, "case_id: no score for this case")
        _, score = found
        return scoring_pb2.Score(
            case_id=request.case_id,
            trustscore=score.trustscore,
            recovery_probability=str(score.recovery_probability),
            segment=score.segment,
            strategy=score.strategy,
            reason_codes=score.reason_codes,
            model_version=score.model_version,
        )
