"""Operators: vet providers (approve, reject), read the flags and the audit trail. Operator
accounts are made only by `python -m gateway operators create EMAIL`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import JSONResponse

from gateway.domain.model import Vetting
from gateway.entrypoints.api.deps import CurrentOperator, Providers, Services
from gateway.entrypoints.api.idempotency import Idempotent, Outcome
from gateway.entrypoints.api.problems import problem_responses
from gateway.schemas.operators import (
    AuditEntryView,
    AuditTrail,
    DecisionRequest,
    DecisionView,
    ProvidersToVet,
    ProviderToVet,
    VettingState,
)
from gateway.service_layer import operators
from gateway.service_layer.unit_of_work import GatewayUnitOfWork

router = APIRouter(prefix="/v1/operator", tags=["operators"], responses=problem_responses(422))

ProviderId = Annotated[str, Path(max_length=64, description="The provider's id")]


@router.get(
    "/providers",
    summary="Operators: provider accounts to vet, with what to look at",
    response_model=ProvidersToVet,
    responses=problem_responses(401, 403),
)
async def list_providers(
    operator: CurrentOperator,
    services: Services,
    vetting: Annotated[VettingState | None, Query(description="Only this state")] = None,
) -> ProvidersToVet:
    """Oldest first; each with its flags (a SIREN claimed again, not in the registry, ...).
    The read itself goes into the audit trail."""
    async with services.unit_of_work() as uow:
        found = await operators.providers_to_vet(
            operator, Vetting(vetting) if vetting else None, uow
        )
        await uow.commit()
    return ProvidersToVet(items=[ProviderToVet.of(p, flags) for p, flags in found])


async def _decide(
    decision: Vetting,
    provider_id: str,
    body: DecisionRequest,
    operator: CurrentOperator,
    directory: Providers,
    once: Idempotent,
) -> JSONResponse:
    async def record_decision(uow: GatewayUnitOfWork) -> Outcome:
        provider = await operators.decide_as_operator(
            operator, provider_id, decision, body.reason, uow, directory
        )
        view = DecisionView(id=provider.organisation_id, vetting=decision.value)
        return Outcome(status.HTTP_200_OK, view.model_dump(mode="json"))

    # Keys are per operator (they share one organisation).
    return await once.answer(
        operator.subject, {"id": provider_id, **body.model_dump()}, record_decision
    )


@router.post(
    "/providers/{provider_id}/approve",
    summary="Operators: approve a provider: it takes part in auctions from now on",
    response_model=DecisionView,
    responses=problem_responses(401, 403, 404, 409),
)
async def approve_provider(
    provider_id: ProviderId,
    body: DecisionRequest,
    operator: CurrentOperator,
    directory: Providers,
    once: Idempotent,
) -> JSONResponse:
    """Recorded in the audit trail with the operator and the reason (optional: `{}`)."""
    return await _decide(Vetting.APPROVED, provider_id, body, operator, directory, once)


@router.post(
    "/providers/{provider_id}/reject",
    summary="Operators: reject (or suspend) a provider: it takes part in no auction",
    response_model=DecisionView,
    responses=problem_responses(401, 403, 404, 409),
)
async def reject_provider(
    provider_id: ProviderId,
    body: DecisionRequest,
    operator: CurrentOperator,
    directory: Providers,
    once: Idempotent,
) -> JSONResponse:
    """A reason is required; recorded in the audit trail."""
    return await _decide(Vetting.REJECTED, provider_id, body, operator, directory, once)


@router.get(
    "/audit",
    summary="Operators: the audit trail of every operator action, newest first",
    response_model=AuditTrail,
    responses=problem_responses(401, 403),
)
async def audit(
    operator: CurrentOperator,
    services: Services,
    limit: Annotated[int, Query(ge=1, le=operators.MAX_TRAIL)] = 100,
) -> AuditTrail:
    """Who did what, on what, when; reads included, this one too (recorded after it)."""
    async with services.unit_of_work() as uow:
        entries = await operators.audit_trail(operator, uow, limit)
        await uow.commit()
    return AuditTrail(items=[AuditEntryView.of(entry) for entry in entries])
