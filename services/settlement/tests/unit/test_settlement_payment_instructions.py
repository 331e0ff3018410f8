"""Payment instructions on fakes: one RF reference per case for good, a valid account, an EPC QR
a banking app reads, and only for those who may ask."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from stdnum import iso11649

from recouvra.common.v1.money_pb2 import Money
from recouvra.settlement.v1 import settlement_pb2
from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import InvalidField, NotFound, PermissionDenied, Unauthenticated
from services.settlement.tests.unit.fakes import FakeSettlementUnitOfWork
from services.settlement.tests.unit.money_in_world import two_invoice_case
from settlement.domain.payment_instructions import (
    client_money_account,
    new_reference_body,
    rf_reference,
)
from settlement.domain.queries import GetPaymentInstructions
from settlement.entrypoints.grpc_api import SettlementApi
from settlement.service_layer.payment_instructions import payment_instructions

ACCOUNT = client_money_account(
    "Recouvra SAS - fonds de tiers", "FR76 3000 6000 0112 3456 7890 189", "AGRIFRPP"
)
CASE = str(uuid.uuid4())


def ask(
    case_id: str = CASE, kind: str = "service", subject: str = "messaging", **kw
) -> GetPaymentInstructions:
    return GetPaymentInstructions(case_id=case_id, caller_kind=kind, caller_subject=subject, **kw)


def test_the_rf_reference_is_iso_11649_with_its_check_digits() -> None:
    assert rf_reference("539007547034") == "RF18539007547034"  # the standard's own example
    assert iso11649.is_valid(rf_reference("RCV0000ABCDEFGH"))
    assert not iso11649.is_valid("RF18539007547043")  # two digits swapped: caught


def test_a_reference_body_is_rcv_and_twelve_base36_characters() -> None:
    assert new_reference_body(lambda bits: 0) == "RCV000000000000"
    assert new_reference_body(lambda bits: 35) == "RCVZ00000000000"
    assert len(rf_reference(new_reference_body(lambda bits: 2**bits - 1))) == 19


@pytest.mark.parametrize(
    ("iban", "bic", "field", "rule"),
    [
        ("FR7630006000011234567890188", "AGRIFRPP", "client_money_iban", "not a valid IBAN"),
        ("BR1800360305000010009795493C1", "BRASBRRJ", "client_money_iban", "must be an account in"),
        ("FR7630006000011234567890189", "DEUTDEFF", "client_money_bic", "must be of the IBAN's"),
        ("FR7630006000011234567890189", "AGRI", "client_money_bic", "not a valid BIC"),
    ],
)  # fmt: skip
def test_the_client_money_account_is_refused_unless_valid(
    iban: str, bic: str, field: str, rule: str
) -> None:
    with pytest.raises(InvalidField) as refused:
        client_money_account("Recouvra", iban, bic)
    assert refused.value.field == field
    assert refused.value.rule.startswith(rule)


async def test_a_case_keeps_the_reference_it_was_first_given() -> None:
    uow = FakeSettlementUnitOfWork()
    first = await payment_instructions(ask(), uow, ACCOUNT)
    again = await payment_instructions(ask(), uow, ACCOUNT)
    other = await payment_instructions(ask(str(uuid.uuid4())), uow, ACCOUNT)
    assert first.reference == again.reference
    assert other.reference != first.reference
    assert uow.kept.references == {CASE: first.reference, other.case_id: other.reference}
    assert first.reference_formatted == " ".join(
        first.reference[i : i + 4] for i in range(0, len(first.reference), 4)
    )


async def test_a_reference_taken_by_another_case_is_never_given_twice() -> None:
    uow = FakeSettlementUnitOfWork()
    bodies = iter(["RCV000000000001", "RCV000000000001", "RCV000000000002"])
    first = await payment_instructions(ask(), uow, ACCOUNT, lambda: next(bodies))
    second = await payment_instructions(ask(str(uuid.uuid4())), uow, ACCOUNT, lambda: next(bodies))
    assert (first.reference, second.reference) == (
        rf_reference("RCV000000000001"),
        rf_reference("RCV000000000002"),
    )


async def test_the_epc_qr_payload_is_what_a_banking_app_reads() -> None:
    found = await payment_instructions(ask(amount_due=123_456), FakeSettlementUnitOfWork(), ACCOUNT)
    assert found.epc_qr_payload.split("\n") == [
        "BCD", "002", "1", "SCT", "AGRIFRPP", "Recouvra SAS - fonds de tiers",
        "FR7630006000011234567890189", "EUR1234.56", "", found.reference,
    ]  # fmt: skip
    assert found.epc_qr_svg.startswith("<?xml")
    assert "<svg" in found.epc_qr_svg


async def test_without_an_amount_there_is_no_qr() -> None:
    found = await payment_instructions(ask(), FakeSettlementUnitOfWork(), ACCOUNT)
    assert (found.amount_due, found.epc_qr_payload, found.epc_qr_svg) == (None, "", "")


@pytest.mark.parametrize(
    ("query", "refusal", "field"),
    [
        (ask("case-1"), InvalidField, "case_id"),
        (ask(amount_due=100, currency="USD"), InvalidField, "amount_due.currency"),
        (ask(amount_due=0), InvalidField, "amount_due.minor_units"),
        (ask(kind="debtor", subject=str(uuid.uuid4())), NotFound, None),
        (ask(kind="creditor", subject="alice", caller_tenant="cred-1"), NotFound, None),
        (ask(kind="provider", subject="p-1"), PermissionDenied, None),
        (ask(kind="service", subject="vault"), PermissionDenied, None),
    ],
)
async def test_refusals_name_the_field_and_give_nothing(query, refusal, field) -> None:
    uow = FakeSettlementUnitOfWork()
    with pytest.raises(refusal) as refused:
        await payment_instructions(query, uow, ACCOUNT)
    if field:
        assert refused.value.violations[0].field == field
    assert uow.kept.references == {}


async def test_a_creditor_sees_its_own_case_and_another_creditor_gets_not_found() -> None:
    uow = FakeSettlementUnitOfWork()
    uow.kept.cases[CASE] = two_invoice_case(CASE, creditor="cred-1")
    mine = await payment_instructions(
        ask(kind="creditor", subject="alice", caller_tenant="cred-1"), uow, ACCOUNT
    )
    assert iso11649.is_valid(mine.reference)
    with pytest.raises(NotFound):
        await payment_instructions(
            ask(kind="creditor", subject="mallory", caller_tenant="cred-2"), uow, ACCOUNT
        )
    with pytest.raises(NotFound):  # a creditor naming no organisation owns nothing
        await payment_instructions(ask(kind="creditor", subject="alice"), uow, ACCOUNT)
    assert list(uow.kept.references) == [CASE]


async def test_the_debtor_portal_sees_its_own_case() -> None:
    found = await payment_instructions(
        ask(kind="debtor", subject=CASE), FakeSettlementUnitOfWork(), ACCOUNT
    )
    assert found.case_id == CASE


@pytest.fixture
def as_service() -> Iterator[None]:
    token = caller_var.set(Caller(kind="service", subject="messaging"))
    yield
    caller_var.reset(token)


async def test_the_grpc_reply_carries_every_field(as_service: None) -> None:
    api = SettlementApi(FakeSettlementUnitOfWork, ACCOUNT)
    request = settlement_pb2.GetPaymentInstructionsRequest(
        case_id=CASE.upper(), amount_due=Money(currency="EUR", minor_units=4_000)
    )
    reply = await api.GetPaymentInstructions(request, None)  # type: ignore[arg-type]
    assert reply.case_id == CASE
    assert (reply.iban, reply.iban_formatted, reply.bic) == (
        "FR7630006000011234567890189", "FR76 3000 6000 0112 3456 7890 189", "AGRIFRPP",
    )  # fmt: skip
    assert reply.beneficiary_name == "Recouvra SAS - fonds de tiers"
    assert iso11649.is_valid(reply.reference)
    assert reply.reference_formatted.replace(" ", "") == reply.reference
    assert (reply.amount_due.currency, reply.amount_due.minor_units) == ("EUR", 4_000)
    assert "\nEUR40\n" in reply.epc_qr_payload
    assert reply.epc_qr_svg


async def test_the_grpc_reply_without_amount_leaves_it_unset(as_service: None) -> None:
    api = SettlementApi(FakeSettlementUnitOfWork, ACCOUNT)
    reply = await api.GetPaymentInstructions(
        settlement_pb2.GetPaymentInstructionsRequest(case_id=CASE),
        None,  # type: ignore[arg-type]
    )
    assert not reply.HasField("amount_due")
    assert reply.epc_qr_payload == ""


async def test_a_call_naming_no_caller_is_refused() -> None:
    api = SettlementApi(FakeSettlementUnitOfWork, ACCOUNT)
    with pytest.raises(Unauthenticated):
        await api.GetPaymentInstructions(
            settlement_pb2.GetPaymentInstructionsRequest(case_id=CASE),
            None,  # type: ignore[arg-type]
        )
