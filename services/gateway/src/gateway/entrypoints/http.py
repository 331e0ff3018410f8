"""The gateway's HTTP app: health and readiness now; the REST API grows here."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Response, status
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.config import GatewaySettings
from recouvra_shared.grpc import client_channel


def create_app(settings: GatewaySettings) -> FastAPI:
    """The FastAPI application, with its OpenAPI document at /openapi.json."""
    app = FastAPI(
        title="Recouvra API",
        version="0.1.0",
        description="Submit unpaid invoices, follow cases, talk to providers, get paid.",
    )
    channels = {name: client_channel(target) for name, target in settings.service_targets().items()}
    app.state.channels = channels

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
        services: dict[str, str] = {}
        for name, channel in channels.items():
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=2)
                services[name] = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            except Exception as exc:  # any failure means "not ready", reported by name
                services[name] = f"UNAVAILABLE ({type(exc).__name__})"
        ready = all(value == "SERVING" for value in services.values())
        if not ready:
            response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"ready": ready, "services": services}

    return app
