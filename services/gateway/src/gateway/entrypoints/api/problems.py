"""RFC 9457 problem details: every refusal, the gateway's or a backend's, names what went wrong
and, for input, each field. One mapping, `refusal_problem`, turns the platform's refusals
(recouvra_shared.errors) into HTTP problems for every route."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from gateway.domain.errors import Busy, IdempotencyConflict, TooLarge, TooManyAttempts
from gateway.schemas.common import FieldError
from recouvra_shared.errors import (
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
)

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
UNREADABLE_BODY = "must be JSON in UTF-8 (multipart/form-data for file uploads)"
__all__ = ["FieldError", "Problem", "problem", "problem_responses", "refusal_problem"]


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
        429: "Too many failed log-ins for this email, or too many requests of this kind from "
        "this address or on this server; retry after Retry-After seconds",
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


@dataclass(frozen=True)
class ProblemKind:
    """How one kind of refusal reads over HTTP."""

    status: int
    title: str
    type: str


# The most specific class of a refusal chooses its problem (see `refusal_problem`).
PROBLEM_KINDS: dict[type[Refusal], ProblemKind] = {
    InvalidRequest: ProblemKind(422, "The request has invalid fields", "invalid-request"),
    TooLarge: ProblemKind(413, "Request body too large", "too-large"),
    Unauthenticated: ProblemKind(401, "Not authenticated", "unauthenticated"),
    PermissionDenied: ProblemKind(403, "Not allowed", "forbidden"),
    NotFound: ProblemKind(404, "Not found", "not-found"),
    Conflict: ProblemKind(409, "Already exists", "conflict"),
    IdempotencyConflict: ProblemKind(409, "Idempotency key reused", "idempotency-conflict"),
    StateConflict: ProblemKind(409, "Not possible in the current state", "state"),
    # Only documents are destroyed for good (crypto-shredded).
    Gone: ProblemKind(410, "Document erased", "erased"),
    TooManyAttempts: ProblemKind(429, "Too many attempts", "too-many-attempts"),
    # Only the vault checks stored bytes: the request was fine and the gateway is healthy, and
    # a retry will not help.
    DataLoss: ProblemKind(502, "Stored document failed its integrity check", "integrity"),
    Unavailable: ProblemKind(503, "Service unavailable", "unavailable"),
    Busy: ProblemKind(503, "Busy", "busy"),
}
REFUSED = ProblemKind(400, "Refused", "refused")
UNAVAILABLE_DETAIL = "a backing service did not answer; retry with the same Idempotency-Key"
INTEGRITY_DETAIL = (
    "the stored document does not match what was uploaded and was not served; "
    "the failure is recorded in the vault's audit log"
)


def problem_kind(refusal: Refusal) -> ProblemKind:
    """The problem of the refusal's most specific kind that has one."""
    for kind in type(refusal).__mro__:
        if kind in PROBLEM_KINDS:
            return PROBLEM_KINDS[kind]
    return REFUSED


def _headers(refusal: Refusal) -> dict[str, str] | None:
    if isinstance(refusal, Unauthenticated):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(refusal, TooManyAttempts):
        return {"Retry-After": str(refusal.retry_after)}
    if isinstance(refusal, Unavailable):
        return {"Retry-After": "1"}
    return None


def refusal_problem(request: Request, refusal: Refusal) -> JSONResponse:
    """The one translation of a refusal into problem+json: status and type by its kind, its
    message as the detail, its violations as the named fields."""
    kind = problem_kind(refusal)
    errors = [FieldError(field=v.field, rule=v.rule) for v in refusal.violations] or None
    detail: str = refusal.message
    if kind.type == "invalid-request":
        errors = errors or [FieldError(field="body", rule=refusal.message)]
        detail = "; ".join(f"{e.field}: {e.rule}" for e in errors)
    elif isinstance(refusal, Unavailable) and not isinstance(refusal, Busy):
        detail = UNAVAILABLE_DETAIL
    elif isinstance(refusal, DataLoss):
        log.error("a stored document failed its integrity check: %s", refusal)
        detail = INTEGRITY_DETAIL
    return problem(
        kind.status,
        kind.title,
        kind.type,
        request,
        detail=detail,
        errors=errors,
        headers=_headers(refusal),
    )
