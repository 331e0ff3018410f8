"""The OpenAPI document a partner integrates from: every endpoint tagged, secured, exemplified."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from gateway.adapters.security import Passwords, Tokens
from gateway.domain.model import LoginPolicy
from gateway.entrypoints.api.deps import GatewayServices
from gateway.entrypoints.http import create_app
from services.gateway.tests.unit.gateway_fakes import FakeStore

PUBLIC = {
    ("post", "/v1/accounts"),
    ("post", "/v1/provider/accounts"),
    ("post", "/v1/auth/token"),
    ("post", "/v1/invitations/accept"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/status"),
}


@pytest.fixture
def document(store: FakeStore, passwords: Passwords, tokens: Tokens) -> dict[str, Any]:
    services = GatewayServices(
        unit_of_work=store.unit_of_work,
        passwords=passwords,
        tokens=tokens,
        login_policy=LoginPolicy(max_failures=3, window_seconds=60),
        fingerprint_secret=b"k",
    )
    app: FastAPI = create_app(services, {})
    return app.openapi()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def has_example(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return bool(schema.get("examples") or schema.get("example"))


def test_every_case_endpoint_of_the_issue_is_documented(document: dict[str, Any]) -> None:
    documented = {(m, p) for m, p, _ in operations(document)}
    assert {
        ("post", "/v1/cases"),
        ("post", "/v1/cases/imports"),
        ("post", "/v1/cases/e-invoices"),
        ("get", "/v1/cases"),
        ("get", "/v1/cases/{case_id}"),
        ("get", "/v1/cases/{case_id}/timeline"),
        ("post", "/v1/cases/{case_id}/withdrawal"),
        ("post", "/v1/cases/{case_id}/payments"),
    } <= documented


def test_every_operation_is_tagged_summarised_and_secured(document: dict[str, Any]) -> None:
    assert set(document["components"]["securitySchemes"]) == {"bearerAuth", "apiKeyAuth"}
    for method, path, operation in operations(document):
        assert operation.get("tags"), (method, path)
        assert operation.get("summary"), (method, path)
        if (method, path) not in PUBLIC:
            schemes = {name for s in operation.get("security", []) for name in s}
            assert schemes == {"bearerAuth", "apiKeyAuth"}, (method, path)


def test_every_body_and_json_answer_has_an_example(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        if path in {"/healthz", "/readyz", "/status"}:
            continue
        body = operation.get("requestBody", {}).get("content", {})
        if "application/json" in body:
            assert has_example(document, body["application/json"]["schema"]), (method, path)
        for code, response in operation["responses"].items():
            content = response.get("content", {})
            for media in ("application/json", "application/problem+json"):
                if media in content and code != "204":
                    assert has_example(document, content[media]["schema"]), (method, path, code)


def test_every_post_but_log_in_requires_an_idempotency_key(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        if method != "post" or path == "/v1/auth/token":
            continue
        headers = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}
        assert headers.get("Idempotency-Key", {}).get("required"), path


def test_errors_are_documented_as_problem_details(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        for code, response in operation["responses"].items():
            if code.startswith("4"):
                assert "application/problem+json" in response.get("content", {}), (
                    method,
                    path,
                    code,
                )


def refers_to_money(schema: dict[str, Any]) -> bool:
    options = schema.get("anyOf", [schema])
    return any(o.get("$ref") == "#/components/schemas/Money" for o in options)


def test_every_amount_sent_or_received_is_the_one_money_shape(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    money = schemas["Money"]
    assert set(money["required"]) == {"amount", "currency"}
    assert money["properties"]["amount"]["type"] == "string"
    assert "exactly as many decimals as the currency has" in money["description"]
    amounts = {
        "InvoiceIn": {"amount_due", "total_amount"},
        "PaymentDeclaration": {"amount"},
        "PaymentIn": {"amount"},
        "ActionIn": {"promised_amount"},
        "BidIn": {"fixed_fee"},
        "BidView": {"fixed_fee"},
        "AutoBidRuleIn": {"fixed_fee", "min_amount", "max_amount"},
        "AutoBidRuleView": {"fixed_fee", "min_amount", "max_amount"},
        "ProviderProfileIn": {"min_amount", "max_amount"},
        "ProviderProfileView": {"min_amount", "max_amount"},
        "QuoteView": {"fixed_fee", "cost_on_full_recovery", "expected_net_recovery"},
        "DeclaredPayment": {"amount"},
        "CaseView": {"amount"},
        "HeldCaseView": {"fixed_fee", "amount", "recovered"},
        "PaymentClaimView": {"amount"},
        "PaymentClaimAnswer": {"recovered"},
    }
    for name, fields in amounts.items():
        for field in fields:
            assert refers_to_money(schemas[name]["properties"][field]), (name, field)
    # No other shape carries a currency of its own beside an amount.
    assert [n for n, s in schemas.items() if "currency" in s.get("properties", {})] == ["Money"]
