"""Settlement's whole money path as its own process on the real stack, its upstream facts sent on
Kafka as intake and matching send them: a case known, paid by a camt.053 line quoting its RF
reference, a second credit reversed by a later statement (RvslInd), the holder's fee booked from
the attribution, its invoices issued once the parties' identities are set, a payout batch
approved by two operators and released as a pain.001 the ISO 20022 schema accepts; the FEC export
read back, bean-check and `python -m settlement check` clean."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sepaxml
import xmlschema
from aiokafka import AIOKafkaProducer

from recouvra.common.v1.money_pb2 import Money
from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.events.v1.matching_events_pb2 import PaymentAttributed
from recouvra.settlement.v1 import settlement_pb2, settlement_pb2_grpc
from recouvra_shared.events import new_event
from recouvra_shared.kafka_security import KafkaConnection
from services.settlement.tests.fec_validator import read_fec
from services.settlement.tests.integration.test_settlement_money_in_process import (
    CREDITOR,
    OPERATOR,
    submitted,
    wait_for,
)
from services.settlement.tests.unit.camt_files import Entry, camt053
from tests.support.fixtures import ServiceProcess
from tests.support.identity import as_person
from tests.support.kafka_read import count_rows
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.integration

PROVIDER = "etude-garnier"
SIREN = "732829320"
PAIN_001_09 = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.09.xsd"
BEAN_CHECK = Path(sys.executable).parent / "bean-check"
IDENTITIES = (
    ("creditor", CREDITOR, "Boulangerie Martin", "542107651", "FR13542107651"),
    ("provider", PROVIDER, "Etude Garnier", "732829320", "FR44732829320"),
)
PAYEES = (
    ("creditor", CREDITOR, "DE89370400440532013000", "COBADEFFXXX"),
    ("provider", PROVIDER, "NL91ABNA0417164300", "ABNANL2A"),
)


def command(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RECOUVRA_ENV": "development", "RECOUVRA_SETTLEMENT_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "settlement", *args],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


async def send(kafka: KafkaConnection, topic: str, event: object, case_id: str) -> None:
    producer = AIOKafkaProducer(**kafka.client_options())
    await producer.start()
    try:
        await producer.send_and_wait(
            topic,
            event.envelope.SerializeToString(),  # type: ignore[attr-defined]
            key=case_id.encode(),
        )
    finally:
        await producer.stop()


async def test_a_case_paid_by_reference_is_booked_invoiced_paid_out_and_exported(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    kafka_as: Callable[[str, str], KafkaConnection],
    tmp_path: Path,
) -> None:
    prefix = unique_name("it") + "."
    url = make_database("settlement")
    settlement = run_service("settlement", url, prefix, invoice_issue_idle_seconds="0.5").start()
    case_id = str(uuid.uuid4())
    await send(
        kafka_as("intake", prefix),
        prefix + "intake.case-submitted.v1",
        new_event(
            producer="intake", event_type="case-submitted", version=1, case_id=case_id,
            tenant_id=CREDITOR, payload=submitted(case_id),
        ),
        case_id,
    )  # fmt: skip
    known = "SELECT count(*) FROM settled_cases"
    assert await wait_for(url, known, lambda n: n >= 1) == 1

    async with settlement.channel() as channel:
        stub = settlement_pb2_grpc.SettlementServiceStub(channel)
        payouts = settlement_pb2_grpc.PayoutOperationsStub(channel)
        # The creditor reads where its debtor pays; the debtor pays 300.00 quoting it, and
        # another 100.00 the bank recalls in the next statement.
        instructions = await stub.GetPaymentInstructions(
            settlement_pb2.GetPaymentInstructionsRequest(case_id=case_id),
            metadata=as_person("settlement", "creditor", CREDITOR),
        )
        reference = instructions.reference
        first = camt053(
            [
                Entry(30_000, reference=reference, servicer_ref="B-1"),
                Entry(10_000, reference=reference, servicer_ref="B-2", end_to_end_id="E-2"),
            ],
            version="02",
        )
        second = camt053(
            [Entry(10_000, credit=False, reversal=True, servicer_ref="B-3", end_to_end_id="E-2",
                   booked_on=date(2026, 3, 4))],
            version="08",
            statement_id="STMT-2026-03-04",
        )  # fmt: skip
        for content in (first, second):
            path = tmp_path / f"statement-{len(content)}.xml"
            path.write_bytes(content)
            imported = command(url, "import-statement", str(path))
            assert imported.returncode == 0, imported.stdout + imported.stderr
            assert "imported before" not in imported.stdout, imported.stdout
        reversed_entries = "SELECT count(*) FROM journal_entries WHERE reverses IS NOT NULL"
        assert await count_rows(url, reversed_entries) == 1

        # Matching attributes the 300.00 to the provider holding the case, at 12 %.
        await send(
            kafka_as("matching", prefix),
            prefix + "matching.payment-attributed.v1",
            new_event(
                producer="matching", event_type="payment-attributed", version=1,
                case_id=case_id, tenant_id=CREDITOR,
                payload=PaymentAttributed(
                    case_id=case_id, payment_id="B-1",
                    amount=Money(currency="EUR", minor_units=30_000), paid_on="2026-03-02",
                    source="bank", provider_id=PROVIDER, round=1,
                    fixed_fee=Money(currency="EUR", minor_units=0),
                    success_fee=Percentage(basis_points=1_200), fee_base="collected",
                ),
            ),
            case_id,
        )  # fmt: skip
        # 12 % of 300.00 = 36.00 + 7.20 VAT; the platform's 15 %: 5.40 + 1.08 VAT.
        booked = "SELECT count(*) FROM fee_bookings WHERE percent_part = 3600 AND commission = 540"
        assert await wait_for(url, booked, lambda n: n >= 1, seconds=120) == 1

        for role, party, name, siren, vat in IDENTITIES:
            done = command(
                url, "billing", "identity", role, party, "--name", name, "--address",
                "1 rue Haute", "--postcode", "75002", "--city", "Paris", "--siren", siren,
                "--vat-number", vat, "--operator", "ops-anne",
            )  # fmt: skip
            assert done.returncode == 0, done.stdout + done.stderr
        made = "SELECT count(*) FROM invoice_documents"
        assert await wait_for(url, made, lambda n: n >= 2, seconds=180) == 2
        invoices = await stub.ListInvoices(
            settlement_pb2.ListInvoicesRequest(),
            metadata=as_person("settlement", "creditor", CREDITOR),
        )
        assert [(i.number, i.total.minor_units) for i in invoices.invoices] == [
            (f"HON-{PROVIDER}-000001", 4_320)
        ]

        for kind, party, iban, bic in PAYEES:
            ref = settlement_pb2.PayeeRef(party_kind=kind, party_id=party)
            await payouts.SetPayeeAccount(
                settlement_pb2.SetPayeeAccountRequest(party=ref, holder=party, iban=iban, bic=bic),
                metadata=as_person("settlement", "operator", "", "alice"),
            )
            await payouts.ConfirmPayeeAccount(
                ref, metadata=as_person("settlement", "operator", "", "bob")
            )
        value_date = datetime.now(UTC).date() + timedelta(days=10)
        proposal = await payouts.ProposePayoutBatch(
            settlement_pb2.ProposePayoutBatchRequest(value_date=value_date.isoformat()),
            metadata=as_person("settlement", "operator", "", "alice"),
        )
        batch = settlement_pb2.PayoutBatchRef(batch_id=proposal.batch.batch_id)
        paid = {line.party.party_id: line.amount.minor_units for line in proposal.batch.lines}
        # The creditor: 300.00 held (the 100.00 came back) less the 43.20 fee; the provider its
        # 43.20 less the platform's 6.48.
        assert paid == {CREDITOR: 25_680, PROVIDER: 3_672}
        for operator in ("alice", "bob"):
            await payouts.ApprovePayoutBatch(
                batch, metadata=as_person("settlement", "operator", "", operator)
            )
        released = await payouts.ReleasePayoutBatch(
            batch, metadata=as_person("settlement", "operator", "", "carol")
        )
        assert released.state == "released"
        pain = await payouts.GetPayoutFile(
            settlement_pb2.GetPayoutFileRequest(batch_id=batch.batch_id, kind="pain.001"),
            metadata=OPERATOR,
        )
        xmlschema.XMLSchema(str(PAIN_001_09)).validate(pain.content.decode())
        mine = await stub.ListPayouts(
            settlement_pb2.ListPayoutsRequest(),
            metadata=as_person("settlement", "creditor", CREDITOR),
        )
        assert [p.amount.minor_units for p in mine.payouts] == [25_680]

    closing = f"{value_date.year}1231"
    exported = command(
        url, "export-fec", "--siren", SIREN, "--closing", closing, "--opening", "20260101",
        "--output", str(tmp_path),
    )  # fmt: skip
    assert exported.returncode == 0, exported.stdout + exported.stderr
    fec = read_fec(tmp_path / f"{SIREN}FEC{closing}.txt")
    assert fec.errors == []
    beancount = tmp_path / "ledger.beancount"
    written = command(url, "export-beancount", "--output", str(beancount))
    assert written.returncode == 0, written.stderr
    checked_by_beancount = await asyncio.to_thread(
        subprocess.run,
        [str(BEAN_CHECK), str(beancount)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked_by_beancount.returncode == 0, checked_by_beancount.stdout
    checked = command(url, "check")
    assert checked.returncode == 0, checked.stdout
    assert "BROKEN" not in checked.stdout
    assert settlement.stop() == 0
