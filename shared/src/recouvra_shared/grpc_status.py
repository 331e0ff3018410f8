"""Refusals on the wire: a `Refusal` as a gRPC status with `google.rpc` details, and back.

The server interceptor (`recouvra_shared.grpc`) ends a call with `refuse`; a caller turns the
status it got back into the same refusal with `refusal_of`.
"""

from __future__ import annotations

from typing import Any, NoReturn

import grpc
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped]
from grpc_status import rpc_status  # type: ignore[import-untyped]

from recouvra_shared.errors import (
    REFUSALS,
    Conflict,
    DataLoss,
    Gone,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    Refusal,
    StateConflict,
    Unauthenticated,
    Unavailable,
    Violation,
    rebuild,
)

ERROR_DOMAIN = "recouvra"

_STATUS_OF: dict[type[Refusal], grpc.StatusCode] = {
    InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    Conflict: grpc.StatusCode.ALREADY_EXISTS,
    StateConflict: grpc.StatusCode.FAILED_PRECONDITION,
    Gone: grpc.StatusCode.FAILED_PRECONDITION,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    Unavailable: grpc.StatusCode.UNAVAILABLE,
    DataLoss: grpc.StatusCode.DATA_LOSS,
}
_REFUSAL_OF_REASON = {kind.reason: kind for kind in REFUSALS}
# A status without our details (a deadline, a peer that is down) still maps to a refusal.
_REFUSAL_OF_CODE: dict[grpc.StatusCode, type[Refusal]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidRequest,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: Conflict,
    grpc.StatusCode.FAILED_PRECONDITION: StateConflict,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: Unavailable,
    grpc.StatusCode.DATA_LOSS: DataLoss,
}


def status_code_of(refusal: Refusal) -> grpc.StatusCode:
    """The gRPC status code a refusal travels as."""
    for kind in type(refusal).__mro__:
        if kind in _STATUS_OF:
            return _STATUS_OF[kind]
    return grpc.StatusCode.FAILED_PRECONDITION


def rich_status(refusal: Refusal) -> Any:
    """The refusal as a gRPC status with ErrorInfo (its kind) and BadRequest (its fields)."""
    code = status_code_of(refusal)
    status = status_pb2.Status(code=code.value[0], message=refusal.message)
    status.details.add().Pack(
        error_details_pb2.ErrorInfo(reason=refusal.reason, domain=ERROR_DOMAIN)
    )
    if refusal.violations:
        status.details.add().Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.rule)
                    for v in refusal.violations
                ]
            )
        )
    return rpc_status.to_status(status)


async def refuse(context: grpc.aio.ServicerContext, refusal: Refusal) -> NoReturn:
    """End the call with the refusal's status and details."""
    rich = rich_status(refusal)
    await context.abort(rich.code, rich.details, rich.trailing_metadata)
    raise AssertionError("grpc abort returned")  # abort always raises


def refusal_of(error: grpc.aio.AioRpcError) -> Refusal | None:
    """The refusal a service sent (or that a status code stands for); None for a real failure."""
    status = rpc_status.from_call(error)
    reason = ""
    violations: list[Violation] = []
    for detail in status.details if status is not None else ():
        info = error_details_pb2.ErrorInfo()
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(info) and info.domain == ERROR_DOMAIN:
            reason = info.reason
        elif detail.Unpack(bad):
            violations = [Violation(v.field, v.description) for v in bad.field_violations]
    kind = _REFUSAL_OF_REASON.get(reason) or _REFUSAL_OF_CODE.get(error.code())
    if kind is None:
        return None
    return rebuild(kind, error.details() or "", violations)
