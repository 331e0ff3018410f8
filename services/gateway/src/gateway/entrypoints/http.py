"""The gateway's HTTP app: health, readiness and the REST API with its OpenAPI document."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

from fastapi import FastAPI, Request, Response, status
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.domain.errors import NotFound
from gateway.entrypoints.api import (
    accounts,
    assignments,
    bidding,
    cases,
    documents,
    operators,
    problem_handlers,
    profiles,
    providers,
    quotes,
    settlement,
    team,
    thread,
    webhooks,
)
from gateway.entrypoints.api.deps import GatewayServices, client_address
from gateway.entrypoints.api.in_flight import InFlightPerCredential
from gateway.entrypoints.api.problems import problem_responses
from gateway.entrypoints.web import api_docs, site
from recouvra_shared.metrics.http_routes import RouteMetricsMiddleware
from recouvra_shared.tracing import instrument_http_app

DESCRIPTION = """
Submit unpaid invoices, follow cases, talk to providers, get paid.

**Authentication.** Log in with `POST /v1/auth/token` and send `Authorization: Bearer <token>`,
or send an API key in `X-API-Key` (or as the bearer). Partners act for a creditor they referred
by naming it in `X-On-Behalf-Of`. Send one credential: a bearer and an `X-API-Key` together
must both be valid and name the same account, or the call is refused with 401. Collection
providers sign up with `POST /v1/provider/accounts`, log in and use API keys the same way;
only provider accounts may use `/v1/provider/...`, and only creditors (or their partners) quotes
and cases.

**Money** has one shape everywhere, in requests and answers: the `Money` schema,
`{"amount": "1234.56", "currency": "EUR"}`. `amount` is a decimal string in major units with
exactly as many decimals as the currency has (2 for EUR, 0 for JPY); a request may write fewer
(`"400"` is 400.00 EUR), never more and never a JSON number: either is a 422 naming the field.

**Idempotency.** Every POST except log-in requires an `Idempotency-Key` header: a retry with the
same key and request returns the first response (marked `Idempotent-Replayed: true`); the same
key with a different request is refused with 409. When a request gets a 503 or no answer, send
it again with the same key after a pause that doubles each time (from a fraction of a second to
a few seconds, each drawn at random below it): a bidding robot that asks again at once, for
every auction it waits on, only slows its own answers.

**Requests in flight.** One credential (a bearer or an API key) may have a limited number of
requests waiting for their answers at once on each server (32 unless the operator set another);
one more is answered 429 with `Retry-After`, before anything is done for it. Wait for answers to
the requests already sent, then send it again with the same `Idempotency-Key`.

**Errors** are `application/problem+json` (RFC 9457); invalid input lists each bad field with
the rule it breaks in `errors`. Another tenant's resource answers 404, exactly like a missing one.
"""


READINESS_TIMEOUT = 2.0


async def _database_answers(services: GatewayServices) -> None:
    async with services.unit_of_work() as uow:
        await uow.accounts.get_organisation("readiness-probe")


async def _health(channel: Any) -> str:
    try:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=READINESS_TIMEOUT
        )
    except Exception as exc:  # any failure means "not serving", reported by its kind
        return f"UNAVAILABLE ({type(exc).__name__})"
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


# JSON bodies are small; the upload routes set their own, larger limits.
MAX_JSON_BODY_BYTES = 1024 * 1024


def create_app(services: GatewayServices, channels: dict[str, Any]) -> FastAPI:
    """The FastAPI application, with its OpenAPI document at /openapi.json."""
    app = problem_handlers.ProblemApi(
        title="Recouvra API",
        max_body_size=MAX_JSON_BODY_BYTES,
        docs_url=None,  # served from local assets by api_docs, never from a CDN
        redoc_url=None,
        version="0.1.0",
        description=DESCRIPTION,
        openapi_tags=[
            {"name": "accounts", "description": "Sign up, log in, who am I"},
            {"name": "api keys", "description": "Machine credentials, shown once, revocable"},
            {
                "name": "partners",
                "description": "Billing software creating and acting for creditors",
            },
            {"name": "cases", "description": "Submit, import, follow, withdraw cases"},
            {
                "name": "documents",
                "description": "Evidence in the encrypted vault: creditors attach, read and erase "
                "the documents of their cases; the provider holding a case now reads and adds",
            },
            {
                "name": "quotes",
                "description": "Creditors: quotes with the provider's record, acceptance, fee "
                "policy, what providers did on a case",
            },
            {"name": "providers", "description": "Collection providers: sign-up and profile"},
            {
                "name": "bidding",
                "description": "Providers: anonymised open auctions, each open for bids 15 "
                "minutes after it opens, sealed bids, auto-bid rules",
            },
            {
                "name": "assignments",
                "description": "Providers: the cases you hold, accept or decline, report actions "
                "and payments, release",
            },
            {
                "name": "webhooks",
                "description": "Creditors: endpoints where your cases' events are posted, "
                "signed (Standard Webhooks), the delivery log and replay",
            },
            {
                "name": "money",
                "description": "Creditors: fee invoices, monthly statements, payouts, where a "
                "case's debtor pays; providers: their fee statements",
            },
            {
                "name": "operators",
                "description": "The platform's staff: vet providers, read the audit trail",
            },
            {
                "name": "operations",
                "description": "Liveness and readiness probes, each backing service's health",
            },
        ],
    )
    app.state.services = services
    app.state.channels = channels
    problem_handlers.install(app)
    api_docs.install(app)
    site.install(app, services)  # the web pages, their static files and security headers
    app.include_router(accounts.router)
    app.include_router(cases.router)
    app.include_router(documents.creditor_router)
    app.include_router(quotes.router)
    app.include_router(providers.router)
    app.include_router(bidding.router)
    app.include_router(assignments.router)
    app.include_router(documents.provider_router)
    app.include_router(webhooks.router)
    app.include_router(thread.creditor_router)
    app.include_router(thread.provider_router)
    app.include_router(settlement.creditor_router)
    app.include_router(settlement.provider_router)
    app.include_router(profiles.router)
    app.include_router(team.router)
    app.include_router(operators.router)

    @app.get("/healthz", tags=["operations"], summary="The gateway process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="This gateway can serve: its own database answers",
        responses={503: {"description": "The gateway's database does not answer"}},
    )
    async def readyz(response: Response) -> dict[str, Any]:
        # Readiness follows only what every request needs (accounts and keys): a backing
        # service that is down makes its own routes answer 503, not every gateway pod leave.
        try:
            await asyncio.wait_for(_database_answers(services), timeout=READINESS_TIMEOUT)
            return {"ready": True}
        except Exception as exc:  # any failure means "not ready", reported by its kind
            response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
            return {"ready": False, "database": f"UNAVAILABLE ({type(exc).__name__})"}

    @app.get(
        "/status",
        tags=["operations"],
        summary="Each backing service's gRPC health, asked at once (from this machine only)",
        responses=problem_responses(404),
    )
    async def service_status(request: Request) -> dict[str, Any]:
        # Which services are down is for operators (on the host, or through `kubectl
        # port-forward`, which arrives on the loopback), not for whoever reaches the door.
        if not _from_loopback(request):
            raise NotFound("no such route")
        names = list(channels)
        answers = await asyncio.gather(*(_health(channels[name]) for name in names))
        services_status = dict(zip(names, answers, strict=True))
        return {
            "all_serving": all(value == "SERVING" for value in answers),
            "services": services_status,
        }

    app.add_middleware(InFlightPerCredential, services=services)
    app.add_middleware(RouteMetricsMiddleware)  # rate, errors and duration per route template
    instrument_http_app(app)  # a span per request, continued by the gRPC calls it makes
    return app


def _from_loopback(request: Request) -> bool:
    try:
        return ipaddress.ip_address(client_address(request)).is_loopback
    except ValueError:  # "unknown", or a name a test client gives
        return False
