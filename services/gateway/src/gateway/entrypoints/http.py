"""The gateway's HTTP app: health, readiness and the REST API with its OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Response, status
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.entrypoints.api import accounts, bidding, cases, documents, problems, quotes
from gateway.entrypoints.api.deps import GatewayServices

DESCRIPTION = """
Submit unpaid invoices, follow cases, talk to providers, get paid.

**Authentication.** Log in with `POST /v1/auth/token` and send `Authorization: Bearer <token>`,
or send an API key in `X-API-Key` (or as the bearer). Partners act for a creditor they referred
by naming it in `X-On-Behalf-Of`. Collection providers sign up with `POST /v1/provider/accounts`,
log in and use API keys the same way; only provider accounts may use `/v1/provider/...`, and
only creditors (or their partners) quotes and cases.

**Idempotency.** Every POST except log-in requires an `Idempotency-Key` header: a retry with the
same key and request returns the first response (marked `Idempotent-Replayed: true`); the same
key with a different request is refused with 409.

**Errors** are `application/problem+json` (RFC 9457); invalid input lists each bad field with
the rule it breaks in `errors`. Another tenant's resource answers 404, exactly like a missing one.
"""


# JSON bodies are small; the upload routes set their own, larger limits.
MAX_JSON_BODY_BYTES = 1024 * 1024


def create_app(services: GatewayServices, channels: dict[str, Any]) -> FastAPI:
    """The FastAPI application, with its OpenAPI document at /openapi.json."""
    app = problems.ProblemApi(
        title="Recouvra API",
        max_body_size=MAX_JSON_BODY_BYTES,
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
                "description": "Providers: anonymised open auctions, sealed bids, auto-bid rules",
            },
            {
                "name": "assignments",
                "description": "Providers: the cases you hold, accept or decline, report actions "
                "and payments, release",
            },
            {"name": "operations", "description": "Liveness and readiness probes"},
        ],
    )
    app.state.services = services
    app.state.channels = channels
    problems.install(app)
    app.include_router(accounts.router)
    app.include_router(cases.router)
    app.include_router(documents.creditor_router)
    app.include_router(quotes.router)
    app.include_router(bidding.router)
    app.include_router(documents.provider_router)

    @app.get("/healthz", tags=["operations"], summary="The gateway process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="Every backing service answers its gRPC health check",
        responses={503: {"description": "At least one service is not serving"}},
    )
    async def readyz(response: Response) -> dict[str, Any]:
        services_status: dict[str, str] = {}
        for name, channel in channels.items():
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=2)
                services_status[name] = health_pb2.HealthCheckResponse.ServingStatus.Name(
                    reply.status
                )
            except Exception as exc:  # any failure means "not ready", reported by name
                services_status[name] = f"UNAVAILABLE ({type(exc).__name__})"
        ready = all(value == "SERVING" for value in services_status.values())
        if not ready:
            response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"ready": ready, "services": services_status}

    return app
