"""E-invoice import against a real database, with samples made by the factur-x library
(tests/data/make_einvoices.py): a Factur-X PDF, a CII XML and a UBL XML of one invoice."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from recouvra.intake.v1 import intake_pb2
from services.intake.tests.integration.intake_harness import Intake, violations

pytestmark = pytest.mark.integration

DATA = Path(__file__).parents[1] / "data"
A = "creditor-a"


def request(filename: str, **extra: object) -> intake_pb2.ImportEInvoiceRequest:
    fields: dict[str, object] = {
        "idempotency_key": f"e-{filename}",
        "content": (DATA / filename).read_bytes(),
        "filename": filename,
    }
    fields.update(extra)
    return intake_pb2.ImportEInvoiceRequest(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("filename", "kind"),
    [("invoice-facturx.pdf", "factur-x"), ("invoice-cii.xml", "cii"), ("invoice-ubl.xml", "ubl")],
)
async def test_each_e_invoice_format_becomes_a_case(
    intake: Intake, filename: str, kind: str
) -> None:
    reply = await intake.stub.ImportEInvoice(request(filename), metadata=Intake.as_creditor(A))
    assert reply.format == kind
    case = reply.imported_case
    assert case.source == "e-invoice"
    assert case.debtor.kind == intake_pb2.Debtor.COMPANY
    assert case.debtor.name == "Danone Services SAS"
    assert case.debtor.siren_or_siret == "552032534"
    assert case.debtor.vat_number == "FR27552032534"
    assert case.debtor.address.postal_code == "75009"
    assert case.debtor.email == "compta@danone-services.example"
    line = case.invoices[0]
    assert (line.invoice_number, line.issue_date, line.due_date) == (
        "FA-2026-0042",
        "2026-04-15",
        "2026-05-15",
    )
    # 1,200.00 invoiced, 200.00 prepaid: 1,000.00 due (BT-115).
    assert line.amount_due.minor_units == 100_000
    assert line.total_amount.minor_units == 120_000
    assert case.legal_amounts.indemnity.minor_units == 4000

    stored = await intake.stub.GetCase(
        intake_pb2.GetCaseRequest(case_id=reply.case_id), metadata=Intake.as_creditor(A)
    )
    assert stored.invoices[0].invoice_number == "FA-2026-0042"


async def test_the_same_invoice_in_another_format_is_a_duplicate(intake: Intake) -> None:
    first = await intake.stub.ImportEInvoice(
        request("invoice-facturx.pdf"), metadata=Intake.as_creditor(A)
    )
    replay = await intake.stub.ImportEInvoice(
        request("invoice-facturx.pdf"), metadata=Intake.as_creditor(A)
    )
    assert replay.replayed
    assert replay.case_id == first.case_id
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.ImportEInvoice(request("invoice-ubl.xml"), metadata=Intake.as_creditor(A))
    assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert violations(refused.value) == {
        "invoices[0].invoice_number": "FA-2026-0042 was already submitted for this debtor"
    }


async def test_a_partly_paid_invoice_can_claim_less(intake: Intake) -> None:
    reply = await intake.stub.ImportEInvoice(
        request("invoice-cii.xml", amount_due="400.00"), metadata=Intake.as_creditor(A)
    )
    assert reply.imported_case.amount.minor_units == 40_000
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.ImportEInvoice(
            request("invoice-ubl.xml", idempotency_key="x", amount_due="5000.00"),
            metadata=Intake.as_creditor("creditor-b"),
        )
    assert violations(refused.value) == {
        "invoices[0].total_amount": "must not be less than amount_due"
    }


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (b"%PDF-1.4 not really a pdf", "is not a readable PDF"),
        (b"<Rechnung><Nummer>1</Nummer></Rechnung>", "is not a Factur-X/ZUGFeRD PDF, a CII"),
        (b"<unclosed", "is not well-formed XML"),
        (
            (DATA / "invoice-ubl.xml")
            .read_bytes()
            .replace(b"<cbc:IssueDate>2026-04-15</cbc:IssueDate>", b""),
            "does not follow the ubl-2.1-invoice schema",
        ),
    ],
)
async def test_an_unreadable_file_is_refused_and_says_why(
    intake: Intake, content: bytes, rule: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.ImportEInvoice(
            intake_pb2.ImportEInvoiceRequest(content=content), metadata=Intake.as_creditor(A)
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert rule in violations(refused.value)["content"]


async def test_an_invoice_of_another_seller_is_refused_and_nothing_is_stored(
    intake: Intake,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.ImportEInvoice(
            request("invoice-facturx.pdf", creditor_siren="732829320"),
            metadata=Intake.as_creditor(A),
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(refused.value) == {
        "seller.siren": "552100554 does not match the importing creditor (SIREN 732829320)",
        "seller.vat_number": "FR96552100554 does not match the importing creditor "
        "(SIREN 732829320)",
    }
    listed = await intake.stub.ListCases(
        intake_pb2.ListCasesRequest(), metadata=Intake.as_creditor(A)
    )
    assert list(listed.cases) == []
    # The key was not spent on the refusal: the seller itself imports its invoice with it.
    accepted = await intake.stub.ImportEInvoice(
        request("invoice-facturx.pdf", creditor_siren="552 100 554"),
        metadata=Intake.as_creditor(A),
    )
    assert not accepted.replayed
    assert accepted.imported_case.invoices[0].invoice_number == "FA-2026-0042"


async def test_an_unchecked_import_is_accepted_and_logged(
    intake: Intake, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="intake.service_layer.import_einvoice"):
        first = await intake.stub.ImportEInvoice(
            request("invoice-ubl.xml"), metadata=Intake.as_creditor(A)
        )
    warned = [r for r in caplog.records if "seller not checked" in r.getMessage()]
    assert len(warned) == 1
    assert "creditor's SIREN is unknown" in warned[0].getMessage()
    assert warned[0].__dict__["creditor_id"] == A
    # A retry relayed by a gateway that now passes the SIREN is the same request: a replay.
    retry = await intake.stub.ImportEInvoice(
        request("invoice-ubl.xml", creditor_siren="552100554"), metadata=Intake.as_creditor(A)
    )
    assert (retry.replayed, retry.case_id) == (True, first.case_id)


async def test_a_malformed_creditor_siren_is_refused(intake: Intake) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.ImportEInvoice(
            request("invoice-cii.xml", creditor_siren="55210055"), metadata=Intake.as_creditor(A)
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations(refused.value)) == {"creditor_siren"}
