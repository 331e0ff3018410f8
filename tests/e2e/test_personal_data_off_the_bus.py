"""No debtor's personal data crosses Kafka in clear (issue 12, point 5).

Intake, scoring, matching and the gateway run as real processes. A creditor (a sole trader, so
its own name is a person's) submits two cases over REST, each debtor with a distinctive name,
address, e-mail, phone and IBAN, and free text that names the debtor (notes, invoice numbers).
The first, a consumer, is scored, auctioned, quoted, accepted and assigned; its provider reports
a call in a note that repeats the debtor's name and number. The second, a sole trader, is
withdrawn with a reason that names the debtor; scoring reads its SIREN (a person's identifier)
from intake over gRPC, never from the bus. Then every topic of the test, dead letters
included, is read from the beginning as any reader of the broker would: no record's key, value
or headers holds any of those values, and neither do the outbox rows the services keep for a
week after sending. The records are there (the test checks it reads them): only what identifies
a person is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.fixtures import ServiceProcess
from tests.support.kafka_read import RawRecord, read_raw_records, topics_starting_with
from tests.support.marketplace import (
    CREDITOR_SIREN,
    PASSWORD,
    eventually,
    idempotency_key,
    log_in,
    marketplace,
    operator_log_in,
    outbox_drained,
    sign_up_provider,
    wait_http,
)
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.e2e

CREDITOR_NAME = "Atelier Yvonne Quillardet"
PERSON = {
    "name": "Zéphyrine Baptistin-Quillardet",
    "line": "17 impasse des Glycines",
    "city": "Marseille-Vauban",
    "email": "zephyrine.baptistin@exemple-perso.fr",
    "phone": "+33 6 12 34 56 78",
    "iban": "FR76 3000 6000 0112 3456 7890 189",
}
SOLE_TRADER = {
    "name": "Plomberie Anatole Vercingétorix EI",
    "line": "4 chemin du Moulin Grimaud",
    "city": "Saint-Véran-Haut",
    "email": "anatole.vercingetorix@plomberie-exemple.fr",
    "phone": "+33 4 91 55 66 77",
    "iban": "DE89 3704 0044 0532 0130 00",
    # A sole trader's SIRET: its SIREN identifies the person; neither is the creditor's own.
    "siret": "81234567600009",
}
SOLE_TRADER_SIREN = "812345676"
NOTES = "Mme Baptistin-Quillardet dit avoir déménagé chez sa soeur"
INVOICE_NUMBER = "F-QUILLARDET-0007"
WITHDRAWAL = "Anatole Vercingétorix a payé en espèces au chemin du Moulin Grimaud"
ACTION_NOTE = "Appel à Zéphyrine au 06 12 34 56 78, promet de rappeler"
BIDDING_CLOSES = timedelta(minutes=16)


def needles() -> dict[str, bytes]:
    """Every value that must not cross the bus, in each form a service may have stored it."""
    found: dict[str, bytes] = {"creditor name": CREDITOR_NAME.encode()}
    for who, debtor in (("person", PERSON), ("sole trader", SOLE_TRADER)):
        surname = debtor["name"].split()[1]
        found |= {
            f"{who} name": debtor["name"].encode(),
            f"{who} surname": surname.encode(),
            f"{who} address": debtor["line"].encode(),
            f"{who} city": debtor["city"].encode(),
            f"{who} e-mail": debtor["email"].encode(),
            f"{who} phone": debtor["phone"].encode(),
            f"{who} phone (E.164)": debtor["phone"].replace(" ", "").encode(),
            f"{who} IBAN": debtor["iban"].encode(),
            f"{who} IBAN (compact)": debtor["iban"].replace(" ", "").encode(),
        }
    found |= {
        "creditor's notes": NOTES.encode(),
        "invoice number": INVOICE_NUMBER.encode(),
        "withdrawal reason": WITHDRAWAL.encode(),
        "provider's note": ACTION_NOTE.encode(),
        "sole trader SIRET": SOLE_TRADER["siret"].encode(),
        "sole trader SIREN": SOLE_TRADER_SIREN.encode(),
    }
    return found


def case_body(debtor: dict[str, str], kind: str, invoice_number: str) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    postal_code = "13007" if kind == "consumer" else "05350"
    return {
        "debtor": {
            "kind": kind,
            "name": debtor["name"],
            **({"siren_or_siret": debtor["siret"]} if kind == "company" else {}),
            "address": {
                "lines": [debtor["line"]],
                "postal_code": postal_code,
                "city": debtor["city"],
            },
            "email": debtor["email"],
            "phone": debtor["phone"],
            "bank_account": {"iban": debtor["iban"]},
        },
        "invoices": [
            {
                "invoice_number": invoice_number,
                "issue_date": (today - timedelta(days=90)).isoformat(),
                "due_date": (today - timedelta(days=60)).isoformat(),
                "amount_due": {"amount": "2350.00", "currency": "EUR"},
                "description": f"Travaux chez {debtor['name']}",
            }
        ],
        "notes": NOTES,
    }


async def outbox_payloads(database_url: str) -> list[bytes]:
    """What a service keeps in its outbox (sent rows stay there a week) and its dead letters."""
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        rows = await connection.fetch(
            "SELECT payload, headers::text AS headers FROM outbox "
            "UNION ALL SELECT payload, headers::text FROM outbox_dead_letters"
        )
    finally:
        await connection.close()
    return [bytes(r["payload"]) + r["headers"].encode() for r in rows]


async def scoring_debtor_key(database_url: str, case_id: str) -> str | None:
    """The SIREN scoring keyed the case's debtor history on, once it has the case."""
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        key = await connection.fetchval("SELECT debtor_key FROM cases WHERE case_id = $1", case_id)
    finally:
        await connection.close()
    return str(key) if key else None


async def test_no_topic_carries_a_debtors_name_address_email_phone_or_iban(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    tmp_path: Path,
) -> None:
    clock_file = tmp_path / "matching-clock-offset"
    market = marketplace("e2e_pii", make_database, run_service, clock_file)
    prefix, clock, databases = market.prefix, market.clock, market.databases
    gateway, http_port = market.gateway, market.http_port
    await market.start()

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", timeout=30) as client:
        await wait_http(client, gateway)
        operator = await operator_log_in(client, gateway)
        _, provider = await sign_up_provider(
            client, "Etude Lambert", "552100554", operator=operator
        )
        rule = await client.post(
            "/v1/provider/auto-bid-rules",
            json={"name": "all", "fee_percent": "10"},
            headers=provider | idempotency_key(),
        )
        assert rule.status_code == 200, rule.text
        creditor_email = f"{unique_name('creditor')}@example.fr"
        signed = await client.post(
            "/v1/accounts",
            json={
                "organisation_name": CREDITOR_NAME,
                "siren": CREDITOR_SIREN,
                "email": creditor_email,
                "password": PASSWORD,
            },
            headers=idempotency_key(),
        )
        assert signed.status_code == 201, signed.text
        creditor = await log_in(client, creditor_email)
        policy = await client.post(
            "/v1/quote-policy", json={"max_fee_percent": "20"}, headers=creditor | idempotency_key()
        )
        assert policy.status_code == 200, policy.text

        cases = {}
        for label, debtor, kind, number in (
            ("person", PERSON, "consumer", INVOICE_NUMBER),
            ("sole trader", SOLE_TRADER, "company", "F-2026-0100"),
        ):
            made = await client.post(
                "/v1/cases",
                json=case_body(debtor, kind, number),
                headers=creditor | idempotency_key(),
            )
            assert made.status_code == 201, made.text
            cases[label] = made.json()["case_id"]
        case_id = cases["person"]

        withdrawn = await client.post(
            f"/v1/cases/{cases['sole trader']}/withdrawal",
            json={"reason": WITHDRAWAL},
            headers=creditor | idempotency_key(),
        )
        assert withdrawn.status_code == 200, withdrawn.text

        async def auto_bid_placed() -> bool | None:
            listed = await client.get(f"/v1/provider/auctions/{case_id}", headers=provider)
            return True if listed.status_code == 200 and listed.json()["my_fee_percent"] else None

        await eventually(auto_bid_placed, "the scored case opens an auction and is auto-bid")
        clock.advance(BIDDING_CLOSES)

        async def quoted() -> bool | None:
            answer = await client.get(f"/v1/cases/{case_id}/quote", headers=creditor)
            return True if answer.json().get("status") == "quoted" else None

        await eventually(quoted, "bidding closes and the creditor is quoted")
        accepted = await client.post(
            f"/v1/cases/{case_id}/quote/acceptance", headers=creditor | idempotency_key()
        )
        assert accepted.status_code == 200, accepted.text
        taken = await client.post(
            f"/v1/provider/assignments/{case_id}/acceptance", headers=provider | idempotency_key()
        )
        assert taken.status_code == 200, taken.text
        assert taken.json()["status"] == "assigned"

        # The holder reads the debtor's details where they belong (intake, over gRPC) ...
        async def case_file() -> dict[str, Any] | None:
            answer = await client.get(
                f"/v1/provider/assignments/{case_id}/case-file", headers=provider
            )
            return answer.json() if answer.status_code == 200 else None

        held = await eventually(case_file, "intake follows the assignment")
        assert PERSON["email"] in str(held)
        # ... and reports a call in words that name the debtor.
        reported = await client.post(
            f"/v1/provider/assignments/{case_id}/actions",
            json={"kind": "call", "note": ACTION_NOTE},
            headers=provider | idempotency_key(),
        )
        assert reported.status_code == 201, reported.text

        # The creditor still reads the provider's note, from matching, which owns it.
        async def note_shown() -> bool | None:
            answer = await client.get(f"/v1/cases/{case_id}/activity", headers=creditor)
            return True if ACTION_NOTE in answer.text else None

        await eventually(note_shown, "the creditor sees the provider's note")

    # Scoring has the sole trader's SIREN all the same: it asked intake (GetDebtorSiren).
    async def siren_scoring_asked_for() -> str | None:
        return await scoring_debtor_key(databases["scoring"], cases["sole trader"])

    assert await eventually(siren_scoring_asked_for, "scoring asks intake") == SOLE_TRADER_SIREN

    for name, url in databases.items():
        await outbox_drained(url, f"{name}'s outbox drains")

    topics = await topics_starting_with(stack, prefix)
    records: list[RawRecord] = []
    for topic in topics:
        records += await read_raw_records(stack, topic, idle_seconds=1.0)
    seen = {r.topic.removeprefix(prefix) for r in records}
    assert {
        "intake.case-submitted.v1",
        "intake.case-withdrawn.v1",
        "scoring.case-scored.v1",
        "matching.quote-issued.v1",
        "matching.case-assigned.v1",
        "matching.action-reported.v1",
        "gateway.organisation-registered.v1",
    } <= seen, seen
    leaks = sorted(
        f"{what} in {record.topic.removeprefix(prefix)}"
        for what, needle in needles().items()
        for record in records
        if record.carries(needle)
    )
    assert not leaks, leaks

    kept = [row for url in databases.values() for row in await outbox_payloads(url)]
    assert kept, "the outboxes keep their sent rows"
    leaks = sorted({what for what, needle in needles().items() for row in kept if needle in row})
    assert not leaks, leaks
