"""The one mapping from refusals to problem+json: every kind a backend sends (as a gRPC status
with google.rpc details, through the typed client) and every kind the gateway raises itself
reads as its HTTP problem."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import grpc
import httpx
import pytest
from fastapi import Request
from sqlalchemy.exc import DBAPIError

from gateway.adapters.intake import IntakeClient
from gateway.adapters.security import Passwords, Tokens
from gateway.domain.errors import (
    DocumentCorrupted,
    EmailTaken,
    IdempotencyConflict,
    InvalidCredentials,
    InvalidField,
    NotAllowed,
    NotAuthenticated,
    TooLarge,
    TooManyAttempts,
)
from gateway.entrypoints.api import problem_handlers
from gateway.entrypoints.api.problems import INTEGRITY_DETAIL, UNAVAILABLE_DETAIL
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
    Violation,
)
from services.gateway.tests.unit.gateway_fakes import (
    PASSWORD,
    PROBLEM,
    FakeAccounts,
    FakeMatching,
    FakeStore,
    http_client,
    marketplace_services,
    rpc_error,
    sign_up,
    status_for,
)

PATH = "/v1/cases/case-1"


class RefusingIntake:
    """Intake's GetCase, answering with the status it is given."""

    def __init__(self) -> None:
        self.error: Any = None

    async def GetCase(self, request: Any) -> Any:
        raise self.error


@pytest.fixture
def intake() -> RefusingIntake:
    return RefusingIntake()


@pytest.fixture
async def client(
    store: FakeStore, passwords: Passwords, tokens: Tokens, intake: RefusingIntake
) -> AsyncIterator[httpx.AsyncClient]:
    services = marketplace_services(store, passwords, tokens, FakeMatching())
    async with http_client(replace(services, intake=IntakeClient(intake))) as http:
        yield http


def problem_of(answer: httpx.Response) -> dict[str, Any]:
    assert answer.headers["content-type"] == PROBLEM, answer.text
    body: dict[str, Any] = answer.json()
    assert body["status"] == answer.status_code
    assert body["instance"] == PATH
    return body


BACKEND_REFUSALS: list[tuple[Any, int, str, str, list[dict[str, str]] | None]] = [
    (
        status_for(InvalidRequest([Violation("as_of", "must be a date, YYYY-MM-DD")])),
        422,
        "invalid-request",
        "as_of: must be a date, YYYY-MM-DD",
        [{"field": "as_of", "rule": "must be a date, YYYY-MM-DD"}],
    ),
    (
        rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "no field named"),
        422,
        "invalid-request",
        "body: no field named",
        [{"field": "body", "rule": "no field named"}],
    ),
    (
        status_for(NotFound("case_id: no such case")),
        404,
        "not-found",
        "case_id: no such case",
        None,
    ),
    (
        status_for(Conflict(violations=[Violation("invoices[0].invoice_number", "already sent")])),
        409,
        "conflict",
        "invoices[0].invoice_number: already sent",
        [{"field": "invoices[0].invoice_number", "rule": "already sent"}],
    ),
    (status_for(StateConflict("case: withdrawn")), 409, "state", "case: withdrawn", None),
    (
        status_for(Gone("document: erased for good")),
        410,
        "erased",
        "document: erased for good",
        None,
    ),
    (
        status_for(PermissionDenied("caller: only a creditor may call this")),
        403,
        "forbidden",
        "caller: only a creditor may call this",
        None,
    ),
    (status_for(Unavailable("database: down")), 503, "unavailable", UNAVAILABLE_DETAIL, None),
    (
        rpc_error(grpc.StatusCode.UNAVAILABLE, "refused"),
        503,
        "unavailable",
        UNAVAILABLE_DETAIL,
        None,
    ),
    (
        rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "late"),
        503,
        "unavailable",
        UNAVAILABLE_DETAIL,
        None,
    ),
    (status_for(DataLoss("content: altered")), 502, "integrity", INTEGRITY_DETAIL, None),
]


@pytest.mark.parametrize(("error", "status", "kind", "detail", "errors"), BACKEND_REFUSALS)
async def test_a_backends_refusal_reads_as_its_problem(
    client: httpx.AsyncClient,
    intake: RefusingIntake,
    error: Any,
    status: int,
    kind: str,
    detail: str,
    errors: list[dict[str, str]] | None,
) -> None:
    alice = await sign_up(client, "alice@example.fr")
    intake.error = error
    body = problem_of(await client.get(PATH, headers=alice))
    assert (body["status"], body["type"], body["detail"]) == (status, f"/problems/{kind}", detail)
    assert body.get("errors") == errors


async def test_retry_hints_travel_as_headers(
    client: httpx.AsyncClient, intake: RefusingIntake
) -> None:
    alice = await sign_up(client, "alice@example.fr")
    intake.error = status_for(Unavailable("down"))
    assert (await client.get(PATH, headers=alice)).headers["Retry-After"] == "1"


async def test_a_backend_refusing_the_gateways_token_is_the_gateways_failure(
    client: httpx.AsyncClient, intake: RefusingIntake
) -> None:
    # The user authenticated; intake not trusting the token the gateway signed for it (a key
    # not rolled out, a clock adrift) must not read as "log in again".
    alice = await sign_up(client, "alice@example.fr")
    intake.error = status_for(Unauthenticated("authorization: a valid bearer token is required"))
    answer = await client.get(PATH, headers=alice)
    assert (problem_of(answer)["status"], problem_of(answer)["type"]) == (502, "/problems/upstream")
    assert "WWW-Authenticate" not in answer.headers
    assert "bearer" not in answer.text


async def test_a_backends_failure_is_a_502_that_tells_nothing_of_it(
    client: httpx.AsyncClient, intake: RefusingIntake
) -> None:
    alice = await sign_up(client, "alice@example.fr")
    intake.error = rpc_error(grpc.StatusCode.INTERNAL, "stack trace with secrets")
    answer = await client.get(PATH, headers=alice)
    body = problem_of(answer)
    assert (body["status"], body["type"]) == (502, "/problems/upstream")
    assert "secrets" not in answer.text


async def test_a_busy_backend_is_a_503_to_retry_that_tells_nothing_of_it(
    client: httpx.AsyncClient, intake: RefusingIntake
) -> None:
    alice = await sign_up(client, "alice@example.fr")
    intake.error = rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "max concurrent rpcs on pod-7")
    answer = await client.get(PATH, headers=alice)
    body = problem_of(answer)
    assert (body["status"], body["type"]) == (503, "/problems/busy")
    assert answer.headers["Retry-After"] == "1"
    assert "pod-7" not in answer.text


GATEWAY_REFUSALS: list[tuple[Refusal, int, str, str, list[dict[str, str]] | None]] = [
    (
        InvalidField("name", "is required"),
        422,
        "invalid-request",
        "name: is required",
        [{"field": "name", "rule": "is required"}],
    ),
    (
        TooLarge("file", "must be at most 25 MiB"),
        413,
        "too-large",
        "file: must be at most 25 MiB",
        [{"field": "file", "rule": "must be at most 25 MiB"}],
    ),
    (NotAuthenticated("API key revoked"), 401, "unauthenticated", "API key revoked", None),
    (
        InvalidCredentials("email or password is wrong"),
        401,
        "unauthenticated",
        "email or password is wrong",
        None,
    ),
    (
        NotAllowed("only partner accounts refer creditors"),
        403,
        "forbidden",
        "only partner accounts refer creditors",
        None,
    ),
    (NotFound("api key: no such key"), 404, "not-found", "api key: no such key", None),
    (
        EmailTaken(),
        409,
        "conflict",
        "email: an account already uses this address",
        [{"field": "email", "rule": "an account already uses this address"}],
    ),
    (
        IdempotencyConflict("this key was already used with a different request"),
        409,
        "idempotency-conflict",
        "this key was already used with a different request",
        [
            {
                "field": "Idempotency-Key",
                "rule": "this key was already used with a different request",
            }
        ],
    ),
    (
        TooManyAttempts(retry_after=7),
        429,
        "too-many-attempts",
        "too many failed log-ins; retry in 7 s",
        None,
    ),
    (DocumentCorrupted("no description"), 502, "integrity", INTEGRITY_DETAIL, None),
    (
        Refusal("refused for a reason of its own"),
        400,
        "refused",
        "refused for a reason of its own",
        None,
    ),
]


@pytest.mark.parametrize(("refusal", "status", "kind", "detail", "errors"), GATEWAY_REFUSALS)
async def test_the_gateways_own_refusal_reads_as_its_problem(
    refusal: Refusal,
    status: int,
    kind: str,
    detail: str,
    errors: list[dict[str, str]] | None,
) -> None:
    app = problem_handlers.ProblemApi()
    problem_handlers.install(app)

    @app.get(PATH)
    async def refuse(request: Request) -> None:
        raise refusal

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        answer = await http.get(PATH)
    body = problem_of(answer)
    assert (body["status"], body["type"], body["detail"]) == (status, f"/problems/{kind}", detail)
    assert body.get("errors") == errors
    if isinstance(refusal, TooManyAttempts):
        assert answer.headers["Retry-After"] == "7"
    if isinstance(refusal, NotAuthenticated | InvalidCredentials):
        assert answer.headers["WWW-Authenticate"] == "Bearer"


def connection_reset() -> DBAPIError:
    """What SQLAlchemy raises when the database connection is reset under a statement."""
    return DBAPIError(
        "SELECT users.id FROM users",
        {},
        ConnectionResetError("reset by peer"),
        connection_invalidated=True,
    )


async def test_the_gateways_database_reset_mid_request_is_a_503_to_retry(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_up(client, "alice@example.fr")

    async def reset(self: FakeAccounts, email: str) -> None:
        raise connection_reset()

    monkeypatch.setattr(FakeAccounts, "user_by_email", reset)
    answer = await client.post(
        "/v1/auth/token", json={"email": "alice@example.fr", "password": PASSWORD}
    )
    body = answer.json()
    assert answer.headers["content-type"] == PROBLEM
    assert (body["status"], body["type"]) == (503, "/problems/unavailable")
    assert body["detail"] == UNAVAILABLE_DETAIL
    assert answer.headers["Retry-After"] == "1"
    assert "users" not in answer.text


async def test_a_fault_of_the_gateways_own_code_is_still_a_500(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_up(client, "alice@example.fr")

    async def broken(self: FakeAccounts, email: str) -> None:
        raise KeyError("organisation_id")

    monkeypatch.setattr(FakeAccounts, "user_by_email", broken)
    answer = await client.post(
        "/v1/auth/token", json={"email": "alice@example.fr", "password": PASSWORD}
    )
    assert (answer.json()["status"], answer.json()["type"]) == (500, "/problems/internal")
