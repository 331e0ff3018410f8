"""Scoring's gRPC API as the gateway's pages use it: a case's score of record and its reasons,
asked as the creditor. The score is context on a case page, never what the page is for: a case
not scored yet, or scoring not answering, reads as a state, not as a refusal of the page."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import grpc

from gateway.adapters.calls import unary
from recouvra.scoring.v1 import scoring_pb2
from recouvra_shared.context import Caller
from recouvra_shared.errors import NotFound, Unavailable

log = logging.getLogger(__name__)
SCORE_DEADLINE_SECONDS = 3.0


@dataclass(frozen=True)
class Reason:
    """One reason code and the same in words."""

    code: str
    text: str


@dataclass(frozen=True)
class ScoreLookup:
    """`state` is scored, pending (not scored yet) or unavailable (scoring did not answer)."""

    state: str
    trustscore: int = 0
    recovery_percent: Decimal = Decimal(0)
    segment: str = ""
    strategy: str = ""
    expected_days_to_recover: int = 0
    debtor_insolvent: bool = False
    reasons: list[Reason] = field(default_factory=list)


class ScoreClient:
    """Scoring's ScoringService."""

    def __init__(self, stub: Any) -> None:
        self.stub = stub  # recouvra.scoring.v1 ScoringServiceStub (generated, untyped)

    async def score_of(self, creditor: Caller, case_id: str) -> ScoreLookup:
        """The case's latest score, as the creditor who owns it may read it."""
        request = scoring_pb2.GetScoreRequest(case_id=case_id)
        try:
            score = await unary(self.stub.GetScore, request, creditor)
        except NotFound:
            return ScoreLookup(state="pending")
        except (Unavailable, grpc.aio.AioRpcError) as exc:
            # The rest of the case page stands without its score.
            log.warning("scoring did not answer for a case page: %s", exc)
            return ScoreLookup(state="unavailable")
        return ScoreLookup(
            state="scored",
            trustscore=score.trustscore,
            recovery_percent=(Decimal(score.recovery_probability or "0") * 100).quantize(
                Decimal(1)
            ),
            segment=score.segment,
            strategy=score.strategy,
            expected_days_to_recover=score.expected_days_to_recover,
            debtor_insolvent=score.debtor_insolvent,
            reasons=[Reason(code=r.code, text=r.text) for r in score.reasons],
        )
