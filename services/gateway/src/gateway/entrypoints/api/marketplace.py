"""What the provider and quote routes share: matching's refusals by REST name, and idempotent
POSTs over calls to matching (which keeps no idempotency keys of its own)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, TypeVar

import grpc
from fastapi import Path, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel

from gateway.adapters.matching import refusal
from gateway.entrypoints.api.accounts import answer_once
from gateway.entrypoints.api.deps import GatewayServices
from gateway.entrypoints.api.schemas import plain_text
from gateway.service_layer.idempotency import Outcome
from gateway.service_layer.unit_of_work import GatewayUnitOfWork

T = TypeVar("T")

CaseId = Annotated[
    str,
    Path(max_length=64, description="The case id", examples=["7b0e8c9e-2f4d-4b7a-9d51"]),
    AfterValidator(plain_text),
]


async def matching_call(
    call: Awaitable[T], not_found: str, fields: Mapping[str, str] | None = None
) -> T:
    """Await a call to matching; NOT_FOUND becomes one fixed 404 per route (a foreign id reads
    exactly like a missing one) and INVALID_ARGUMENT names the field as the REST body does."""
    try:
        return await call
    except grpc.aio.AioRpcError as exc:
        mapped = refusal(exc, fields or {}, not_found)
        if mapped is exc:
            raise
        raise mapped from exc


async def idempotent(
    services: GatewayServices,
    request: Request,
    owner: str,
    key: str,
    fingerprint_body: Any,
    status_code: int,
    effect: Callable[[], Awaitable[BaseModel]],
) -> JSONResponse:
    """Run `effect` once per (owner, Idempotency-Key): a retry gets the first answer.

    The call to matching runs while this request holds the key, so a concurrent retry waits
    for it; when matching refuses, nothing is remembered and a retry asks again.
    """

    async def run(uow: GatewayUnitOfWork) -> Outcome:
        return Outcome(status_code, (await effect()).model_dump(mode="json"))

    return await answer_once(services, request, owner, key, fingerprint_body, run)
