"""Accounts: sign-up, log-in, API keys, and partners' referred creditors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from gateway.adapters.rate_limits import CREATE_KEY, LOG_IN, SIGN_UP
from gateway.domain.errors import NotAllowed
from gateway.domain.model import CreateReferredCreditor, OrganisationKind, SignUp
from gateway.entrypoints.api.deps import (
    CurrentPrincipal,
    Services,
    client_address,
    rate_limited,
)
from gateway.entrypoints.api.idempotency import Idempotent, Outcome
from gateway.entrypoints.api.problems import problem_responses
from gateway.schemas.accounts import (
    ApiKeyList,
    ApiKeyRequest,
    ApiKeyView,
    MeResponse,
    NewApiKeyResponse,
    OrganisationList,
    OrganisationView,
    ReferredCreditorRequest,
    SignUpRequest,
    SignUpResponse,
    TokenRequest,
    TokenResponse,
)
from gateway.service_layer import accounts, web_sessions
from gateway.service_layer.unit_of_work import GatewayUnitOfWork

router = APIRouter(prefix="/v1", responses=problem_responses(422))


def _json(model: BaseModel) -> Any:
    return model.model_dump(mode="json")


@router.post(
    "/accounts",
    tags=["accounts"],
    summary="Sign up: open a creditor or partner organisation with its first user",
    status_code=status.HTTP_201_CREATED,
    response_model=SignUpResponse,
    responses=problem_responses(409, 422, 429, 503),
    dependencies=[rate_limited(SIGN_UP)],
)
async def sign_up(body: SignUpRequest, services: Services, once: Idempotent) -> JSONResponse:
    """Open an organisation; log in with POST /v1/auth/token afterwards.

    An e-mail that already has an account gets the same answer and nothing is opened: signing
    up does not tell who is a customer. Its owner logs in with the password it had."""
    command = SignUp(
        organisation_name=body.organisation_name,
        kind=OrganisationKind(body.kind),
        siren=body.siren,
        email=str(body.email),
        password=body.password,
    )

    async def effect(uow: GatewayUnitOfWork) -> Outcome:
        organisation, user, _ = await accounts.sign_up_quietly(command, uow, services.passwords)
        view = SignUpResponse(
            organisation=OrganisationView.of(organisation), user_id=user.user_id, email=user.email
        )
        return Outcome(status.HTTP_201_CREATED, _json(view))

    return await once.answer("anonymous", _json(body), effect)


@router.post(
    "/auth/token",
    tags=["accounts"],
    summary="Log in: exchange email and password for a short-lived access token",
    response_model=TokenResponse,
    responses=problem_responses(401, 422, 429, 503),
    dependencies=[rate_limited(LOG_IN)],
)
async def issue_token(
    body: TokenRequest, services: Services, request: Request, response: Response
) -> TokenResponse:
    """No Idempotency-Key here: logging in changes nothing, and a replayable token would be a
    credential stored at rest.

    Failures lock this address out of this e-mail for a while; guesses from many addresses lock
    the e-mail out, except for a client that shows the device cookie a log-in gave it before.
    """
    email = accounts.normalise_email(body.email)
    cookies = services.device_cookies
    trusted = bool(cookies and cookies.vouches_for(request.cookies.get(cookies.NAME), email))
    async with services.unit_of_work() as uow:
        principal = await accounts.log_in(
            email,
            body.password,
            uow,
            services.passwords,
            services.login_policy,
            address=client_address(request),
            trusted_device=trusted,
        )
        generation = await web_sessions.generation(principal, uow)
    if cookies is not None:
        response.set_cookie(
            cookies.NAME,
            cookies.issue(email),
            max_age=cookies.ttl_seconds,
            path="/v1/auth",
            httponly=True,
            secure=services.secure_cookies,
            samesite="strict",
        )
    issued = services.tokens.issue(principal, generation=generation)
    return TokenResponse(access_token=issued.token, expires_in=issued.expires_in)


@router.get(
    "/me",
    tags=["accounts"],
    summary="Who these credentials belong to",
    response_model=MeResponse,
    responses=problem_responses(401),
)
async def me(principal: CurrentPrincipal) -> MeResponse:
    """The authenticated organisation and user or key."""
    return MeResponse(
        organisation_id=principal.organisation_id,
        kind=principal.kind.value,
        subject=principal.subject,
    )


@router.post(
    "/api-keys",
    tags=["api keys"],
    summary="Create an API key (its secret is shown once)",
    status_code=status.HTTP_201_CREATED,
    response_model=NewApiKeyResponse,
    responses=problem_responses(401, 403, 409, 422, 429),
    dependencies=[rate_limited(CREATE_KEY)],
)
async def create_api_key(
    body: ApiKeyRequest, principal: CurrentPrincipal, once: Idempotent
) -> JSONResponse:
    """A new key for the caller's organisation; only its hash is kept."""

    async def effect(uow: GatewayUnitOfWork) -> Outcome:
        key, made = await accounts.create_api_key(
            principal, body.name, uow, scopes=body.scopes, expires_at=body.expires_at
        )
        view = NewApiKeyResponse(**ApiKeyView.of(key).model_dump(), key=made.plaintext)
        return Outcome(
            status.HTTP_201_CREATED, _json(view), replay_body=_json(view) | {"key": None}
        )

    return await once.answer(principal.organisation_id, _json(body), effect)


@router.get(
    "/api-keys",
    tags=["api keys"],
    summary="List the organisation's API keys (never their secrets)",
    response_model=ApiKeyList,
    responses=problem_responses(401, 403),
)
async def list_api_keys(principal: CurrentPrincipal, services: Services) -> ApiKeyList:
    """Keys of the caller's organisation, newest first."""
    async with services.unit_of_work() as uow:
        keys = await accounts.list_api_keys(principal, uow)
    return ApiKeyList(items=[ApiKeyView.of(key) for key in keys])


@router.delete(
    "/api-keys/{key_id}",
    tags=["api keys"],
    summary="Revoke an API key: it stops working at once",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 403, 404),
)
async def revoke_api_key(
    key_id: Annotated[str, Path(max_length=64)], principal: CurrentPrincipal, services: Services
) -> Response:
    """Revoking twice is harmless; another organisation's key is 404."""
    async with services.unit_of_work() as uow:
        await accounts.revoke_api_key(principal, key_id, uow)
        await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/partner/creditors",
    tags=["partners"],
    summary="Partners: open a creditor you refer (you earn its referral commission)",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganisationView,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_referred_creditor(
    body: ReferredCreditorRequest, principal: CurrentPrincipal, once: Idempotent
) -> JSONResponse:
    """The new creditor records the calling partner as its referrer; act for it with the
    X-On-Behalf-Of header."""
    if principal.kind is not OrganisationKind.PARTNER:
        raise NotAllowed("only partner accounts create creditors")
    command = CreateReferredCreditor(
        partner_id=principal.organisation_id,
        organisation_name=body.organisation_name,
        siren=body.siren,
    )

    async def effect(uow: GatewayUnitOfWork) -> Outcome:
        creditor = await accounts.create_referred_creditor(command, uow)
        return Outcome(status.HTTP_201_CREATED, _json(OrganisationView.of(creditor)))

    return await once.answer(principal.organisation_id, _json(body), effect)


@router.get(
    "/partner/creditors",
    tags=["partners"],
    summary="Partners: the creditors you referred",
    response_model=OrganisationList,
    responses=problem_responses(401, 403),
)
async def list_referred_creditors(
    principal: CurrentPrincipal, services: Services
) -> OrganisationList:
    """Oldest first."""
    if principal.kind is not OrganisationKind.PARTNER:
        raise NotAllowed("only partner accounts refer creditors")
    async with services.unit_of_work() as uow:
        creditors = await uow.accounts.referred_creditors(principal.organisation_id)
    return OrganisationList(items=[OrganisationView.of(c) for c in creditors])
