"""Property-based: whatever a client sends, the API answers a documented status, never a 500.

Not a substitute for a schemathesis run against the OpenAPI document (see the report): this
mutates valid bodies field by field, where most input bugs hide.
"""

from __future__ import annotations

import asyncio
import copy
import functools
from typing import Any

import httpx
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.adapters.intake import IntakeClient
from gateway.adapters.security import Passwords, Tokens
from gateway.domain.model import LoginPolicy
from gateway.entrypoints.api.deps import GatewayServices
from gateway.entrypoints.http import create_app
from recouvra.intake.v1 import intake_pb2
from services.gateway.tests.unit.gateway_fakes import SECRET, FakeStore

VALID_CASE: dict[str, Any] = {
    "debtor": {
        "kind": "company",
        "name": "Transports Lefèvre SAS",
        "siren_or_siret": "552100554",
        "address": {"lines": ["12 rue des Lilas"], "postal_code": "69003", "city": "Lyon"},
    },
    "invoices": [
        {
            "invoice_number": "F-1",
            "issue_date": "2026-03-02",
            "due_date": "2026-04-01",
            "amount_due": {"amount": "1250.00", "currency": "EUR"},
        }
    ],
    "disputed": False,
    "notes": "",
}
PATHS = [
    ("debtor", "kind"),
    ("debtor", "name"),
    ("debtor", "siren_or_siret"),
    ("debtor", "address"),
    ("debtor", "address", "lines"),
    ("invoices",),
    ("invoices", 0, "issue_date"),
    ("invoices", 0, "amount_due"),
    ("invoices", 0, "amount_due", "amount"),
    ("invoices", 0, "amount_due", "currency"),
    ("disputed",),
    ("notes",),
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["-1", "0", "1e9", "12.345", "2026-02-30", "EURO", "", " "]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


class AcceptingIntake:
    """Intake that accepts whatever reaches it."""

    async def SubmitCase(self, request: Any) -> Any:
        return intake_pb2.SubmitCaseResponse(case_id="case-1")


class Client:
    """A synchronous face on the ASGI app, for Hypothesis, on one event loop of its own."""

    def __init__(self) -> None:
        store = FakeStore()
        services = GatewayServices(
            unit_of_work=store.unit_of_work,
            passwords=Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)),
            tokens=Tokens(
                SECRET, issuer="recouvra-gateway", audience="recouvra-api", ttl_seconds=900
            ),
            login_policy=LoginPolicy(max_failures=3, window_seconds=60),
            fingerprint_secret=b"fuzz",
            intake=IntakeClient(AcceptingIntake()),
        )
        transport = httpx.ASGITransport(app=create_app(services, {}), raise_app_exceptions=False)
        self.loop = asyncio.new_event_loop()
        self.http = httpx.AsyncClient(transport=transport, base_url="http://gateway")

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.http.post(path, **kwargs))


@functools.cache
def signed_in() -> tuple[Client, dict[str, str]]:
    """One app and one logged-in creditor for every example (made on first use)."""
    client = Client()
    signed = client.post(
        "/v1/accounts",
        json={
            "organisation_name": "A",
            "siren": "732829320",
            "email": "a@example.fr",
            "password": "p" * 12,
        },
        headers={"Idempotency-Key": "sign-up"},
    )
    assert signed.status_code == 201
    token = client.post("/v1/auth/token", json={"email": "a@example.fr", "password": "p" * 12})
    return client, {"Authorization": f"Bearer {token.json()['access_token']}"}


def mutate(body: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    mutated = copy.deepcopy(body)
    target: Any = mutated
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return mutated


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(PATHS),
    value=json_values,
    key=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40),
)
def test_a_mutated_case_is_accepted_or_refused_naming_fields(
    path: tuple[str | int, ...], value: Any, key: str
) -> None:
    client, auth = signed_in()
    answer = client.post(
        "/v1/cases",
        json=mutate(VALID_CASE, path, value),
        headers=auth | {"Idempotency-Key": key},
    )
    assert answer.status_code in {201, 422}, answer.text
    if answer.status_code == 422:
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"], answer.text


@settings(max_examples=60, deadline=None)
@given(body=json_values)
def test_any_json_sign_up_is_refused_cleanly(body: Any) -> None:
    client, _ = signed_in()
    answer = client.post("/v1/accounts", json=body, headers={"Idempotency-Key": "fuzz"})
    assert answer.status_code in {201, 409, 422}, answer.text
    assert answer.headers["content-type"].startswith("application/")
