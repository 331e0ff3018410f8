"""Typed FastAPI dependencies: the wired services and typed clients of the backends, the
authenticated principal, who a call acts as, and the path parameters routes share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Path, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator

from gateway.adapters.intake import IntakeClient
from gateway.adapters.matching import BiddingClient, QuoteClient
from gateway.adapters.portal import PortalClient
from gateway.adapters.rate_limits import RateLimits
from gateway.adapters.scoring import ScoreClient
from gateway.adapters.security import DeviceCookies, Passwords, Tokens
from gateway.adapters.settlement import SettlementClient
from gateway.adapters.thread import ThreadClient
from gateway.adapters.vault import VaultClient
from gateway.adapters.webhooks import WebhookClient
from gateway.domain.api_keys import API_KEY_LABEL
from gateway.domain.errors import NotAllowed, NotAuthenticated
from gateway.domain.model import LoginPolicy, OrganisationKind, Principal
from gateway.schemas.common import plain_text
from gateway.service_layer import accounts, profiles, web_sessions
from gateway.service_layer.providers import CompanyRegistry, ProviderDirectory
from gateway.service_layer.stream_quota import StreamQuota
from gateway.service_layer.unit_of_work import GatewayUnitOfWork
from recouvra_shared.company_registry import CsvCompanyRegistry
from recouvra_shared.context import Caller

T = TypeVar("T")


@dataclass
class GatewayServices:
    """Everything the routes use, wired once by bootstrap (or by a test with fakes)."""

    unit_of_work: Callable[[], GatewayUnitOfWork]
    passwords: Passwords
    tokens: Tokens
    fingerprint_secret: bytes
    login_policy: LoginPolicy
    intake: IntakeClient | None = None
    bidding: BiddingClient | None = None
    quotes: QuoteClient | None = None
    providers: ProviderDirectory | None = None
    vault: VaultClient | None = None
    webhooks: WebhookClient | None = None
    settlement: SettlementClient | None = None
    thread: ThreadClient | None = None
    scores: ScoreClient | None = None  # the web pages' case page shows the score
    portal: PortalClient | None = None  # the debtor portal's pages
    # Unset in tests that do not exercise them: no rate limit, no device cookie.
    rate_limits: RateLimits | None = None
    device_cookies: DeviceCookies | None = None
    secure_cookies: bool = True
    # The offline company registry providers' and creditors' SIRENs are checked against.
    companies: CompanyRegistry = field(default_factory=CsvCompanyRegistry)
    # The auction streams each provider holds open on this replica.
    auction_streams: StreamQuota = field(default_factory=StreamQuota)
    # Creditors seen with a SIREN on file (never removed): case routes skip that read for them.
    sirens_on_file: profiles.SirensOnFile = field(default_factory=profiles.SirensOnFile)
    # Requests one credential may have in flight on this replica (api.in_flight); 0: no limit.
    in_flight_per_credential: int = 0
    # Units of work that only read, for the checks every request makes (who calls, is the
    # session live): no transaction around them (Database.reading). Unset: unit_of_work.
    reading: Callable[[], GatewayUnitOfWork] | None = None

    def reads(self) -> GatewayUnitOfWork:
        """A unit of work for a request's checks, which only read."""
        return (self.reading or self.unit_of_work)()


# Every dependency is `async def`, even one that awaits nothing: FastAPI runs a plain `def` in
# a worker thread, a hop per request that costs more than the dependency's own work.
async def _services(request: Request) -> GatewayServices:
    services = request.app.state.services
    assert isinstance(services, GatewayServices)
    return services


Services = Annotated[GatewayServices, Depends(_services)]


def client_address(request: Request) -> str:
    """The client's address as uvicorn saw it (from X-Forwarded-For only when the connection
    came from a proxy it trusts: `forwarded_allow_ips`)."""
    return request.client.host if request.client else "unknown"


def rate_limited(action: str) -> Any:
    """A route dependency counting one `action` from the client's address; 429 past a limit."""

    async def check(request: Request, services: Services) -> None:
        if services.rate_limits is not None:
            await services.rate_limits.check(action, client_address(request))

    return Depends(check)


def _wired(client: T | None, name: str) -> T:
    if client is None:
        raise RuntimeError(f"the {name} client is not wired")
    return client


async def _intake(services: Services) -> IntakeClient:
    return _wired(services.intake, "intake")


async def _bidding(services: Services) -> BiddingClient:
    return _wired(services.bidding, "bidding")


async def _quotes(services: Services) -> QuoteClient:
    return _wired(services.quotes, "quotes")


async def _providers(services: Services) -> ProviderDirectory:
    return _wired(services.providers, "provider directory")


async def _vault(services: Services) -> VaultClient:
    return _wired(services.vault, "vault")


async def _webhooks(services: Services) -> WebhookClient:
    return _wired(services.webhooks, "webhooks")


async def _thread(services: Services) -> ThreadClient:
    return _wired(services.thread, "thread")


async def _settlement(services: Services) -> SettlementClient:
    return _wired(services.settlement, "settlement")


Intake = Annotated[IntakeClient, Depends(_intake)]
Settlement = Annotated[SettlementClient, Depends(_settlement)]
Bidding = Annotated[BiddingClient, Depends(_bidding)]
Quotes = Annotated[QuoteClient, Depends(_quotes)]
Providers = Annotated[ProviderDirectory, Depends(_providers)]
Vault = Annotated[VaultClient, Depends(_vault)]
Webhooks = Annotated[WebhookClient, Depends(_webhooks)]
Thread = Annotated[ThreadClient, Depends(_thread)]

CaseId = Annotated[
    str,
    Path(max_length=64, description="The case id", examples=["7b0e8c9e-2f4d-4b7a-9d51"]),
    AfterValidator(plain_text),
]

ClaimId = Annotated[
    str,
    Path(
        max_length=64,
        description="A payment claim's id, as the case's activity lists it",
        examples=["3f1e2d3c-4b5a-5c6d-8e7f-9a0b1c2d3e4f"],
    ),
    AfterValidator(plain_text),
]

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


async def _key_principal(services: GatewayServices, key: str) -> Principal:
    async with services.reads() as uow:
        return await accounts.authenticate_api_key(key, uow)


# What a request needs from an API key's scopes: reading routes need `read`, every other method
# `write`; the API-key routes check `keys` themselves (gateway.domain.api_keys).
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
KEY_ROUTES = "/v1/api-keys"


def check_scopes(principal: Principal, method: str, path: str) -> None:
    """Refuse a request the credential's scopes do not cover (a person's session has them all)."""
    if path == KEY_ROUTES or path.startswith(KEY_ROUTES + "/"):
        return
    needed = "read" if method.upper() in READING_METHODS else "write"
    if not principal.may(needed):
        raise NotAllowed(f"this API key lacks the '{needed}' scope that {method} {path} needs")


async def _token_principal(services: GatewayServices, token: str) -> Principal:
    """A person's access token, refused once the user logged out everywhere or changed the
    password after it was issued (its session generation is no longer the user's)."""
    principal, generation = services.tokens.verify_session(token)
    if principal.subject.startswith(web_sessions.USER_PREFIX):
        async with services.reads() as uow:
            await web_sessions.check_live(principal, -1 if generation is None else generation, uow)
    return principal


async def current_principal(
    request: Request,
    services: Services,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The organisation proven by a bearer access token or an API key (many HTTP clients only
    know how to send a bearer, so a key may come as one). When both are sent, each must be
    valid and both must name the same account: a call never picks one of two identities."""
    principals: list[Principal] = []
    if bearer is not None and bearer.credentials:
        if bearer.credentials.startswith(API_KEY_LABEL):
            principals.append(await _key_principal(services, bearer.credentials))
        else:
            principals.append(await _token_principal(services, bearer.credentials))
    if api_key:
        principals.append(await _key_principal(services, api_key))
    if not principals:
        raise NotAuthenticated("send a bearer access token or an X-API-Key header")
    if any(not principals[0].same_account(other) for other in principals[1:]):
        raise NotAuthenticated("the bearer and the X-API-Key name different accounts; send one")
    for principal in principals:  # a key sent beside a session still limits the call
        check_scopes(principal, request.method, request.url.path)
    keys = [p for p in principals if p.scopes is not None]
    if keys:
        return keys[0]
    return principals[0]


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


@dataclass(frozen=True)
class ActingCaller:
    """Who a call to a service is made as, and for which creditor."""

    caller: Caller
    principal: Principal
    creditor_id: str

    @property
    def as_creditor(self) -> Caller:
        """Matching and the vault answer creditors only: a partner calls as the creditor it
        was checked to act for, still named as the subject."""
        return Caller(kind="creditor", subject=self.caller.subject, tenant_id=self.creditor_id)


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
    if principal.kind is OrganisationKind.OPERATOR:
        raise NotAllowed("only creditors and their partners do this; operators use /v1/operator")
    if principal.kind is OrganisationKind.PARTNER:
        async with services.reads() as uow:
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
class ActingProvider:
    """A provider calling the bidding API: matching knows it by its organisation id."""

    caller: Caller
    principal: Principal

    @property
    def provider_id(self) -> str:
        """The provider's id in matching, its organisation id here."""
        return self.principal.organisation_id


async def current_provider(principal: CurrentPrincipal, services: Services) -> ActingProvider:
    """The authenticated provider, once an operator approved it; any other kind of account, and
    a provider still pending (or rejected), is refused."""
    if principal.kind is not OrganisationKind.PROVIDER:
        raise NotAllowed("only provider accounts use the bidding API")
    async with services.reads() as uow:
        provider = await uow.accounts.get_organisation(principal.organisation_id)
    if provider is None or not provider.approved:
        raise NotAllowed(
            "provider: your account awaits an operator's approval; until then you see no "
            "auction and cannot bid or hold a case"
        )
    caller = Caller(kind="provider", subject=principal.subject, tenant_id=principal.organisation_id)
    return ActingProvider(principal=principal, caller=caller)


CurrentProvider = Annotated[ActingProvider, Depends(current_provider)]


async def current_operator(principal: CurrentPrincipal) -> Principal:
    """The authenticated operator; any other kind of account is refused."""
    if principal.kind is not OrganisationKind.OPERATOR:
        raise NotAllowed("only operators do this")
    return principal


CurrentOperator = Annotated[Principal, Depends(current_operator)]


async def siren_on_file(services: Services, caller: CurrentCaller) -> None:
    """Refuse a case or an import for a creditor that has not given its SIREN yet."""
    await services.sirens_on_file.require(caller.creditor_id, services.reads)


SirenOnFile = Depends(siren_on_file)
