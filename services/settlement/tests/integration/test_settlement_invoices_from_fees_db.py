"""Invoices issued from fees on the real PostgreSQL: a fee booked asks for its invoices, the
operator's command lists what waits and why and sets the missing billing identity, the issuer
numbers them and stores the Factur-X PDF once, and an issued PDF stays as made."""

from __future__ import annotations

import facturx  # type: ignore[import-untyped]
import pytest

from services.settlement.tests.integration.conftest import Ledger
from services.settlement.tests.unit.invoice_builders import PLATFORM, PROVIDER
from services.settlement.tests.unit.test_settlement_fees import RATES, paid, receive
from settlement.adapters.invoice_document import FacturxRenderer
from settlement.domain.documents import reader_of
from settlement.domain.fee_commands import BookFees
from settlement.service_layer.fees import book_fees
from settlement.service_layer.invoice_issuing import (
    issue_requested_invoices,
    set_billing_identity,
)
from settlement.service_layer.invoices import invoice_document, invoices_for

pytestmark = pytest.mark.integration


async def test_a_booked_fee_is_invoiced_once_its_parties_are_known(ledger: Ledger) -> None:
    await set_billing_identity(PROVIDER, "ops-anne", ledger.units())
    await receive(ledger.units(), "L1", 120_000)
    for _ in range(2):  # the same attribution told twice asks for its invoices once
        async with ledger.units() as uow:
            await book_fees(BookFees(paid(1, 120_000)), uow, RATES)
            await uow.commit()
    renderer = FacturxRenderer()
    await issue_requested_invoices(ledger.units, renderer, PLATFORM)

    pending = ledger.command("invoices", "--pending")
    assert pending.returncode == 0, pending.stderr
    (line,) = pending.stdout.splitlines()
    assert "provider-fee" in line
    assert "no billing identity for creditor cred-1" in line

    done = ledger.command(
        "billing", "identity", "creditor", "cred-1", "--name", "Boulangerie Martin",
        "--address", "3 place du Marché", "--postcode", "69001", "--city", "Lyon",
        "--siren", "542107651", "--vat-number", "FR13542107651", "--operator", "ops-anne",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    refused = ledger.command(
        "billing", "identity", "creditor", "cred-2", "--name", "X", "--address", "Y",
        "--postcode", "1", "--city", "Z", "--siren", "542107652", "--operator", "ops-anne",
    )  # fmt: skip
    assert refused.returncode == 2
    assert "identity.siren" in refused.stdout

    await issue_requested_invoices(ledger.units, renderer, PLATFORM)
    await issue_requested_invoices(ledger.units, renderer, PLATFORM)
    assert ledger.command("invoices", "--pending").stdout == ""
    issued = await invoices_for(ledger.units(), reader_of("operator", None))
    assert sorted(i.number for i in issued) == ["COM-000001", "HON-prov-1-000001"]
    fee = next(i for i in issued if i.number == "HON-prov-1-000001")
    assert (fee.to_issue.buyer.name, fee.to_issue.amount_excl_vat, fee.total) == (
        "Boulangerie Martin", 12_000, 14_400,
    )  # fmt: skip
    _, pdf = await invoice_document(ledger.units(), reader_of("creditor", "cred-1"), fee.invoice_id)
    _, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    for statement in ("UPDATE invoice_documents SET pdf = ''", "DELETE FROM invoice_documents"):
        with pytest.raises(Exception, match="stays as issued"):
            await ledger.admin(statement)
