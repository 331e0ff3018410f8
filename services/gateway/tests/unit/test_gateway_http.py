"""The REST layer over fakes: who intake is called as, and every refusal as problem+json."""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import pytest

from gateway.adapters.intake import IntakeClient
from gateway.adapters.security import Passwords, Tokens
from gateway.domain.model import LoginPolicy
from gateway.entrypoints.api.deps import GatewayServices
from gateway.entrypoints.http import create_app
from recouvra.common.v1.money_pb2 import Money
from recouvra.intake.v1 import intake_pb2
from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    StateConflict,
    Violation,
)
from services.gateway.tests.unit.gateway_fakes import FakeStore, rpc_error, status_for

PASSWORD = "correct horse battery staple"
PROBLEM = "application/problem+json"


class FakeIntake:
    """Answers like intake and records who each call was made as."""

    def __init__(self) -> None:
        self.callers: list[Caller | None] = []
        self.requests: list[Any] = []
        self.error: Any = None
        self.declared_at = ""

    async def _answer(self, request: Any, reply: Any) -> Any:
        self.callers.append(caller_var.get())
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        return reply

    async def SubmitCase(self, request: Any) -> Any:
        return await self._answer(request, intake_pb2.SubmitCaseResponse(case_id="case-1"))

    def ImportCases(self, requests: Any, metadata: Any = (), timeout: float = 0) -> Any:
        # Like the client interceptor, the caller is read when the call starts.
        caller = caller_var.get()

        async def answer() -> Any:
            received = [request async for request in requests]
            self.requests.append(received)
            self.callers.append(caller)
            rows = b"".join(r.content for r in received).decode().splitlines()[1:]
            for start in range(0, len(rows), 2):
                yield intake_pb2.ImportCasesResponse(
                    report=[
                        intake_pb2.RowReport(
                            line=start + i + 2,
                            accepted=row.startswith("ok"),
                            case_id=f"case-{start + i}" if row.startswith("ok") else "",
                            violations=[]
                            if row.startswith("ok")
                            else [
                                intake_pb2.FieldViolation(field="debtor_siren", description="bad")
                            ],
                        )
                        for i, row in enumerate(rows[start : start + 2])
                    ]
                )
            accepted = sum(row.startswith("ok") for row in rows)
            yield intake_pb2.ImportCasesResponse(
                rows=len(rows), accepted=accepted, refused=len(rows) - accepted, done=True
            )

        return answer()

    async def DeclarePayment(self, request: Any) -> Any:
        # Intake leaves declared_at empty when it does not know it.
        payment = intake_pb2.DeclaredPayment(
            amount=Money(currency=request.currency, minor_units=40_000),
            paid_on=request.paid_on,
            declared_at=self.declared_at,
        )
        case = intake_pb2.Case(case_id=request.case_id, creditor_id=request.creditor_id)
        case.payments.append(payment)
        return await self._answer(request, case)

    async def GetCase(self, request: Any) -> Any:
        return await self._answer(
            request,
            intake_pb2.Case(case_id=request.case_id, creditor_id=request.creditor_id),
        )


@pytest.fixture
def intake() -> FakeIntake:
    return FakeIntake()


@pytest.fixture
async def client(store: FakeStore, passwords: Passwords, tokens: Tokens, intake: FakeIntake) -> Any:
    services = GatewayServices(
        unit_of_work=store.unit_of_work,
        passwords=passwords,
        tokens=tokens,
        login_policy=LoginPolicy(max_failures=3, window_seconds=60),
        fingerprint_secret=b"unit",
        intake=IntakeClient(intake),
    )
    # As under uvicorn: an unhandled error becomes a 500 answer, not an exception in the test.
    transport = httpx.ASGITransport(app=create_app(services, {}), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


async def log_in(client: httpx.AsyncClient, email: str, kind: str = "creditor") -> dict[str, str]:
    signed = await client.post(
        "/v1/accounts",
        json={
            "organisation_name": email,
            "kind": kind,
            "siren": "732829320",
            "email": email,
            "password": PASSWORD,
        },
        headers={"Idempotency-Key": email},
    )
    assert signed.status_code == 201, signed.text
    token = await client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


CASE = {
    "debtor": {"kind": "consumer", "name": "Jean Martin"},
    "invoices": [
        {
            "invoice_number": "F-1",
            "issue_date": "2026-01-05",
            "due_date": "2026-02-04",
            "amount_due": {"amount": "99.90", "currency": "EUR"},
        }
    ],
}


async def test_intake_is_called_as_the_creditor_with_the_clients_key(
    client: httpx.AsyncClient, intake: FakeIntake
) -> None:
    alice = await log_in(client, "alice@example.fr")
    me = (await client.get("/v1/me", headers=alice)).json()
    # Headers naming another caller are the client's words: the gateway signs for whom it
    # authenticated, and forwards nothing of the request's headers.
    forged = {
        "X-Caller-Kind": "operator",
        "X-Caller-Tenant": "creditor-b",
        "X-Caller-Subject": "root",
    }
    created = await client.post(
        "/v1/cases", json=CASE, headers=alice | forged | {"Idempotency-Key": "k1"}
    )
    assert created.status_code == 201
    assert created.headers["Location"] == "/v1/cases/case-1"
    caller = intake.callers[-1]
    assert caller == Caller(kind="creditor", subject=me["subject"], tenant_id=me["organisation_id"])
    request = intake.requests[-1]
    assert request.idempotency_key == "k1"
    assert request.creditor_id == me["organisation_id"]
    assert request.debtor.kind == intake_pb2.Debtor.CONSUMER
    assert (request.invoices[0].amount_due, request.invoices[0].currency) == ("99.90", "EUR")
    assert caller_var.get() is None  # the caller does not leak past the call


@pytest.mark.parametrize(
    ("error", "status", "fields"),
    [
        (status_for(NotFound("case_id: no such case")), 404, None),
        (
            status_for(
                InvalidRequest(
                    [
                        Violation("invoices[0].due_date", "must not be before issue_date"),
                        Violation("debtor.vat_number", "must be a valid EU VAT number"),
                    ]
                )
            ),
            422,
            {"invoices[0].due_date", "debtor.vat_number"},
        ),
        (
            status_for(
                Conflict(
                    violations=[
                        Violation("invoices[0].invoice_number", "already submitted for this debtor")
                    ]
                )
            ),
            409,
            {"invoices[0].invoice_number"},
        ),
        (status_for(StateConflict("case is withdrawn")), 409, None),
        (rpc_error(grpc.StatusCode.UNAVAILABLE, "connection refused"), 503, None),
    ],
)
async def test_service_refusals_become_problem_details(
    client: httpx.AsyncClient,
    intake: FakeIntake,
    error: Any,
    status: int,
    fields: set[str] | None,
) -> None:
    alice = await log_in(client, "alice@example.fr")
    intake.error = error
    answer = await client.get("/v1/cases/some-case", headers=alice)
    assert answer.status_code == status
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert body["status"] == status
    assert body["instance"] == "/v1/cases/some-case"
    if fields is not None:
        assert {e["field"] for e in body["errors"]} == fields


async def test_bad_input_names_every_field_and_reaches_no_service(
    client: httpx.AsyncClient, intake: FakeIntake
) -> None:
    alice = await log_in(client, "alice@example.fr")
    bad = {
        "debtor": {"kind": "company", "name": "", "siren_or_siret": "123456789"},
        "invoices": [
            CASE["invoices"][0]
            | {
                "amount_due": {"amount": "12.5.0", "currency": "EUR"},
                "total_amount": {"amount": 12.5, "currency": "EUR"},
            }
        ],
        "colour": "blue",
    }
    answer = await client.post("/v1/cases", json=bad, headers=alice | {"Idempotency-Key": "k"})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    assert {e["field"] for e in answer.json()["errors"]} == {
        "debtor.name",
        "debtor.siren_or_siret",
        "invoices[0].amount_due.amount",
        "invoices[0].total_amount.amount",
        "colour",
    }
    assert intake.requests == []


async def test_money_is_one_shape_in_and_out_and_inexact_amounts_are_refused_by_name(
    client: httpx.AsyncClient, intake: FakeIntake
) -> None:
    alice = await log_in(client, "alice@example.fr")
    payment = {"amount": {"amount": "400", "currency": "EUR"}, "paid_on": "2026-11-20"}
    paid = await client.post(
        "/v1/cases/c/payments", json=payment, headers=alice | {"Idempotency-Key": "p1"}
    )
    assert paid.status_code == 200, paid.text
    assert (intake.requests[-1].amount, intake.requests[-1].currency) == ("400.00", "EUR")
    [declared] = paid.json()["payments"]
    assert declared["amount"] == {"amount": "400.00", "currency": "EUR"}
    assert declared["declared_at"] is None  # never "", which no client reads as a date
    calls = len(intake.requests)
    for amount, rule in [
        (400.0, 'must be a decimal string in major units, e.g. "1234.56", never a JSON number'),
        ("400.001", "must have at most 2 decimals in EUR"),
        ("4e2", 'must be a decimal string in major units, e.g. "1234.56", never a JSON number'),
    ]:
        bad = payment | {"amount": {"amount": amount, "currency": "EUR"}}
        refused = await client.post(
            "/v1/cases/c/payments", json=bad, headers=alice | {"Idempotency-Key": str(amount)}
        )
        assert refused.status_code == 422
        assert refused.json()["errors"] == [{"field": "amount.amount", "rule": rule}]
    in_yen = payment | {"amount": {"amount": "400.5", "currency": "JPY"}}
    refused = await client.post(
        "/v1/cases/c/payments", json=in_yen, headers=alice | {"Idempotency-Key": "yen"}
    )
    assert refused.json()["errors"] == [
        {"field": "amount.amount", "rule": "must have at most 0 decimals in JPY"}
    ]
    assert len(intake.requests) == calls  # nothing reached intake


async def test_a_declared_payment_carries_when_it_was_declared(
    client: httpx.AsyncClient, intake: FakeIntake
) -> None:
    alice = await log_in(client, "alice@example.fr")
    intake.declared_at = "2026-11-20T09:30:00+00:00"
    payment = {"amount": {"amount": "400.00", "currency": "EUR"}, "paid_on": "2026-11-20"}
    paid = await client.post(
        "/v1/cases/c/payments", json=payment, headers=alice | {"Idempotency-Key": "p"}
    )
    assert paid.json()["payments"][0]["declared_at"] == "2026-11-20T09:30:00Z"


async def test_a_revoked_api_key_stops_working_at_once(client: httpx.AsyncClient) -> None:
    alice = await log_in(client, "alice@example.fr")
    made = await client.post(
        "/v1/api-keys", json={"name": "export"}, headers=alice | {"Idempotency-Key": "key-1"}
    )
    secret = made.json()["key"]
    assert (await client.get("/v1/me", headers={"X-API-Key": secret})).status_code == 200
    as_bearer = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/v1/me", headers=as_bearer)).json()["subject"].startswith("key:")
    replay = await client.post(
        "/v1/api-keys", json={"name": "export"}, headers=alice | {"Idempotency-Key": "key-1"}
    )
    assert replay.json()["id"] == made.json()["id"]
    assert replay.json()["key"] is None  # the secret is shown once, not stored for replays
    listed = (await client.get("/v1/api-keys", headers=alice)).json()["items"]
    assert [k["prefix"] for k in listed] == [made.json()["prefix"]]
    assert secret not in str(listed)
    assert (
        await client.delete(f"/v1/api-keys/{made.json()['id']}", headers=alice)
    ).status_code == 204
    assert (await client.get("/v1/me", headers=as_bearer)).status_code == 401
    refused = await client.get("/v1/me", headers={"X-API-Key": secret})
    assert refused.status_code == 401
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["detail"] == "API key revoked"


async def new_api_key(client: httpx.AsyncClient, headers: dict[str, str], name: str) -> str:
    made = await client.post(
        "/v1/api-keys", json={"name": name}, headers=headers | {"Idempotency-Key": name}
    )
    assert made.status_code == 201, made.text
    return str(made.json()["key"])


async def test_credentials_that_disagree_or_fail_are_refused_whatever_comes_with_them(
    client: httpx.AsyncClient,
) -> None:
    alice = await log_in(client, "alice@example.fr")
    bob = await log_in(client, "bob@example.fr")
    alice_key = await new_api_key(client, alice, "alice-export")
    bob_key = await new_api_key(client, bob, "bob-export")
    forged = alice_key[:-4] + "xxxx"
    refused = [
        alice | {"X-API-Key": bob_key},  # two accounts
        {"Authorization": f"Bearer {bob_key}", "X-API-Key": alice_key},
        alice | {"X-API-Key": forged},  # an invalid key beside a valid token
        {"Authorization": "Bearer not-a-token", "X-API-Key": alice_key},
    ]
    for headers in refused:
        answer = await client.get("/v1/me", headers=headers)
        assert answer.status_code == 401, headers
        assert answer.headers["content-type"] == PROBLEM
        assert answer.headers["WWW-Authenticate"] == "Bearer"
    me = (await client.get("/v1/me", headers=alice)).json()
    for headers in (
        alice | {"X-API-Key": alice_key},
        {"Authorization": f"Bearer {alice_key}", "X-API-Key": alice_key},
    ):
        both = await client.get("/v1/me", headers=headers)
        assert both.status_code == 200, both.text
        assert both.json()["organisation_id"] == me["organisation_id"]


async def test_a_partner_calls_intake_for_its_referred_creditor_only(
    client: httpx.AsyncClient, intake: FakeIntake
) -> None:
    partner = await log_in(client, "api@facturo.fr", kind="partner")
    alice = await log_in(client, "alice@example.fr")
    alice_id = (await client.get("/v1/me", headers=alice)).json()["organisation_id"]
    referred = await client.post(
        "/v1/partner/creditors",
        json={"organisation_name": "Boulangerie Martin", "siren": "552 100 554"},
        headers=partner | {"Idempotency-Key": "c1"},
    )
    creditor = referred.json()
    assert creditor["siren"] == "552100554"
    partner_id = creditor["referrer_id"]
    read = await client.get("/v1/cases/c", headers=partner | {"X-On-Behalf-Of": creditor["id"]})
    assert read.status_code == 200
    assert intake.requests[-1].creditor_id == creditor["id"]
    assert intake.callers[-1].kind == "partner"
    assert intake.callers[-1].tenant_id == partner_id
    calls = len(intake.requests)
    foreign = await client.get("/v1/cases/c", headers=partner | {"X-On-Behalf-Of": alice_id})
    assert foreign.status_code == 404
    unnamed = await client.get("/v1/cases/c", headers=partner)
    assert unnamed.status_code == 422
    assert {e["field"] for e in unnamed.json()["errors"]} == {"X-On-Behalf-Of"}
    assert len(intake.requests) == calls  # neither reached intake
    listed = await client.get("/v1/partner/creditors", headers=partner)
    assert [c["id"] for c in listed.json()["items"]] == [creditor["id"]]


async def test_a_csv_import_streams_in_chunks_and_answers_row_by_row(
    client: httpx.AsyncClient, intake: FakeIntake
) -> None:
    alice = await log_in(client, "alice@example.fr")
    me = (await client.get("/v1/me", headers=alice)).json()
    lines = ["ok", "bad", "ok"] + ["ok" + "x" * 300_000] * 4  # ~1.2 MB: more than one chunk
    csv = ("header\n" + "\n".join(lines) + "\n").encode()
    answer = await client.post(
        "/v1/cases/imports",
        files={"file": ("cases.csv", csv, "text/csv")},
        headers=alice | {"Idempotency-Key": "import-1"},
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["rows"], report["accepted"], report["refused"]) == (7, 6, 1)
    assert [row["line"] for row in report["report"]] == [2, 3, 4, 5, 6, 7, 8]
    assert report["report"][1]["errors"] == [{"field": "debtor_siren", "rule": "bad"}]
    sent = intake.requests[-1]
    assert len(sent) == 2
    assert (sent[0].idempotency_key, sent[0].creditor_id) == ("import-1", me["organisation_id"])
    assert (sent[1].idempotency_key, sent[1].creditor_id) == ("", "")
    assert b"".join(r.content for r in sent) == csv
    assert intake.callers[-1] == Caller("creditor", me["subject"], me["organisation_id"])


async def test_an_empty_upload_is_refused_naming_the_file(
    client: httpx.AsyncClient, intake: FakeIntake
) -> None:
    alice = await log_in(client, "alice@example.fr")
    answer = await client.post(
        "/v1/cases/imports",
        files={"file": ("cases.csv", b"", "text/csv")},
        headers=alice | {"Idempotency-Key": "import-2"},
    )
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"field": "file", "rule": "must not be empty"}]
    assert intake.requests == []


async def test_an_unexpected_failure_is_a_problem_too(
    client: httpx.AsyncClient, intake: FakeIntake
) -> None:
    alice = await log_in(client, "alice@example.fr")
    intake.error = RuntimeError("boom")
    answer = await client.get("/v1/cases/c", headers=alice)
    assert answer.status_code == 500
    assert answer.headers["content-type"] == PROBLEM
    assert "boom" not in answer.text
    unknown = await client.get("/v1/nothing-here")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM


async def test_an_oversized_body_is_refused_before_it_is_read(
    client: httpx.AsyncClient, intake: FakeIntake
) -> None:
    alice = await log_in(client, "alice@example.fr")
    huge = CASE | {"notes": "x" * (2 * 1024 * 1024)}
    answer = await client.post("/v1/cases", json=huge, headers=alice | {"Idempotency-Key": "big"})
    assert answer.status_code == 413
    assert answer.headers["content-type"] == PROBLEM
    assert intake.requests == []
    two_mib_csv = b"header\n" + (b"ok" + b"x" * 700_000 + b"\n") * 3  # fine for an upload
    report = await client.post(
        "/v1/cases/imports",
        files={"file": ("cases.csv", two_mib_csv)},
        headers=alice | {"Idempotency-Key": "csv"},
    )
    assert report.status_code == 200, report.text


async def test_password_guessing_is_answered_429_with_retry_after(
    client: httpx.AsyncClient,
) -> None:
    await log_in(client, "alice@example.fr")
    wrong = {"email": "alice@example.fr", "password": "not the password"}
    for _ in range(3):
        assert (await client.post("/v1/auth/token", json=wrong)).status_code == 401
    right = wrong | {"password": PASSWORD}
    locked = await client.post("/v1/auth/token", json=right)
    assert locked.status_code == 429
    assert locked.headers["content-type"] == PROBLEM
    assert 0 < int(locked.headers["Retry-After"]) <= 60


async def test_issue_13_point_5_an_api_key_cannot_create_api_keys(
    client: httpx.AsyncClient,
) -> None:
    alice = await log_in(client, "alice@example.fr")
    plain = {"X-API-Key": await new_api_key(client, alice, "export")}  # read and write
    made = await client.post(
        "/v1/api-keys", json={"name": "successor"}, headers=plain | {"Idempotency-Key": "s-1"}
    )
    assert made.status_code == 403, made.text
    assert "keys" in made.json()["detail"]
    assert (await client.get("/v1/api-keys", headers=plain)).status_code == 403
    listed = (await client.get("/v1/api-keys", headers=alice)).json()["items"]
    assert [k["scopes"] for k in listed] == [["read", "write"]]  # nothing was made by the key
    refused = await client.delete(f"/v1/api-keys/{listed[0]['id']}", headers=plain)
    assert refused.status_code == 403
    assert (await client.get("/v1/me", headers=plain)).status_code == 200  # still works


async def test_a_key_with_the_keys_scope_grants_only_scopes_it_holds(
    client: httpx.AsyncClient,
) -> None:
    alice = await log_in(client, "alice@example.fr")
    admin = await client.post(
        "/v1/api-keys",
        json={"name": "key admin", "scopes": ["read", "keys"]},
        headers=alice | {"Idempotency-Key": "admin"},
    )
    assert admin.json()["scopes"] == ["read", "keys"]
    as_admin = {"X-API-Key": admin.json()["key"]}
    wider = await client.post(
        "/v1/api-keys",
        json={"name": "wider", "scopes": ["write"]},
        headers=as_admin | {"Idempotency-Key": "wider"},
    )
    assert wider.status_code == 422
    assert wider.json()["errors"][0]["field"] == "scopes"
    reader = await client.post(
        "/v1/api-keys",
        json={"name": "dashboard", "scopes": ["read"]},
        headers=as_admin | {"Idempotency-Key": "reader"},
    )
    assert reader.status_code == 201, reader.text
    as_reader = {"X-API-Key": reader.json()["key"]}
    assert (await client.get("/v1/me", headers=as_reader)).status_code == 200
    writing = await client.post(
        "/v1/cases", json={}, headers=as_reader | {"Idempotency-Key": "case-1"}
    )
    assert writing.status_code == 403
    assert "'write' scope" in writing.json()["detail"]
    unknown = await client.post(
        "/v1/api-keys",
        json={"name": "odd", "scopes": ["admin"]},
        headers=alice | {"Idempotency-Key": "odd"},
    )
    assert unknown.status_code == 422


async def test_an_api_key_expires_when_its_creator_said(client: httpx.AsyncClient) -> None:
    alice = await log_in(client, "alice@example.fr")
    past = await client.post(
        "/v1/api-keys",
        json={"name": "late", "expires_at": "2020-01-01T00:00:00Z"},
        headers=alice | {"Idempotency-Key": "late"},
    )
    assert past.status_code == 422
    assert past.json()["errors"][0]["field"] == "expires_at"
    soon = await client.post(
        "/v1/api-keys",
        json={"name": "soon", "expires_at": "2099-01-01T00:00:00Z"},
        headers=alice | {"Idempotency-Key": "soon"},
    )
    assert soon.status_code == 201, soon.text
    assert soon.json()["expires_at"] == "2099-01-01T00:00:00Z"
    as_soon = {"X-API-Key": soon.json()["key"]}
    assert (await client.get("/v1/me", headers=as_soon)).status_code == 200


async def test_a_creditor_without_siren_is_refused_until_it_gives_one_then_always_accepted(
    client: httpx.AsyncClient, intake: FakeIntake
) -> None:
    """The gateway remembers creditors it saw with a SIREN (it can be corrected, never
    removed): a refusal is never remembered, so the case after the profile goes through."""
    signed = await client.post(
        "/v1/accounts",
        json={"organisation_name": "Atelier", "email": "a@atelier.fr", "password": PASSWORD},
        headers={"Idempotency-Key": "signup"},
    )
    assert signed.status_code == 201, signed.text
    login = await client.post(
        "/v1/auth/token", json={"email": "a@atelier.fr", "password": PASSWORD}
    )
    creditor = {"Authorization": f"Bearer {login.json()['access_token']}"}
    for attempt in ("first", "second"):
        refused = await client.post(
            "/v1/cases", json=CASE, headers=creditor | {"Idempotency-Key": attempt}
        )
        assert refused.status_code == 409, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["siren"]
    assert intake.requests == []
    profile = await client.put("/v1/account/profile", json={"siren": "732829320"}, headers=creditor)
    assert profile.status_code == 200, profile.text
    for attempt in ("third", "fourth"):
        accepted = await client.post(
            "/v1/cases", json=CASE, headers=creditor | {"Idempotency-Key": attempt}
        )
        assert accepted.status_code == 201, accepted.text
    assert len(intake.requests) == 2
