"""What intake announces about a debtor: enough for scoring and matching, nothing that names a
person (docs/personal-data.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from intake.domain.commands import SubmitCase
from intake.domain.debtors import DebtorInput, pseudonymous_key
from intake.domain.invoices import InvoiceInput
from intake.domain.model import new_case
from intake.service_layer.events import case_submitted
from intake.service_layer.submit_case import record_case
from recouvra.events.v1.case_events_pb2 import CaseSubmitted
from services.intake.tests.unit.fakes import FAKE_DEBTOR_KEY_SECRET, FakeIntakeStorage

TODAY = date(2026, 11, 23)
PERSON = DebtorInput(
    kind="consumer",
    name="Zéphyrine Baptistin",
    address_lines=("17 impasse des Glycines",),
    postal_code="13007",
    city="Marseille",
    email="zephyrine.baptistin@exemple.fr",
    phone="+33612345678",
    iban="FR7630006000011234567890189",
)
COMPANY = DebtorInput(
    kind="company", name="Transports Lefèvre SAS", siren_or_siret="55210055400013"
)


def submission(debtor: DebtorInput) -> SubmitCase:
    return SubmitCase(
        creditor_id="creditor-a",
        debtor=debtor,
        invoices=(InvoiceInput("F-BAPTISTIN-7", "2026-01-01", "2026-01-31", "EUR", "10.00"),),
    )


def test_a_consumers_case_is_announced_without_anything_that_names_the_debtor() -> None:
    case = new_case(submission(PERSON), TODAY)
    event = case_submitted(case)
    wire = event.envelope.SerializeToString()
    for value in (
        "Baptistin",
        "Glycines",
        "Marseille",
        "13007",
        "zephyrine",
        "+33612345678",
        "FR7630006000011234567890189",
        "F-BAPTISTIN-7",
    ):
        assert value.encode() not in wire, value
    announced = CaseSubmitted()
    assert event.envelope.payload.Unpack(announced)
    assert not announced.debtor_is_business
    assert announced.debtor_region == "FR-PAC"
    assert announced.amount.minor_units == 1000


def test_a_sole_traders_siren_is_not_announced_scoring_asks_intake_for_it() -> None:
    sole_trader = DebtorInput(kind="company", name="Jean Dupont EI", siren_or_siret="732829320")
    for debtor, siren in ((sole_trader, b"732829320"), (COMPANY, b"552100554")):
        event = case_submitted(new_case(submission(debtor), TODAY))
        announced = CaseSubmitted()
        assert event.envelope.payload.Unpack(announced)
        assert announced.debtor_is_business
        wire = event.envelope.SerializeToString()
        assert siren not in wire
        assert b"Dupont" not in wire
        assert b"Lef" not in wire
    assert "debtor_siren" not in CaseSubmitted.DESCRIPTOR.fields_by_name


def test_the_case_submitted_event_lists_each_invoices_terms_oldest_due_first() -> None:
    command = SubmitCase(
        creditor_id="creditor-a",
        debtor=COMPANY,
        invoices=(
            InvoiceInput("F-LEFEVRE-2", "2026-03-01", "2026-03-31", "EUR", "250.50"),
            InvoiceInput("F-LEFEVRE-1", "2026-01-01", "2026-01-31", "EUR", "100.00"),
        ),
    )
    event = case_submitted(new_case(command, TODAY))
    announced = CaseSubmitted()
    assert event.envelope.payload.Unpack(announced)
    assert [
        (t.principal.minor_units, t.principal.currency, t.issue_date, t.due_date)
        for t in announced.invoices
    ] == [
        (10000, "EUR", "2026-01-01", "2026-01-31"),
        (25050, "EUR", "2026-03-01", "2026-03-31"),
    ]
    assert announced.amount.minor_units == sum(t.principal.minor_units for t in announced.invoices)
    assert b"F-LEFEVRE" not in event.envelope.SerializeToString()


async def test_one_debtors_cases_from_two_creditors_share_a_key_that_names_nobody() -> None:
    storage = FakeIntakeStorage()
    announced = []
    for creditor, debtor, invoice in (
        ("creditor-a", PERSON, "F-1"),
        ("creditor-b", PERSON, "F-2"),
        ("creditor-b", COMPANY, "F-3"),
    ):
        command = replace(
            submission(debtor),
            creditor_id=creditor,
            invoices=(InvoiceInput(invoice, "2026-01-01", "2026-01-31", "EUR", "10.00"),),
        )
        async with storage.unit_of_work() as uow:
            await record_case(command, uow, TODAY)
            await uow.commit()
    for event in storage.state.outbox:
        payload = CaseSubmitted()
        assert event.envelope.payload.Unpack(payload)
        announced.append(payload.debtor_key)
    person_a, person_b, company = announced
    assert person_a == person_b != company
    assert len(person_a) == 64  # an HMAC-SHA256, hex
    assert "552100554" not in company
    assert "baptistin" not in person_a.lower()
    # Without intake's secret, a guess cannot be checked against the key.
    assert pseudonymous_key(b"another-secret", "siren:552100554") != company
    assert pseudonymous_key(FAKE_DEBTOR_KEY_SECRET, "siren:552100554") == company
