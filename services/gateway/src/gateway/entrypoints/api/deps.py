"""Typed FastAPI dependencies: the wired services, the authenticated principal, the caller."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from gateway.adapters.security import API_KEY_LABEL, Passwords, Tokens
from gateway.domain.errors import NotAllowed, NotAuthenticated
from gateway.domain.model import LoginPolicy, OrganisationKind, Principal
from gateway.service_layer import accounts
from gateway.service_layer.providers import ProviderDirectory
from gateway.service_layer.unit_of_work import GatewayUnitOfWork
from recouvra_shared.context import Caller, caller_var, request_id_var, traceparent_var
from recouvra_shared.grpc import (
    CALLER_KIND,
    CALLER_SUBJECT,
    CALLER_TENANT,
    REQUEST_ID,
    TRACEPARENT,
)


@dataclass
class GatewayServices:
    """Everything the routes use, wired once by bootstrap (or by a test with fakes)."""

    unit_of_work: Callable[[], GatewayUnitOfWork]
    passwords: Passwords
    tokens: Tokens
    fingerprint_secret: bytes
    login_policy: LoginPolicy
    intake: Any  # recouvra.intake.v1 IntakeServiceStub (generated, untyped)
    # recouvra.matching.v1 BiddingServiceStub and QuoteServiceStub (generated, untyped)
    bidding: Any = None
    quotes: Any = None
    providers: ProviderDirectory | None = None
    vault: Any = None  # recouvra.vault.v1 VaultServiceStub (generated, untyped)


def _services(request: Request) -> GatewayServices:
    services = request.app.state.services
    assert isinstance(services, GatewayServices)
    return services


Services = Annotated[GatewayServices, Depends(_services)]

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    description="Access token from POST /v1/auth/token (a user logged in), or an API key.",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="apiKeyAuth",
    description="An API key of the organisation (rk_live_...), for machines and partners.",
)


async def current_principal(
    services: Services,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The organisation proven by a bearer access token or an API key."""
    presented_key = api_key
    if bearer is not None and bearer.credentials:
        if not bearer.credentials.startswith(API_KEY_LABEL):
            return services.tokens.verify(bearer.credentials)
        presented_key = bearer.credentials  # many HTTP clients only know how to send a bearer
    if presented_key:
        async with services.unit_of_work() as uow:
            return await accounts.authenticate_api_key(presented_key, uow)
    raise NotAuthenticated("send a bearer access token or an X-API-Key header")


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


@dataclass(frozen=True)
class CallsAs:
    """Who a call to a service is made as."""

    caller: Caller

    @contextlib.contextmanager
    def calling(self) -> Iterator[None]:
        """Within this block, every gRPC call carries this caller in its metadata."""
        token = caller_var.set(self.caller)
        try:
            yield
        finally:
            caller_var.reset(token)

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """The same context as explicit call metadata, for streaming calls the shared client
        interceptor does not see, or that are read after the route has returned."""
        values = {
            CALLER_KIND: self.caller.kind,
            CALLER_SUBJECT: self.caller.subject,
            CALLER_TENANT: self.caller.tenant_id,
            REQUEST_ID: request_id_var.get(),
            TRACEPARENT: traceparent_var.get(),
        }
        return tuple((k, v) for k, v in values.items() if v)


@dataclass(frozen=True)
class ActingCaller(CallsAs):
    """Who a call to a service is made as, and for which creditor."""

    principal: Principal
    creditor_id: str


async def current_caller(
    services: Services,
    principal: CurrentPrincipal,
    on_behalf_of: Annotated[
        str | None,
        Header(
            alias="X-On-Behalf-Of",
            description="Partners: the id of the creditor (one you referred) you act for.",
            max_length=64,
        ),
    ] = None,
) -> ActingCaller:
    """The creditor a call acts for, after checking a partner really referred it."""
    if principal.kind is OrganisationKind.PROVIDER:
        raise NotAllowed("only creditors and their partners do this; providers use /v1/provider")
    if principal.kind is OrganisationKind.PARTNER:
        async with services.unit_of_work() as uow:
            creditor_id = await accounts.acting_creditor(principal, on_behalf_of, uow)
        caller = Caller(
            kind="partner", subject=principal.subject, tenant_id=principal.organisation_id
        )
    else:
        creditor_id = accounts.own_creditor(principal, on_behalf_of)
        caller = Caller(kind="creditor", subject=principal.subject, tenant_id=creditor_id)
    return ActingCaller(principal=principal, creditor_id=creditor_id, caller=caller)


CurrentCaller = Annotated[ActingCaller, Depends(current_caller)]


@dataclass(frozen=True)
class ActingProvider(CallsAs):
    """A provider calling the bidding API: matching knows it by its organisation id."""

    principal: Principal

    @property
    def provider_id(self) -> str:
        """The provider's id in matching, its organisation id here."""
        return self.principal.organisation_id


async def current_provider(principal: CurrentPrincipal) -> ActingProvider:
    """The authenticated provider; any other kind of account is refused."""
    if principal.kind is not OrganisationKind.PROVIDER:
        raise NotAllowed("only provider accounts use the bidding API")
    caller = Caller(kind="provider", subject=principal.subject, tenant_id=principal.organisation_id)
    return ActingProvider(principal=principal, caller=caller)


CurrentProvider = Annotated[ActingProvider, Depends(current_provider)]

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description=(
            "Required on every POST: a retry with the same key and the same request returns "
            "the first response; the same key with a different request is refused (409)."
        ),
        examples=["5f0c7c1e-2b7a-4c59-9a53-0f5a2f1d6e21"],
    ),
]
