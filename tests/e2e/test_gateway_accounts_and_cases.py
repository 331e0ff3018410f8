"""The creditor's door, end to end: the gateway and intake run as processes on the real stack.

A creditor signs up and logs in over REST, submits a case, reads it back; another creditor
gets 404 for it, exactly as for a case that does not exist; bad input answers problem+json
naming the field; a retried POST with the same Idempotency-Key returns the first response;
API keys work until revoked; a partner acts only for the creditors it referred.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from recouvra.gateway.v1.account_events_pb2 import OrganisationRegistered
from recouvra_shared.events import unpack
from tests.support.databases import discard, provision
from tests.support.fixtures import ServiceProcess
from tests.support.kafka_read import read_topic
from tests.support.stack import ROOT, Stack, free_port, provision_kafka, unique_name

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
PROBLEM = "application/problem+json"
INTAKE_DATA = ROOT / "services" / "intake" / "tests" / "data"
SAMPLE_CSV = ROOT / "services" / "intake" / "docs" / "sample-import.csv"


@dataclass
class Door:
    """The gateway in front of intake, both running as processes."""

    url: str
    gateway: ServiceProcess
    intake: ServiceProcess
    topic_prefix: str


def _process(
    stack: Stack, service: str, url: str, prefix: str, log: Path, **env: str
) -> ServiceProcess:
    port = free_port()
    own = f"RECOUVRA_{service.upper()}_"
    provision_kafka(stack, prefix, [service])
    return ServiceProcess(
        service=service,
        env={
            "RECOUVRA_ENV": "development",
            **stack.kafka_env(service),
            "RECOUVRA_KAFKA_TOPIC_PREFIX": prefix,
            f"{own}DATABASE_URL": url,
            f"{own}GRPC_PORT": str(port),
            **{f"{own}{k.upper()}": v for k, v in env.items()},
        },
        log_path=log / f"{service}.log",
        grpc_port=port,
    )


@pytest.fixture(scope="module")
def door(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Door]:
    """One intake and one gateway process for the whole module: starting them is the slow part,
    and every test works with its own freshly signed-up organisations."""
    prefix = unique_name("e2e_gw") + "."
    log = tmp_path_factory.mktemp("gateway_e2e")
    with ThreadPoolExecutor(max_workers=1) as pool:  # set-up runs its own event loops
        intake_db, gateway_db = pool.map(lambda s: provision(stack, s), ["intake", "gateway"])
    intake_url, gateway_url = intake_db.url, gateway_db.url
    intake = _process(stack, "intake", intake_url, prefix, log)
    port = free_port()
    gateway = _process(
        stack, "gateway", gateway_url, prefix, log, http_port=str(port), intake_target=intake.target
    )
    try:
        intake.start()
        gateway.start()
        yield Door(f"http://127.0.0.1:{port}", gateway, intake, topic_prefix=prefix)
        assert gateway.stop() == 0, gateway.log_text()[-3000:]
        assert intake.stop() == 0, intake.log_text()[-3000:]
    finally:
        gateway.kill()
        intake.kill()
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(discard, stack, [intake_db, gateway_db]).result()


@pytest.fixture
async def client(door: Door) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=door.url, timeout=30) as http:
        await wait_http(http, door.gateway)
        yield http


def case_body(invoice_number: str, **debtor: Any) -> dict[str, Any]:
    return {
        "debtor": {
            "kind": "company",
            "name": "Transports Lefèvre SAS",
            "siren_or_siret": "552100554",
            **debtor,
        },
        "invoices": [
            {
                "invoice_number": invoice_number,
                "issue_date": "2026-03-02",
                "due_date": "2026-04-01",
                "amount_due": {"amount": "1250.00", "currency": "EUR"},
            }
        ],
        "notes": "Two reminders by e-mail, no answer.",
    }


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def wait_http(client: httpx.AsyncClient, gateway: ServiceProcess) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert gateway.exited() is None, gateway.log_text()[-3000:]
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise TimeoutError(gateway.log_text()[-3000:])


SELLER_SIREN = "552100554"  # the seller of intake's sample e-invoices


async def sign_up_and_log_in(
    client: httpx.AsyncClient, name: str, kind: str = "creditor", siren: str = "732829320"
) -> tuple[str, dict[str, str]]:
    email = f"{unique_name(name.lower().replace(' ', '-'))}@example.fr"
    signed = await client.post(
        "/v1/accounts",
        json={
            "organisation_name": name,
            "kind": kind,
            "siren": siren,
            "email": email,
            "password": PASSWORD,
        },
        headers=key(),
    )
    assert signed.status_code == 201, signed.text
    login = await client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    return signed.json()["organisation"]["id"], {"Authorization": f"Bearer {token}"}


def fields_of(response: httpx.Response) -> set[str]:
    assert response.headers["content-type"] == PROBLEM, response.text
    return {error["field"] for error in response.json()["errors"]}


async def test_creditors_submit_and_read_only_their_own_cases(
    client: httpx.AsyncClient, door: Door, stack: Stack
) -> None:

    # Sign-up is idempotent: the same key returns the first answer, other content is refused.
    email = f"{unique_name('alice')}@example.fr"
    sign_up = {
        "organisation_name": "Atelier A",
        "siren": "732829320",
        "email": email,
        "password": PASSWORD,
    }
    first_key = key()
    first = await client.post("/v1/accounts", json=sign_up, headers=first_key)
    again = await client.post("/v1/accounts", json=sign_up, headers=first_key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    changed = await client.post(
        "/v1/accounts", json=sign_up | {"organisation_name": "Atelier Z"}, headers=first_key
    )
    assert changed.status_code == 409
    assert fields_of(changed) == {"Idempotency-Key"}
    wrong = await client.post("/v1/auth/token", json={"email": email, "password": "x" * 12})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"] == PROBLEM

    creditor_a = first.json()["organisation"]["id"]
    login = await client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    alice = {"Authorization": f"Bearer {login.json()['access_token']}"}
    creditor_b, bob = await sign_up_and_log_in(client, "Atelier B")
    me = await client.get("/v1/me", headers=alice)
    assert me.json()["organisation_id"] == creditor_a

    # A case submitted over REST, replayed with the same key: one case, the same answer.
    submit_key = key()
    body = case_body("F-2026-0042")
    created = await client.post("/v1/cases", json=body, headers=alice | submit_key)
    assert created.status_code == 201, created.text
    replay = await client.post("/v1/cases", json=body, headers=alice | submit_key)
    assert replay.status_code == 201
    assert replay.json() == created.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    case_id = created.json()["case_id"]

    read = await client.get(f"/v1/cases/{case_id}", headers=alice)
    assert read.status_code == 200, read.text
    case = read.json()
    assert case["creditor_id"] == creditor_a
    assert case["debtor"]["name"] == "Transports Lefèvre SAS"
    assert case["amount"] == {"amount": "1250.00", "currency": "EUR"}

    # Creditor B: A's case is 404, with the same answer as a case that does not exist.
    foreign = await client.get(f"/v1/cases/{case_id}", headers=bob)
    missing = await client.get(f"/v1/cases/{uuid.uuid4()}", headers=bob)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.headers["content-type"] == PROBLEM
    assert foreign.json()["title"] == missing.json()["title"]
    assert foreign.json()["detail"] == missing.json()["detail"]
    anonymous = await client.get(f"/v1/cases/{case_id}")
    assert anonymous.status_code == 401

    # Bad input: problem+json naming each field and the rule; nothing is stored.
    bad = case_body("F-2026-0043", siren_or_siret="552100555")
    bad["invoices"][0]["amount_due"] = {"amount": "-10.00", "currency": "EUR"}
    refused = await client.post("/v1/cases", json=bad, headers=alice | key())
    assert refused.status_code == 422
    assert fields_of(refused) == {"debtor.siren_or_siret", "invoices[0].amount_due"}
    rules = {e["field"]: e["rule"] for e in refused.json()["errors"]}
    assert "SIREN" in rules["debtor.siren_or_siret"]
    assert rules["invoices[0].amount_due"] == "must be positive"
    no_key = await client.post("/v1/cases", json=case_body("F-2026-0044"), headers=alice)
    assert no_key.status_code == 422
    assert fields_of(no_key) == {"Idempotency-Key"}
    listed = await client.get("/v1/cases", headers=alice)
    assert listed.status_code == 200, listed.text
    assert [c["case_id"] for c in listed.json()["items"]] == [case_id]
    assert (await client.get("/v1/cases", headers=bob)).json()["items"] == []

    # An API key works like a login until it is revoked; it is shown once.
    made = await client.post("/v1/api-keys", json={"name": "export"}, headers=alice | key())
    assert made.status_code == 201
    api_key = {"X-API-Key": made.json()["key"]}
    assert made.json()["key"].startswith(made.json()["prefix"] + "_")
    assert (await client.get(f"/v1/cases/{case_id}", headers=api_key)).status_code == 200
    revoked = await client.delete(f"/v1/api-keys/{made.json()['id']}", headers=alice)
    assert revoked.status_code == 204
    after = await client.get(f"/v1/cases/{case_id}", headers=api_key)
    assert after.status_code == 401

    # A partner creates a creditor (as its referrer) and acts for it, never for others.
    _, partner = await sign_up_and_log_in(client, "Facturo", kind="partner")
    referred = await client.post(
        "/v1/partner/creditors",
        json={"organisation_name": "Boulangerie Martin", "siren": "552100554"},
        headers=partner | key(),
    )
    assert referred.status_code == 201, referred.text
    assert referred.json()["referrer_id"] is not None
    for_referred = partner | {"X-On-Behalf-Of": referred.json()["id"]}
    pushed = await client.post(
        "/v1/cases", json=case_body("F-2026-0099"), headers=for_referred | key()
    )
    assert pushed.status_code == 201, pushed.text
    pushed_case = await client.get(f"/v1/cases/{pushed.json()['case_id']}", headers=for_referred)
    assert pushed_case.json()["creditor_id"] == referred.json()["id"]
    for_a = partner | {"X-On-Behalf-Of": creditor_a}
    assert (await client.get(f"/v1/cases/{case_id}", headers=for_a)).status_code == 404
    not_partner = await client.post(
        "/v1/partner/creditors", json={"organisation_name": "X"}, headers=bob | key()
    )
    assert not_partner.status_code == 403

    # The referral left the gateway as an event (through its outbox), for settlement.
    topic = await read_topic(stack, door.topic_prefix + "gateway.organisation-registered.v1")
    registered = {e.tenant_id: unpack(e, OrganisationRegistered) for e in topic.envelopes}
    assert registered[referred.json()["id"]].referrer_id == referred.json()["referrer_id"]
    assert registered[creditor_a].referrer_id == ""
    assert creditor_b != creditor_a


async def test_a_case_is_followed_paid_in_part_and_withdrawn_only_by_its_creditor(
    client: httpx.AsyncClient,
) -> None:
    _, alice = await sign_up_and_log_in(client, "Atelier A")
    _, bob = await sign_up_and_log_in(client, "Atelier B")
    created = await client.post("/v1/cases", json=case_body("F-2026-0007"), headers=alice | key())
    assert created.status_code == 201, created.text
    case_url = f"/v1/cases/{created.json()['case_id']}"

    # Rules only intake can judge come back as problem+json naming the field.
    early = case_body("F-2026-0008")
    early["invoices"][0]["due_date"] = "2026-02-01"
    refused = await client.post("/v1/cases", json=early, headers=alice | key())
    assert refused.status_code == 422, refused.text
    assert "invoices[0].due_date" in fields_of(refused)
    duplicate = await client.post("/v1/cases", json=case_body("F-2026-0007"), headers=alice | key())
    assert duplicate.status_code == 409, duplicate.text
    assert duplicate.headers["content-type"] == PROBLEM

    # A company debtor owes interest and the EUR 40 indemnity, explained line by line.
    read = await client.get(case_url, params={"as_of": "2026-06-30"}, headers=alice)
    assert read.status_code == 200, read.text
    legal = read.json()["legal_amounts"]
    assert legal["as_of"] == "2026-06-30"
    assert legal["principal"]["amount"] == "1250.00"
    assert legal["indemnity"] == {"amount": "40.00", "currency": "EUR"}
    assert Decimal(legal["interest"]["amount"]) > 0
    assert any(line["kind"] == "interest" for line in legal["lines"])

    # Another creditor can neither see nor change it; it answers as if it did not exist.
    payment = {"amount": {"amount": "400.00", "currency": "EUR"}, "paid_on": "2026-11-20"}
    for method, path, body in [
        ("GET", f"{case_url}/timeline", None),
        ("POST", f"{case_url}/payments", payment),
        ("POST", f"{case_url}/withdrawal", {"reason": "mine now"}),
    ]:
        foreign = await client.request(method, path, json=body, headers=bob | key())
        assert foreign.status_code == 404, (path, foreign.text)

    pay_key = key()
    paid = await client.post(f"{case_url}/payments", json=payment, headers=alice | pay_key)
    assert paid.status_code == 200, paid.text
    assert [p["amount"]["amount"] for p in paid.json()["payments"]] == ["400.00"]
    again = await client.post(f"{case_url}/payments", json=payment, headers=alice | pay_key)
    assert [p["amount"]["amount"] for p in again.json()["payments"]] == ["400.00"]

    withdrawn = await client.post(
        f"{case_url}/withdrawal", json={"reason": "Settled amicably"}, headers=alice | key()
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    twice = await client.post(
        f"{case_url}/withdrawal", json={"reason": "again"}, headers=alice | key()
    )
    assert twice.status_code == 409
    assert twice.headers["content-type"] == PROBLEM

    timeline = await client.get(f"{case_url}/timeline", headers=alice)
    assert timeline.status_code == 200, timeline.text
    kinds = [entry["event_type"] for entry in timeline.json()["entries"]]
    assert kinds[0] == "case-submitted"
    assert "case-withdrawn" in kinds
    withdrawn_list = await client.get("/v1/cases", params={"status": "withdrawn"}, headers=alice)
    assert [c["case_id"] for c in withdrawn_list.json()["items"]] == [created.json()["case_id"]]


async def test_authorisation_matrix_every_route_for_every_kind_of_caller(
    client: httpx.AsyncClient,
) -> None:
    """Creditor A owns a case and a key; B, a partner (for its own creditor, for A, or for no
    one) and an anonymous caller try every route on them: none gets through."""
    creditor_a, alice = await sign_up_and_log_in(client, "Atelier A")
    _, bob = await sign_up_and_log_in(client, "Atelier B")
    _, partner = await sign_up_and_log_in(client, "Facturo", kind="partner")
    referred = await client.post(
        "/v1/partner/creditors", json={"organisation_name": "Referred"}, headers=partner | key()
    )
    created = await client.post("/v1/cases", json=case_body("F-1"), headers=alice | key())
    made = await client.post("/v1/api-keys", json={"name": "k"}, headers=alice | key())
    case_url = f"/v1/cases/{created.json()['case_id']}"
    key_url = f"/v1/api-keys/{made.json()['id']}"
    callers = {
        "B": bob,
        "partner for its creditor": partner | {"X-On-Behalf-Of": referred.json()["id"]},
        "partner for A": partner | {"X-On-Behalf-Of": creditor_a},
        "partner for no one": partner,
        "anonymous": {},
    }
    refused_as = {
        "B": 404,
        "partner for its creditor": 404,
        "partner for A": 404,
        "partner for no one": 422,
        "anonymous": 401,
    }
    payment = {"amount": {"amount": "10.00", "currency": "EUR"}, "paid_on": "2026-11-20"}
    case_routes: list[tuple[str, str, Any]] = [
        ("GET", case_url, None),
        ("GET", f"{case_url}/timeline", None),
        ("POST", f"{case_url}/payments", payment),
        ("POST", f"{case_url}/withdrawal", {"reason": "not yours"}),
    ]
    for who, headers in callers.items():
        for method, path, body in case_routes:
            answer = await client.request(method, path, json=body, headers=headers | key())
            assert answer.status_code == refused_as[who], (who, method, path, answer.text)
            assert answer.headers["content-type"] == PROBLEM
        listed = await client.get("/v1/cases", headers=headers)
        if who in {"B", "partner for its creditor"}:
            assert listed.json()["items"] == [], who
        else:
            assert listed.status_code == refused_as[who], who
        revoke = await client.delete(key_url, headers=headers)
        assert revoke.status_code == (401 if who == "anonymous" else 404), who
        for path in ("/v1/cases/imports", "/v1/cases/e-invoices"):
            upload = await client.post(
                path, files={"file": ("x.csv", b"a,b\n")}, headers=headers | key()
            )
            if who in {"anonymous", "partner for A", "partner for no one"}:
                assert upload.status_code == refused_as[who], (who, path, upload.text)

    for who, headers in {"A": alice, "B": bob, "anonymous": {}}.items():
        answer = await client.post(
            "/v1/partner/creditors", json={"organisation_name": "X"}, headers=headers | key()
        )
        assert answer.status_code == (401 if who == "anonymous" else 403), who
    for path in ("/v1/me", "/v1/api-keys", "/v1/partner/creditors"):
        assert (await client.get(path)).status_code == 401, path

    # After all that, A's case and key are untouched and A can still use both.
    still = await client.get(case_url, headers={"X-API-Key": made.json()["key"]})
    assert still.status_code == 200
    assert still.json()["status"] == "submitted"
    assert still.json()["payments"] == []


async def test_csv_and_e_invoice_imports_through_the_gateway(client: httpx.AsyncClient) -> None:
    # The e-invoices below were issued by SIREN 552100554: only a creditor with that SIREN may
    # import them as its own.
    _, alice = await sign_up_and_log_in(client, "Atelier A", siren=SELLER_SIREN)
    _, bob = await sign_up_and_log_in(client, "Atelier B", siren=SELLER_SIREN)
    _, carol = await sign_up_and_log_in(client, "Atelier C")

    # The sample file that ships with intake, plus a copy of its first row with another
    # invoice number and a wrong SIREN check digit.
    header, *rows = list(csv.reader(io.StringIO(SAMPLE_CSV.read_text(encoding="utf-8-sig"))))
    bad_row = dict(zip(header, rows[0], strict=True)) | {
        "invoice_number": "FA-2026-0199",
        "debtor_siren_or_siret": "552032535",
    }
    if "case_reference" in bad_row:
        bad_row["case_reference"] = ""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([header, *rows, [bad_row[column] for column in header]])
    import_key = key()
    upload = {"file": ("cases.csv", out.getvalue().encode(), "text/csv")}
    imported = await client.post("/v1/cases/imports", files=upload, headers=alice | import_key)
    assert imported.status_code == 200, imported.text
    report = imported.json()
    assert report["rows"] == len(rows) + 1
    assert report["accepted"] + report["refused"] == report["rows"]
    assert report["accepted"] == sum(r["accepted"] for r in report["report"]) > 0
    refused = report["report"][-1]
    assert refused["line"] == len(rows) + 2
    assert not refused["accepted"]
    assert "debtor_siren_or_siret" in {e["field"] for e in refused["errors"]}
    replay = await client.post("/v1/cases/imports", files=upload, headers=alice | import_key)
    assert replay.json() == report
    assert replay.headers["Idempotent-Replayed"] == "true"

    # E-invoices made by a standard library (intake's test data): the buyer becomes the debtor.
    # Both files carry the same invoice: the second one is recognised as a duplicate for alice,
    # and is a case of its own for bob.
    def e_invoice(name: str) -> dict[str, Any]:
        return {"file": (name, (INTAKE_DATA / name).read_bytes())}

    factur_x = await client.post(
        "/v1/cases/e-invoices", files=e_invoice("invoice-facturx.pdf"), headers=alice | key()
    )
    assert factur_x.status_code == 201, factur_x.text
    assert factur_x.json()["format"] == "factur-x"
    assert factur_x.json()["case"]["source"] == "e-invoice"
    assert factur_x.headers["Location"] == f"/v1/cases/{factur_x.json()['case_id']}"
    duplicate = await client.post(
        "/v1/cases/e-invoices", files=e_invoice("invoice-ubl.xml"), headers=alice | key()
    )
    assert duplicate.status_code == 409
    assert fields_of(duplicate) == {"invoices[0].invoice_number"}
    ubl = await client.post(
        "/v1/cases/e-invoices", files=e_invoice("invoice-ubl.xml"), headers=bob | key()
    )
    assert ubl.status_code == 201, ubl.text
    assert ubl.json()["format"] == "ubl"
    assert ubl.json()["case"]["debtor"]["name"] == factur_x.json()["case"]["debtor"]["name"]
    not_hers = await client.post(
        "/v1/cases/e-invoices", files=e_invoice("invoice-ubl.xml"), headers=carol | key()
    )
    assert not_hers.status_code == 422, not_hers.text
    assert "seller.siren" in fields_of(not_hers)
    not_invoice = await client.post(
        "/v1/cases/e-invoices",
        files={"file": ("notes.txt", b"hello, this is not an invoice")},
        headers=alice | key(),
    )
    assert not_invoice.status_code == 422
    assert fields_of(not_invoice)

    # Everything imported is alice's: listed for her, invisible to bob.
    listed = await client.get("/v1/cases", params={"page_size": 2}, headers=alice)
    assert listed.status_code == 200, listed.text
    seen = [c["case_id"] for c in listed.json()["items"]]
    token = listed.json()["next_page_token"]
    while token:
        page = await client.get(
            "/v1/cases", params={"page_size": 2, "page_token": token}, headers=alice
        )
        seen += [c["case_id"] for c in page.json()["items"]]
        token = page.json()["next_page_token"]
    expected = {r["case_id"] for r in report["report"] if r["accepted"]}
    expected.add(factur_x.json()["case_id"])
    assert len(seen) == len(set(seen)) == len(expected)
    assert set(seen) == expected
    for case_id in expected:
        assert (await client.get(f"/v1/cases/{case_id}", headers=bob)).status_code == 404
