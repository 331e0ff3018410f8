"""What every typed client shares: calls made as a caller, and a backend's refusal relayed as the
platform's refusal, under the names the gateway gave the fields and with its one answer for a
thing the caller may not see."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import grpc

from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import NotFound, Refusal, Unauthenticated
from recouvra_shared.grpc_status import refusal_of


@contextlib.contextmanager
def calling_as(caller: Caller) -> Iterator[None]:
    """Every gRPC call started within this block (streams included: the client interceptor
    runs in a task that keeps this context) carries a token the gateway signs for this caller,
    whom it has authenticated itself; nothing the HTTP client sent is forwarded."""
    token = caller_var.set(caller)
    try:
        yield
    finally:
        caller_var.reset(token)


def relayed(
    error: grpc.aio.AioRpcError,
    not_found: str | None = None,
    fields: Mapping[str, str] | None = None,
) -> Refusal | None:
    """The refusal a backend sent, its fields named as the gateway's request names them; every
    NotFound becomes `not_found`, so a foreign id reads exactly like a missing one whatever the
    backend's words. None when the status is a failure rather than a refusal."""
    refusal = refusal_of(error)
    # A backend that does not take the gateway's own token is the gateway's failure (a key not
    # trusted, a clock adrift), never the user's: it must not read as "log in again".
    if refusal is None or isinstance(refusal, Unauthenticated):
        return None
    if isinstance(refusal, NotFound) and not_found is not None:
        return NotFound(not_found)
    if fields and refusal.violations:
        return refusal.with_fields_renamed(fields)
    return refusal


async def unary(
    method: Any,
    request: Any,
    caller: Caller,
    not_found: str | None = None,
    fields: Mapping[str, str] | None = None,
) -> Any:
    """One unary call of a generated stub `method`, made as `caller`; a refusal is raised as
    the platform's refusal (see `relayed`), a failure as the gRPC error itself."""
    with calling_as(caller):
        try:
            return await method(request)
        except grpc.aio.AioRpcError as exc:
            refusal = relayed(exc, not_found, fields)
            if refusal is None:
                raise
            raise refusal from exc
