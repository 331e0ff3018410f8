"""Issue 13, point 2, over fakes: operators exist only through the command line's use case;
a new provider is pending and sees no auction until an operator approves it; every operator
action is in the audit trail; SIRENs are checked (format, registry) and a second claim is
refused and flagged; a company creditor gives its SIREN before its first case."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.adapters.security import Passwords, Tokens
from gateway.service_layer import operators
from services.gateway.tests.unit.gateway_fakes import (
    PASSWORD,
    PROFILE,
    FakeMatching,
    FakeStore,
    fields_of,
    http_client,
    key,
    marketplace_services,
    sign_up,
    sign_up_provider,
    token,
)

OPERATOR = "ops@recouvra.fr"


@pytest.fixture
def matching() -> FakeMatching:
    return FakeMatching()


@pytest.fixture
async def client(
    store: FakeStore, passwords: Passwords, tokens: Tokens, matching: FakeMatching
) -> Any:
    async with http_client(marketplace_services(store, passwords, tokens, matching)) as http:
        yield http


async def make_operator(store: FakeStore, passwords: Passwords, email: str = OPERATOR) -> None:
    """What `python -m gateway operators create EMAIL` does."""
    async with store.unit_of_work() as uow:
        await operators.create_operator(email, PASSWORD, "cli:root", uow, passwords)
        await uow.commit()


async def test_operator_role_made_by_the_cli_use_case_never_by_sign_up(
    client: httpx.AsyncClient, store: FakeStore, passwords: Passwords
) -> None:
    refused = await client.post(
        "/v1/accounts",
        json={
            "organisation_name": "Me",
            "kind": "operator",
            "email": "x@y.fr",
            "password": PASSWORD,
        },
        headers=key("s"),
    )
    assert refused.status_code == 422
    assert "kind" in fields_of(refused)

    await make_operator(store, passwords)
    await make_operator(store, passwords, "second@recouvra.fr")
    operator = await token(client, OPERATOR)
    me = await client.get("/v1/me", headers=operator)
    assert me.json()["kind"] == "operator"
    # One operators' organisation for both.
    second = await client.get("/v1/me", headers=await token(client, "second@recouvra.fr"))
    assert second.json()["organisation_id"] == me.json()["organisation_id"]

    trail = await client.get("/v1/operator/audit", headers=operator)
    assert trail.status_code == 200, trail.text
    created = [e for e in trail.json()["items"] if e["action"] == "operator-created"]
    assert {e["detail"]["email"] for e in created} == {OPERATOR, "second@recouvra.fr"}
    assert {e["actor"] for e in created} == {"cli:root"}

    # An operator is not a creditor: no cases, no quotes, no bidding.
    assert (await client.get("/v1/cases", headers=operator)).status_code == 403
    assert (await client.get("/v1/provider/auctions", headers=operator)).status_code == 403


async def test_operator_routes_refuse_every_other_kind_of_account(
    client: httpx.AsyncClient, store: FakeStore, passwords: Passwords
) -> None:
    provider_id, provider = await sign_up_provider(client, "bureau@lambert.fr", approved=False)
    creditor = await sign_up(client, "alice@atelier.fr")
    partner = await sign_up(client, "facturo@example.fr", kind="partner")
    for headers in (provider, creditor, partner):
        assert (await client.get("/v1/operator/providers", headers=headers)).status_code == 403
        assert (await client.get("/v1/operator/audit", headers=headers)).status_code == 403
        approve = await client.post(
            f"/v1/operator/providers/{provider_id}/approve", json={}, headers=headers | key("a")
        )
        assert approve.status_code == 403
    assert (await client.get("/v1/operator/providers")).status_code == 401
    assert store.accounts.organisations[provider_id].vetting.value == "pending"  # type: ignore[union-attr]


async def test_provider_vetting_pending_until_an_operator_approves_and_matching_is_told(
    client: httpx.AsyncClient, store: FakeStore, passwords: Passwords, matching: FakeMatching
) -> None:
    provider_id, provider = await sign_up_provider(client, "bureau@lambert.fr", approved=False)
    matching.eligible = provider_id
    for answer in (
        await client.get("/v1/provider/auctions", headers=provider),
        await client.post(
            "/v1/provider/auctions/case-open/bid",
            json={"fee_percent": "10"},
            headers=provider | key("b1"),
        ),
        await client.get("/v1/provider/assignments", headers=provider),
    ):
        assert answer.status_code == 403, answer.text
        assert "awaits an operator's approval" in answer.json()["detail"]
    assert matching.called("ListOpenAuctions") == []
    assert matching.called("PlaceBid") == []

    await make_operator(store, passwords)
    operator = await token(client, OPERATOR)
    pending = await client.get("/v1/operator/providers?vetting=pending", headers=operator)
    assert [p["id"] for p in pending.json()["items"]] == [provider_id]

    approved = await client.post(
        f"/v1/operator/providers/{provider_id}/approve",
        json={"reason": "Kbis checked"},
        headers=operator | key("ap"),
    )
    assert approved.status_code == 200, approved.text
    assert approved.json() == {"id": provider_id, "vetting": "approved"}
    [(caller, request)] = matching.called("SetProviderApproval")
    assert (request.provider_id, request.approved) == (provider_id, True)
    assert caller is not None
    assert caller.kind == "operator"

    listed = await client.get("/v1/provider/auctions", headers=provider)
    assert listed.status_code == 200, listed.text
    assert [a["case_id"] for a in listed.json()["items"]] == ["case-open"]

    trail = (await client.get("/v1/operator/audit", headers=operator)).json()["items"]
    assert trail[0]["action"] == "provider-approved"
    assert trail[0]["target"] == f"organisation:{provider_id}"
    assert trail[0]["actor"].startswith("user:")
    assert trail[0]["detail"]["reason"] == "Kbis checked"

    # Rejecting (suspending) needs a reason, and shuts the door again.
    no_reason = await client.post(
        f"/v1/operator/providers/{provider_id}/reject", json={}, headers=operator | key("r0")
    )
    assert fields_of(no_reason) == {"reason": "is required: say why, the provider will be told"}
    rejected = await client.post(
        f"/v1/operator/providers/{provider_id}/reject",
        json={"reason": "struck off"},
        headers=operator | key("r1"),
    )
    assert rejected.json()["vetting"] == "rejected"
    assert matching.called("SetProviderApproval")[-1][1].approved is False
    assert (await client.get("/v1/provider/auctions", headers=provider)).status_code == 403

    # A creditor's id, or a made-up one, is not a provider.
    creditor = await sign_up(client, "alice@atelier.fr")
    me = (await client.get("/v1/me", headers=creditor)).json()
    for other in (me["organisation_id"], "no-such-id"):
        missing = await client.post(
            f"/v1/operator/providers/{other}/approve", json={}, headers=operator | key(other)
        )
        assert missing.status_code == 404


async def test_provider_siren_claimed_again_is_refused_and_flagged_for_operators(
    client: httpx.AsyncClient, store: FakeStore, passwords: Passwords, matching: FakeMatching
) -> None:
    holder_id, _ = await sign_up_provider(client, "bureau@lambert.fr", siren="443061841")
    claim = {
        "organisation_name": "Imposteur",
        "siren": "443 061 841",
        "email": "imposteur@example.fr",
        "password": PASSWORD,
        "profile": PROFILE,
    }
    refused = await client.post("/v1/provider/accounts", json=claim, headers=key("c1"))
    assert refused.status_code == 409, refused.text
    assert fields_of(refused) == {"siren": "is already claimed by another account"}
    assert len(matching.called("RegisterProvider")) == 1
    assert (
        await client.post("/v1/auth/token", json={"email": claim["email"], "password": PASSWORD})
    ).status_code == 401

    await make_operator(store, passwords)
    listed = await client.get("/v1/operator/providers", headers=await token(client, OPERATOR))
    [holder] = [p for p in listed.json()["items"] if p["id"] == holder_id]
    rules = {f["rule"]: f["detail"] for f in holder["flags"]}
    assert "imposteur@example.fr" in rules["siren-claimed-again"]


async def test_provider_siren_is_checked_against_the_company_registry(
    client: httpx.AsyncClient, store: FakeStore, passwords: Passwords
) -> None:
    body = {"email": "x@example.fr", "password": PASSWORD, "profile": PROFILE}
    bad = await client.post(
        "/v1/provider/accounts",
        json=body | {"organisation_name": "X", "siren": "123456789"},
        headers=key("1"),
    )
    assert "siren" in fields_of(bad)
    ceased = await client.post(
        "/v1/provider/accounts",
        json=body | {"organisation_name": "Cafe du Port", "siren": "725102735"},
        headers=key("2"),
    )
    assert fields_of(ceased) == {"siren": "the company registry lists this company as ceased"}

    unknown_id, _ = await sign_up_provider(client, "a@etude.fr", siren="443061841", approved=False)
    renamed_id, _ = await sign_up_provider(client, "b@etude.fr", siren="398259796", approved=False)
    await make_operator(store, passwords)
    listed = await client.get("/v1/operator/providers", headers=await token(client, OPERATOR))
    flags = {p["id"]: [f["rule"] for f in p["flags"]] for p in listed.json()["items"]}
    assert flags == {
        unknown_id: ["siren-not-in-registry"],
        renamed_id: ["name-differs-from-registry"],  # BOULANGERIE MARTIN, not Etude Lambert
    }


async def test_creditor_siren_required_before_the_first_case_and_set_on_the_profile(
    client: httpx.AsyncClient,
) -> None:
    creditor = await sign_up(client, "alice@atelier.fr", siren=None)
    case = await client.post("/v1/cases", json={}, headers=creditor | key("case"))
    assert case.status_code == 409, case.text
    assert set(fields_of(case)) == {"siren"}
    assert "PUT /v1/account/profile" in fields_of(case)["siren"]
    csv = await client.post(
        "/v1/cases/imports", files={"file": ("c.csv", b"a\n")}, headers=creditor | key("csv")
    )
    assert csv.status_code == 409
    assert set(fields_of(csv)) == {"siren"}

    bad = await client.put("/v1/account/profile", json={"siren": "732829321"}, headers=creditor)
    assert fields_of(bad) == {"siren": "must be a valid SIREN (9 digits with a correct checksum)"}
    ceased = await client.put("/v1/account/profile", json={"siren": "725102735"}, headers=creditor)
    assert fields_of(ceased) == {"siren": "the company registry lists this company as ceased"}
    good = await client.put(
        "/v1/account/profile",
        json={"siren": "732 829 320", "organisation_name": "Atelier Dupont"},
        headers=creditor,
    )
    assert good.status_code == 200, good.text
    assert (good.json()["siren"], good.json()["name"]) == ("732829320", "Atelier Dupont")

    _, provider = await sign_up_provider(client, "bureau@lambert.fr")
    moved = await client.put("/v1/account/profile", json={"siren": "732829320"}, headers=provider)
    assert moved.status_code == 403


async def test_operator_reads_are_in_the_audit_trail_too(
    client: httpx.AsyncClient, store: FakeStore, passwords: Passwords
) -> None:
    await sign_up_provider(client, "bureau@lambert.fr", approved=False)
    await make_operator(store, passwords)
    operator = await token(client, OPERATOR)
    me = (await client.get("/v1/me", headers=operator)).json()

    listed = await client.get("/v1/operator/providers?vetting=pending", headers=operator)
    first = await client.get("/v1/operator/audit?limit=5", headers=operator)
    second = await client.get("/v1/operator/audit", headers=operator)

    assert listed.status_code == first.status_code == 200
    assert first.json()["items"][0]["action"] == "providers-read"
    assert first.json()["items"][0]["detail"] == {"vetting": "pending", "shown": 1}
    newest = second.json()["items"][0]
    assert (newest["action"], newest["target"], newest["detail"]) == (
        "audit-read",
        "operator_audit",
        {"shown": len(first.json()["items"])},
    )
    assert newest["actor"] == me["subject"]
