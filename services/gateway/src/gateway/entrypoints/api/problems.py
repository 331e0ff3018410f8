"""RFC 9457 problem details: every refusal names what went wrong and, for input, each field."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.domain.errors import (
    DocumentCorrupted,
    DocumentErased,
    EmailTaken,
    GatewayError,
    IdempotencyConflict,
    InvalidCredentials,
    InvalidField,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    TooLarge,
    TooManyAttempts,
)

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
STATUS_DETAILS_KEY = "grpc-status-details-bin"
UNREADABLE_BODY = "must be JSON in UTF-8 (multipart/form-data for file uploads)"


class FieldError(BaseModel):
    """One bad field and the rule it breaks."""

    field: str = Field(examples=["invoices[0].amount_due"])
    rule: str = Field(examples=["must be positive"])


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "/problems/invalid-request",
                    "title": "The request has invalid fields",
                    "status": 422,
                    "detail": "debtor.siren_or_siret: must be a valid SIREN or SIRET",
                    "instance": "/v1/cases",
                    "errors": [
                        {
                            "field": "debtor.siren_or_siret",
                            "rule": "must be a valid SIREN or SIRET",
                        }
                    ],
                }
            ]
        }
    )

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the given problem status codes."""
    descriptions = {
        401: "Missing, expired, revoked or forged credentials",
        403: "This kind of account cannot do this",
        404: "No such resource for this caller (a foreign id looks exactly like a missing one)",
        409: "Conflict: duplicate, idempotency key reused with other content, or state forbids it",
        410: "The document was erased for good (crypto-shredded); its content cannot be read",
        413: "The uploaded file is larger than this endpoint accepts (the field is named)",
        422: "Invalid fields: each is named with the rule it breaks",
        429: "Too many failed log-ins for this email; retry after Retry-After seconds",
        502: "A stored document failed its integrity check and was not served",
        503: "A backing service is unavailable; retry with the same Idempotency-Key",
    }
    return {
        code: {
            "model": Problem,
            "description": descriptions.get(code, "Problem"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in codes
    }


def problem(
    status: int,
    title: str,
    kind: str,
    request: Request,
    detail: str | None = None,
    errors: Sequence[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    body = Problem(
        type=f"/problems/{kind}",
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=list(errors) if errors is not None else None,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def field_path(loc: Sequence[str | int]) -> str:
    """('body', 'invoices', 0, 'amount_due') -> 'invoices[0].amount_due'."""
    parts = list(loc)
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def _rule(message: str) -> str:
    return re.sub(r"^(Value error|Assertion failed), ", "", message)


def validation_error(error: Mapping[str, Any]) -> FieldError:
    """One of FastAPI's validation errors as the field it names and the rule it breaks."""
    if error.get("type") == "json_invalid":
        # FastAPI locates broken JSON as ('body', <character offset>): the field is the body
        # itself, and the offset belongs in the rule, not in a field named "[0]".
        position = error["loc"][-1]
        reason = error.get("ctx", {}).get("error", "JSON decode error")
        return FieldError(
            field="body", rule=f"must be valid JSON ({reason} at character {position})"
        )
    return FieldError(field=field_path(error["loc"]), rule=_rule(str(error["msg"])))


def invalid_request(request: Request, errors: list[FieldError]) -> JSONResponse:
    """422 naming every bad field."""
    return problem(
        422,
        "The request has invalid fields",
        "invalid-request",
        request,
        detail="; ".join(f"{e.field}: {e.rule}" for e in errors),
        errors=errors,
    )


def violations_of(exc: grpc.aio.AioRpcError) -> list[FieldError]:
    """The field violations a service attached (google.rpc.BadRequest), else its message."""
    for key, value in exc.trailing_metadata() or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                bad = error_details_pb2.BadRequest()
                if detail.Unpack(bad):
                    return [
                        FieldError(field=v.field, rule=v.description) for v in bad.field_violations
                    ]
    errors = []
    for part in (exc.details() or "").split("; "):
        field, sep, rule = part.partition(": ")
        errors.append(
            FieldError(field=field, rule=rule) if sep else FieldError(field="body", rule=part)
        )
    return errors


def grpc_problem(request: Request, exc: grpc.aio.AioRpcError) -> JSONResponse:
    """A service's status code as the matching HTTP problem."""
    code = exc.code()
    if code is grpc.StatusCode.NOT_FOUND:
        return problem(404, "Not found", "not-found", request, detail=exc.details())
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        return invalid_request(request, violations_of(exc))
    if code is grpc.StatusCode.ALREADY_EXISTS:
        return problem(
            409,
            "Already exists",
            "conflict",
            request,
            detail=exc.details(),
            errors=violations_of(exc),
        )
    if code is grpc.StatusCode.FAILED_PRECONDITION:
        return problem(409, "Not possible in the current state", "state", request, exc.details())
    if code in {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}:
        return problem(
            503,
            "Service unavailable",
            "unavailable",
            request,
            detail="a backing service did not answer; retry with the same Idempotency-Key",
            headers={"Retry-After": "1"},
        )
    log.error("backing service failed: %s %s", code, exc.details())
    return problem(502, "Backing service error", "upstream", request)


def gateway_problem(request: Request, exc: GatewayError) -> JSONResponse:
    """A refusal of the gateway itself as the matching HTTP problem."""
    if isinstance(exc, InvalidField):
        return invalid_request(request, [FieldError(field=exc.field, rule=exc.rule)])
    if isinstance(exc, NotAuthenticated | InvalidCredentials):
        return problem(
            401,
            "Not authenticated",
            "unauthenticated",
            request,
            detail=str(exc),
            headers={"WWW-Authenticate": "Bearer"},
        )
    if isinstance(exc, TooManyAttempts):
        return problem(
            429,
            "Too many attempts",
            "too-many-attempts",
            request,
            detail=str(exc),
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, NotFound):
        return problem(404, "Not found", "not-found", request, detail=str(exc))
    if isinstance(exc, TooLarge):
        return problem(
            413,
            "Request body too large",
            "too-large",
            request,
            detail=str(exc),
            errors=[FieldError(field=exc.field, rule=exc.rule)],
        )
    if isinstance(exc, DocumentErased):
        return problem(410, "Document erased", "erased", request, detail=str(exc))
    if isinstance(exc, DocumentCorrupted):
        # The request was fine and the gateway is healthy: the vault found the stored bytes
        # altered (or their key unknown) and refused to serve them. A retry will not help.
        log.error("vault refused a corrupted document: %s", exc)
        return problem(
            502,
            "Stored document failed its integrity check",
            "integrity",
            request,
            detail="the stored document does not match what was uploaded and was not served; "
            "the failure is recorded in the vault's audit log",
        )
    if isinstance(exc, NotAllowed):
        return problem(403, "Not allowed", "forbidden", request, detail=str(exc))
    if isinstance(exc, EmailTaken):
        field, _, rule = str(exc).partition(": ")
        return problem(
            409,
            "Already exists",
            "conflict",
            request,
            detail=str(exc),
            errors=[FieldError(field=field, rule=rule)],
        )
    if isinstance(exc, IdempotencyConflict):
        return problem(
            409,
            "Idempotency key reused",
            "idempotency-conflict",
            request,
            detail=str(exc),
            errors=[FieldError(field="Idempotency-Key", rule=str(exc))],
        )
    return problem(400, "Refused", "refused", request, detail=str(exc))


def install(app: FastAPI) -> None:
    """Answer every error of the app as problem+json."""

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return invalid_request(request, [validation_error(e) for e in exc.errors()])

    async def on_gateway_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, GatewayError)
        return gateway_problem(request, exc)

    async def on_grpc_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, grpc.aio.AioRpcError)
        return grpc_problem(request, exc)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400:
            # FastAPI's only 400: a body it could not even decode (not UTF-8, broken multipart).
            # That is bad input like any other, so it gets the same 422 naming the field.
            return invalid_request(request, [FieldError(field="body", rule=UNREADABLE_BODY)])
        return problem(
            exc.status_code,
            str(exc.detail),
            "http",
            request,
            headers=dict(exc.headers) if exc.headers else None,
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s", request.url.path, exc_info=exc)
        return problem(500, "Internal error", "internal", request)

    app.add_exception_handler(Exception, on_unexpected)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(GatewayError, on_gateway_error)
    app.add_exception_handler(grpc.aio.AioRpcError, on_grpc_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)


def _oversized_fields(scope: Scope) -> list[FieldError] | None:
    """The field to blame: every multipart route of the API takes one `file`, which is what
    makes such a body large."""
    content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
    if content_type.lower().startswith(b"multipart/form-data"):
        return [FieldError(field="file", rule="is larger than this endpoint accepts")]
    return None


class OversizedBodyAsProblem:
    """Starlette's body limiter answers 413 in plain text, outside every exception handler;
    this outermost layer rewrites that one answer as problem+json."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced = False

        async def send_problem(message: Message) -> None:
            nonlocal replaced
            if (
                message["type"] == "http.response.start"
                and message["status"] == 413
                and (b"content-type", PROBLEM_JSON.encode()) not in message.get("headers", [])
            ):
                replaced = True
                body = Problem(
                    type="/problems/too-large",
                    title="Request body too large",
                    status=413,
                    detail="the request body is larger than this endpoint accepts",
                    instance=scope.get("path"),
                    errors=_oversized_fields(scope),
                ).model_dump_json(exclude_none=True)
                await send(
                    {
                        "type": "http.response.start",
                        "status": 413,
                        "headers": [
                            (b"content-type", PROBLEM_JSON.encode()),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body.encode()})
            elif not replaced:
                await send(message)

        await self.app(scope, receive, send_problem)


class ProblemApi(FastAPI):
    """FastAPI whose every answer, even from its outermost middleware, is problem+json."""

    def build_middleware_stack(self) -> ASGIApp:
        """The usual stack, wrapped so that a body-limit refusal is a problem too."""
        return OversizedBodyAsProblem(super().build_middleware_stack())
