"""The case thread through the REST API, over a fake CaseThreadService: the creditor and the
holder each call as themselves, the answer is plain JSON a page can render, a refusal names the
REST field, a case the caller has no part in is 404."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.adapters.matching import ProviderDirectoryClient
from gateway.adapters.security import Passwords, Tokens
from gateway.adapters.thread import ThreadClient
from gateway.domain.model import LoginPolicy
from gateway.entrypoints.api.deps import GatewayServices
from recouvra.messaging.v1 import thread_pb2 as pb
from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import InvalidField, NotFound
from services.gateway.tests.unit.gateway_fakes import (
    FakeMatching,
    FakeStore,
    fields_of,
    http_client,
    key,
    sign_up,
    sign_up_provider,
    status_for,
)

CASE = "case-1"


class FakeThreadService:
    """Keeps messages per case; only the case's creditor and holder (set by the test) see it."""

    def __init__(self) -> None:
        self.parties: set[str] = set()
        self.messages: list[pb.ThreadMessage] = []
        self.callers: list[Caller | None] = []

    def _party(self, request: Any) -> Caller:
        caller = caller_var.get()
        self.callers.append(caller)
        if caller is None or caller.tenant_id not in self.parties or request.case_id != CASE:
            raise status_for(NotFound("case_id: no such case"))
        return caller

    async def PostThreadMessage(self, request: Any) -> Any:
        caller = self._party(request)
        if "attachment-of-b" in request.attachment_document_ids:
            raise status_for(InvalidField("attachment_document_ids", "not in this case's vault"))
        message = pb.ThreadMessage(
            message_id=f"m-{len(self.messages) + 1}",
            case_id=request.case_id,
            author="creditor" if caller.kind == "creditor" else "holder",
            to=request.to,
            text=request.text,
            attachment_document_ids=request.attachment_document_ids,
            written_at="2026-12-03T10:15:00+00:00",
        )
        self.messages.append(message)
        return message

    async def ListThreadMessages(self, request: Any) -> Any:
        self._party(request)
        return pb.ThreadMessages(messages=self.messages)


@pytest.fixture
def messaging() -> FakeThreadService:
    return FakeThreadService()


@pytest.fixture
async def client(
    store: FakeStore, passwords: Passwords, tokens: Tokens, messaging: FakeThreadService
) -> Any:
    services = GatewayServices(
        unit_of_work=store.unit_of_work,
        passwords=passwords,
        tokens=tokens,
        login_policy=LoginPolicy(max_failures=3, window_seconds=60),
        fingerprint_secret=b"unit",
        providers=ProviderDirectoryClient(FakeMatching()),
        thread=ThreadClient(messaging),
    )
    async with http_client(services) as http:
        yield http


async def test_creditor_and_holder_write_and_read_the_thread_as_themselves(
    client: httpx.AsyncClient, messaging: FakeThreadService
) -> None:
    a = await sign_up(client, "a@atelier.fr")
    a_id = (await client.get("/v1/me", headers=a)).json()["organisation_id"]
    holder_id, holder = await sign_up_provider(client, "h@etude.fr")
    messaging.parties = {a_id, holder_id}
    written = await client.post(
        f"/v1/cases/{CASE}/thread",
        json={
            "to": ["holder", "debtor"],
            "text": "Bon de livraison joint",
            "attachment_document_ids": ["d-1"],
        },
        headers=a | key("t-1"),
    )
    assert written.status_code == 201, written.text
    assert written.json() == {
        "id": "m-1",
        "case_id": CASE,
        "author": "creditor",
        "to": ["holder", "debtor"],
        "text": "Bon de livraison joint",
        "attachment_document_ids": ["d-1"],
        "written_at": "2026-12-03T10:15:00Z",
    }
    answered = await client.post(
        f"/v1/provider/assignments/{CASE}/thread",
        json={"to": ["creditor"], "text": "Reçu"},
        headers=holder | key("t-2"),
    )
    assert answered.json()["author"] == "holder"
    listed = await client.get(f"/v1/provider/assignments/{CASE}/thread", headers=holder)
    assert [m["text"] for m in listed.json()["items"]] == ["Bon de livraison joint", "Reçu"]
    assert {(c.kind, c.tenant_id) for c in messaging.callers if c} == {
        ("creditor", a_id),
        ("provider", holder_id),
    }


async def test_refusals_name_the_field_and_strangers_get_404(
    client: httpx.AsyncClient, messaging: FakeThreadService
) -> None:
    a = await sign_up(client, "a@atelier.fr")
    messaging.parties = {(await client.get("/v1/me", headers=a)).json()["organisation_id"]}
    refused = await client.post(
        f"/v1/cases/{CASE}/thread",
        json={"to": ["holder"], "text": "x", "attachment_document_ids": ["attachment-of-b"]},
        headers=a | key("t-3"),
    )
    assert refused.status_code == 422
    assert "attachment_document_ids" in fields_of(refused)
    empty = await client.post(
        f"/v1/cases/{CASE}/thread", json={"to": [], "text": ""}, headers=a | key("t-4")
    )
    assert empty.status_code == 422
    b = await sign_up(client, "b@atelier.fr")
    assert (await client.get(f"/v1/cases/{CASE}/thread", headers=b)).status_code == 404
