"""Provider accounts: sign-up opens the account here and registers the profile with matching."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from gateway.adapters.rate_limits import SIGN_UP
from gateway.domain.model import SignUpProvider
from gateway.entrypoints.api.deps import Providers, Services, rate_limited
from gateway.entrypoints.api.idempotency import Idempotent, Outcome
from gateway.entrypoints.api.problems import problem_responses
from gateway.schemas.common import Money
from gateway.schemas.providers import (
    ProviderProfileView,
    ProviderSignUpRequest,
    ProviderSignUpResponse,
)
from gateway.service_layer.providers import sign_up_provider
from gateway.service_layer.unit_of_work import GatewayUnitOfWork

router = APIRouter(prefix="/v1/provider", responses=problem_responses(422))


@router.post(
    "/accounts",
    tags=["providers"],
    summary="Sign up as a collection provider (agency, commissaire de justice, lawyer)",
    status_code=status.HTTP_201_CREATED,
    response_model=ProviderSignUpResponse,
    responses=problem_responses(409, 422, 429, 503),
    dependencies=[rate_limited(SIGN_UP)],
)
async def sign_up(
    body: ProviderSignUpRequest, services: Services, directory: Providers, once: Idempotent
) -> JSONResponse:
    """Opens the account and registers the profile with the marketplace, both or neither; log
    in with POST /v1/auth/token afterwards. The organisation id is your provider id.

    The account is `pending` until an operator approves it: until then it sees no auction,
    cannot bid or hold a case. The SIREN must be valid and not ceased in the company registry;
    a SIREN another provider holds is refused (409) and reported to the operators."""
    profile = body.profile.checked()
    command = SignUpProvider(
        organisation_name=body.organisation_name,
        siren=body.siren,
        email=str(body.email),
        password=body.password,
        profile=profile,
    )

    async def open_account(uow: GatewayUnitOfWork) -> Outcome:
        organisation, user = await sign_up_provider(
            command,
            uow,
            services.passwords,
            directory,
            services.companies,
            services.unit_of_work,
        )
        view = ProviderSignUpResponse(
            id=organisation.organisation_id,
            name=organisation.name,
            siren=organisation.siren or "",
            created_at=organisation.created_at,
            user_id=user.user_id,
            email=user.email,
            profile=ProviderProfileView(
                kind=body.profile.kind,
                regions=list(profile.regions),
                serves_business=profile.serves_business,
                serves_consumer=profile.serves_consumer,
                min_amount=Money.of_minor("EUR", profile.min_amount_minor),
                max_amount=Money.of_minor("EUR", profile.max_amount_minor),
                judicial=profile.judicial,
                capacity=profile.capacity,
            ),
            vetting=organisation.vetting.value if organisation.vetting else "pending",
        )
        return Outcome(status.HTTP_201_CREATED, view.model_dump(mode="json"))

    return await once.answer("anonymous", body.model_dump(mode="json"), open_account)
