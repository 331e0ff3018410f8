"""Accounts: sign-up, log-in, API keys, and partners' referred creditors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from gateway.domain.errors import NotAllowed
from gateway.domain.model import (
    ApiKey,
    CreateReferredCreditor,
    Organisation,
    OrganisationKind,
    SignUp,
)
from gateway.entrypoints.api.deps import (
    CurrentPrincipal,
    GatewayServices,
    IdempotencyKey,
    Services,
)
from gateway.entrypoints.api.problems import problem_responses
from gateway.entrypoints.api.schemas import TextInput
from gateway.service_layer import accounts
from gateway.service_layer.idempotency import Answer, Outcome, once, request_fingerprint
from gateway.service_layer.unit_of_work import GatewayUnitOfWork

router = APIRouter(prefix="/v1", responses=problem_responses(422))
REPLAYED_HEADER = "Idempotent-Replayed"
API_KEY_EXAMPLE: Any = {
    "id": "3e1c4f7a-1c55-4c1e-8f2e-0f1d2b3c4d5e",
    "name": "Billing export",
    "prefix": "rk_live_ab12cd34ef56",
    "created_at": "2026-11-23T10:00:00Z",
    "revoked_at": None,
}
ORGANISATION_EXAMPLE: Any = {
    "id": "0d6f8c1e-9f2a-4a8e-8a41-6d3f0f3b9c10",
    "kind": "creditor",
    "name": "Atelier Dupont SARL",
    "siren": "732829320",
    "referrer_id": None,
    "created_at": "2026-11-23T10:00:00Z",
}


class SignUpRequest(TextInput):
    """Open an organisation with its first user."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "organisation_name": "Atelier Dupont SARL",
                    "kind": "creditor",
                    "siren": "732829320",
                    "email": "finance@atelier-dupont.fr",
                    "password": "correct horse battery staple",
                }
            ]
        },
    )

    organisation_name: str = Field(min_length=1, max_length=200)
    kind: Literal["creditor", "partner"] = Field(
        default="creditor",
        description="creditor: submits its own cases; partner: billing software creating creditors",
    )
    siren: str | None = Field(default=None, max_length=20, description="French SIREN, 9 digits")
    email: EmailStr
    password: str = Field(min_length=12, max_length=256)


class OrganisationView(BaseModel):
    """An organisation (tenant)."""

    model_config = ConfigDict(json_schema_extra={"examples": [ORGANISATION_EXAMPLE]})

    id: str
    kind: Literal["creditor", "partner"]
    name: str
    siren: str | None
    referrer_id: str | None = Field(description="The partner that referred this creditor")
    created_at: datetime

    @classmethod
    def of(cls, organisation: Organisation) -> OrganisationView:
        """The view of a domain organisation."""
        return cls(
            id=organisation.organisation_id,
            kind=organisation.kind.value,
            name=organisation.name,
            siren=organisation.siren,
            referrer_id=organisation.referrer_id,
            created_at=organisation.created_at,
        )


class SignUpResponse(BaseModel):
    """The new organisation and its first user."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "organisation": ORGANISATION_EXAMPLE,
                    "user_id": "5b8f7a52-2d0e-4d4c-9a0a-0a4f2a51c3de",
                    "email": "finance@atelier-dupont.fr",
                }
            ]
        }
    )

    organisation: OrganisationView
    user_id: str
    email: str


class TokenRequest(TextInput):
    """Log in with email and password."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"email": "finance@atelier-dupont.fr", "password": "correct horse battery staple"}
            ]
        },
    )

    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=256)


class TokenResponse(BaseModel):
    """A short-lived access token."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIs...",
                    "token_type": "bearer",
                    "expires_in": 900,
                }
            ]
        }
    )

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class MeResponse(BaseModel):
    """Who the credentials belong to."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "organisation_id": "0d6f8c1e-9f2a-4a8e-8a41-6d3f0f3b9c10",
                    "kind": "creditor",
                    "subject": "user:5b8f7a52-2d0e-4d4c-9a0a-0a4f2a51c3de",
                }
            ]
        }
    )

    organisation_id: str
    kind: Literal["creditor", "partner", "provider"]
    subject: str = Field(description="user:<id> or key:<id>")


class ApiKeyRequest(TextInput):
    """Name a new API key."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "Billing export"}]}
    )

    name: str = Field(min_length=1, max_length=100)


class ApiKeyView(BaseModel):
    """An API key as listed: never its secret."""

    model_config = ConfigDict(json_schema_extra={"examples": [API_KEY_EXAMPLE]})

    id: str
    name: str
    prefix: str = Field(description="Visible start of the key, to recognise it")
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyView:
        """The view of a domain key."""
        return cls(
            id=key.key_id,
            name=key.name,
            prefix=key.prefix,
            created_at=key.created_at,
            revoked_at=key.revoked_at,
        )


class NewApiKeyResponse(ApiKeyView):
    """A new API key: `key` is shown in this response only (a replay shows null)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3e1c4f7a-1c55-4c1e-8f2e-0f1d2b3c4d5e",
                    "name": "Billing export",
                    "prefix": "rk_live_ab12cd34ef56",
                    "created_at": "2026-11-23T10:00:00Z",
                    "revoked_at": None,
                    "key": "rk_live_ab12cd34ef56_Q2h5cX...",
                }
            ]
        }
    )

    key: str | None = Field(description="The full key; store it now, it is never shown again")


class ReferredCreditorRequest(TextInput):
    """A partner opens a creditor it refers."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"organisation_name": "Boulangerie Martin", "siren": "552100554"}]
        },
    )

    organisation_name: str = Field(min_length=1, max_length=200)
    siren: str | None = Field(default=None, max_length=20)


class ApiKeyList(BaseModel):
    """The organisation's API keys, newest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [API_KEY_EXAMPLE]}]})

    items: list[ApiKeyView]


class OrganisationList(BaseModel):
    """Organisations, oldest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [ORGANISATION_EXAMPLE]}]})

    items: list[OrganisationView]


def answer(result: Answer, response_headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON response of an idempotent POST, marked when it is a replay."""
    headers = dict(response_headers or {})
    if result.replayed:
        headers[REPLAYED_HEADER] = "true"
    return JSONResponse(result.body, status_code=result.status_code, headers=headers)


async def answer_once(
    services: GatewayServices,
    request: Request,
    owner: str,
    key: str,
    content: Any,
    effect: Callable[[GatewayUnitOfWork], Awaitable[Outcome]],
) -> JSONResponse:
    """Run `effect` once per (owner, Idempotency-Key) and answer; a replay gets the first answer."""
    fingerprint = request_fingerprint(
        services.fingerprint_secret, request.method, request.url.path, content
    )
    return answer(await once(services.unit_of_work, owner, key, fingerprint, effect))


def _json(model: BaseModel) -> Any:
    return model.model_dump(mode="json")


@router.post(
    "/accounts",
    tags=["accounts"],
    summary="Sign up: open a creditor or partner organisation with its first user",
    status_code=status.HTTP_201_CREATED,
    response_model=SignUpResponse,
    responses=problem_responses(409, 422),
)
async def sign_up(
    body: SignUpRequest, request: Request, services: Services, idempotency_key: IdempotencyKey
) -> JSONResponse:
    """Open an organisation; log in with POST /v1/auth/token afterwards."""
    command = SignUp(
        organisation_name=body.organisation_name,
        kind=OrganisationKind(body.kind),
        siren=body.siren,
        email=str(body.email),
        password=body.password,
    )

    async def effect(uow: GatewayUnitOfWork) -> Outcome:
        organisation, user = await accounts.sign_up(command, uow, services.passwords)
        view = SignUpResponse(
            organisation=OrganisationView.of(organisation), user_id=user.user_id, email=user.email
        )
        return Outcome(status.HTTP_201_CREATED, _json(view))

    return await answer_once(services, request, "anonymous", idempotency_key, _json(body), effect)


@router.post(
    "/auth/token",
    tags=["accounts"],
    summary="Log in: exchange email and password for a short-lived access token",
    response_model=TokenResponse,
    responses=problem_responses(401, 422, 429),
)
async def issue_token(body: TokenRequest, services: Services) -> TokenResponse:
    """No Idempotency-Key here: logging in changes nothing, and a replayable token would be a
    credential stored at rest."""
    async with services.unit_of_work() as uow:
        principal = await accounts.log_in(
            body.email, body.password, uow, services.passwords, services.login_policy
        )
    issued = services.tokens.issue(principal)
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
    responses=problem_responses(401, 409, 422),
)
async def create_api_key(
    body: ApiKeyRequest,
    request: Request,
    principal: CurrentPrincipal,
    services: Services,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """A new key for the caller's organisation; only its hash is kept."""

    async def effect(uow: GatewayUnitOfWork) -> Outcome:
        key, made = await accounts.create_api_key(principal, body.name, uow)
        view = NewApiKeyResponse(**ApiKeyView.of(key).model_dump(), key=made.plaintext)
        return Outcome(
            status.HTTP_201_CREATED, _json(view), replay_body=_json(view) | {"key": None}
        )

    return await answer_once(
        services, request, principal.organisation_id, idempotency_key, _json(body), effect
    )


@router.get(
    "/api-keys",
    tags=["api keys"],
    summary="List the organisation's API keys (never their secrets)",
    response_model=ApiKeyList,
    responses=problem_responses(401),
)
async def list_api_keys(principal: CurrentPrincipal, services: Services) -> ApiKeyList:
    """Keys of the caller's organisation, newest first."""
    async with services.unit_of_work() as uow:
        keys = await uow.accounts.api_keys_of(principal.organisation_id)
    return ApiKeyList(items=[ApiKeyView.of(key) for key in keys])


@router.delete(
    "/api-keys/{key_id}",
    tags=["api keys"],
    summary="Revoke an API key: it stops working at once",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 404),
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
    body: ReferredCreditorRequest,
    request: Request,
    principal: CurrentPrincipal,
    services: Services,
    idempotency_key: IdempotencyKey,
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

    return await answer_once(
        services, request, principal.organisation_id, idempotency_key, _json(body), effect
    )


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
