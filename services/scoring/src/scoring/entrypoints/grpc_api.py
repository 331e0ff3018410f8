"""Scoring's gRPC API."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date

import grpc

from recouvra.scoring.v1 import scoring_pb2, scoring_pb2_grpc
from recouvra_shared.coalescing import Coalescer
from recouvra_shared.context import caller_var
from recouvra_shared.errors import PermissionDenied, Unauthenticated
from scoring.domain.commands import GetScoreOfRecord, QuoteScore
from scoring.domain.errors import InvalidInput
from scoring.domain.facts import CaseFacts, debtor_siren_of
from scoring.domain.scores import StoredScore
from scoring.service_layer.quotes import quote_scores
from scoring.service_layer.scorer import Scorer
from scoring.service_layer.scores_of_record import score_of_record
from scoring.service_layer.unit_of_work import QuoteUnitOfWork, ScoringUnitOfWork

EVIDENCE = {
    scoring_pb2.EVIDENCE_UNSPECIFIED: None,
    scoring_pb2.EVIDENCE_PRESENT: True,
    scoring_pb2.EVIDENCE_ABSENT: False,
}


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, "must be an ISO 8601 date (YYYY-MM-DD)") from None


def _uuid_or_none(value: str) -> str | None:
    """The id in its canonical form, or None when there is none or it is not a UUID."""
    try:
        return str(uuid.UUID(value)) if value else None
    except ValueError:
        return None


def _case_id(value: str) -> str | None:
    """The case a request names, if any; a malformed id is refused."""
    case_id = _uuid_or_none(value)
    if value and case_id is None:
        raise InvalidInput("case_id", "must be a UUID")
    return case_id


def facts_from_request(request: scoring_pb2.ScoreRequest) -> CaseFacts:
    """The facts of a Score request, checked field by field."""
    if not request.HasField("amount"):
        raise InvalidInput("amount", "is required")
    if not request.due_date:
        raise InvalidInput("due_date", "is required")
    currency = request.amount.currency
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise InvalidInput("amount.currency", "must be an ISO 4217 code such as EUR")
    if request.HasField("paid") and request.paid.currency != request.amount.currency:
        raise InvalidInput("paid.currency", "must be the currency of amount")
    siren = None
    if request.debtor_siren:
        siren = debtor_siren_of(request.debtor_siren)
        if siren is None:
            raise InvalidInput("debtor_siren", "must be a valid 9-digit SIREN")
    if request.evidence not in EVIDENCE:
        raise InvalidInput("evidence", "must be one of the Evidence values")
    return CaseFacts(
        amount_minor=request.amount.minor_units,
        currency=request.amount.currency,
        paid_minor=request.paid.minor_units if request.HasField("paid") else 0,
        issue_date=_date(request.issue_date, "issue_date") if request.issue_date else None,
        due_date=_date(request.due_date, "due_date"),
        debtor_is_business=request.debtor_is_business,
        disputed=request.disputed,
        debtor_siren=siren,
        invoice_count=max(1, request.invoice_count),
        evidence_present=EVIDENCE[request.evidence],
    )


def to_message(stored: StoredScore) -> scoring_pb2.Score:
    """A stored score as the API shows it (never its inputs: they hold other creditors' counts)."""
    result = stored.score
    return scoring_pb2.Score(
        case_id=stored.case_id or "",
        trustscore=result.trustscore,
        recovery_probability=str(result.recovery_probability),
        segment=result.segment,
        strategy=result.strategy,
        reason_codes=result.reason_codes,
        model_version=result.model_version,
        expected_days_to_recover=result.expected_days_to_recover,
        debtor_insolvent=result.debtor_insolvent,
        reasons=[scoring_pb2.Reason(code=r.code, text=r.text) for r in result.reasons],
        score_id=stored.score_id,
        as_of=stored.as_of.isoformat(),
        scoring_stopped=stored.scoring_stopped,
    )


# The services (by the name their signed token carries) that may read and quote any creditor's
# scores. None today: scores reach the other services as events.
SERVICES_SCORING_FOR_EVERY_CREDITOR: frozenset[str] = frozenset()


def creditor_tenant() -> str | None:
    """The tenant of the creditor calling, or None for a service on the allow-list above;
    anyone else is refused."""
    caller = caller_var.get()
    if caller is None:
        raise Unauthenticated("caller: no authenticated caller")
    if caller.kind == "creditor" and caller.tenant_id:
        return caller.tenant_id
    if caller.kind == "service" and caller.subject in SERVICES_SCORING_FOR_EVERY_CREDITOR:
        return None
    raise PermissionDenied("caller: only a creditor may ask for its scores")


class ScoringApi(scoring_pb2_grpc.ScoringServiceServicer):
    """ScoringService: requests become queries and quotes on scoring's unit of work."""

    def __init__(
        self,
        units: Callable[[], ScoringUnitOfWork],
        scorer: Scorer,
        today: Callable[[], date] = date.today,
        quote_units: Callable[[], QuoteUnitOfWork] | None = None,
    ) -> None:
        self.units = units
        self.scorer = scorer
        self.today = today
        # A batch of quotes reads cases and keeps scores, nothing else: it may run on a lighter
        # unit of work than the other use cases (adapters/quote_unit_of_work.py).
        self.quote_units: Callable[[], QuoteUnitOfWork] = quote_units or units
        # Concurrent Score calls share a unit of work and its commit (see coalescing.py).
        self.quotes: Coalescer[QuoteScore, StoredScore] = Coalescer(self._quote_batch)

    async def _quote_batch(
        self, commands: Sequence[QuoteScore]
    ) -> Sequence[StoredScore | BaseException]:
        async with self.quote_units() as uow:
            outcomes = await quote_scores(commands, uow, self.scorer)
            await uow.commit()
        return outcomes

    async def GetScore(
        self, request: scoring_pb2.GetScoreRequest, context: grpc.aio.ServicerContext
    ) -> scoring_pb2.Score:
        # A malformed id reads like a missing case.
        query = GetScoreOfRecord(_uuid_or_none(request.case_id), creditor_tenant())
        async with self.units() as uow:
            found = await score_of_record(query, uow)
        return to_message(found)

    async def Score(
        self, request: scoring_pb2.ScoreRequest, context: grpc.aio.ServicerContext
    ) -> scoring_pb2.Score:
        tenant = creditor_tenant()
        case_id = _case_id(request.case_id)
        facts = facts_from_request(request)
        as_of = _date(request.as_of, "as_of") if request.as_of else self.today()
        stored = await self.quotes.submit(QuoteScore(facts, case_id, tenant, as_of))
        return to_message(stored)
