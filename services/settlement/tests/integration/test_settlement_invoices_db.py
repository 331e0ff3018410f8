"""Invoices on the real PostgreSQL: numbers without gaps under failures and concurrency, one
invoice per fee, kept as issued whatever a client tries, the Factur-X document stored whole."""

from __future__ import annotations

import asyncio

import asyncpg
import facturx  # type: ignore[import-untyped]
import pytest

from services.settlement.tests.integration.conftest import Ledger
from services.settlement.tests.unit.invoice_builders import (
    PlainRenderer,
    platform_commission,
    provider_fee,
)
from settlement.adapters.invoice_document import FacturxRenderer
from settlement.domain.documents import reader_of
from settlement.domain.invoices import Invoice
from settlement.service_layer.invoices import invoice_document, invoices_for, issue_invoice

pytestmark = pytest.mark.integration


async def test_a_failed_issue_leaves_no_gap_and_concurrent_issues_share_none(
    ledger: Ledger,
) -> None:
    renderer = PlainRenderer()
    await issue_invoice(provider_fee("event:a"), ledger.units(), renderer)
    renderer.fail = True
    with pytest.raises(RuntimeError):
        await issue_invoice(provider_fee("event:b"), ledger.units(), renderer)
    renderer.fail = False
    issued = await asyncio.gather(
        *(issue_invoice(provider_fee(f"event:c{n}"), ledger.units(), renderer) for n in range(6)),
        issue_invoice(platform_commission("event:a"), ledger.units(), renderer),
        # The invoice whose PDF failed kept its number (2): asked again, its PDF is made.
        issue_invoice(provider_fee("event:b"), ledger.units(), renderer),
    )
    numbers = sorted(
        i.number for i in await invoices_for(ledger.units(), reader_of("operator", None))
    )
    assert numbers == ["COM-000001"] + [f"HON-prov-1-{n:06d}" for n in range(1, 9)]
    assert sum(i.created for i in issued) == 7
    retried = issued[-1].invoice
    assert retried.number == "HON-prov-1-000002"
    _, pdf = await invoice_document(ledger.units(), reader_of("operator", None), retried.invoice_id)
    assert pdf == b"%PDF HON-prov-1-000002"


async def test_the_series_is_free_while_a_pdf_renders(ledger: Ledger) -> None:
    """A slow render does not hold the series' counter: another invoice of the same issuer is
    numbered meanwhile."""
    started, release = asyncio.Event(), asyncio.Event()

    class SlowRenderer(PlainRenderer):
        async def render(self, invoice: Invoice) -> bytes:
            if invoice.to_issue.fact_key == "event:slow":
                started.set()
                await release.wait()
            return await super().render(invoice)

    renderer = SlowRenderer()
    slow = asyncio.create_task(issue_invoice(provider_fee("event:slow"), ledger.units(), renderer))
    await asyncio.wait_for(started.wait(), 10)
    quick = await asyncio.wait_for(
        issue_invoice(provider_fee("event:quick"), ledger.units(), renderer), 10
    )
    release.set()
    assert ((await slow).invoice.number, quick.invoice.number) == (
        "HON-prov-1-000001",
        "HON-prov-1-000002",
    )


async def test_one_invoice_per_fee_even_when_asked_twice_at_once(ledger: Ledger) -> None:
    renderer = PlainRenderer()
    issued = await asyncio.gather(
        *(issue_invoice(provider_fee(), ledger.units(), renderer) for _ in range(3))
    )
    # The losers of the race give their number back and answer the winner's invoice.
    assert sum(r.created for r in issued) == 1
    assert {r.invoice.number for r in issued} == {"HON-prov-1-000001"}
    again = await issue_invoice(provider_fee(), ledger.units(), renderer)
    assert (again.created, again.invoice.number) == (False, "HON-prov-1-000001")
    after = await issue_invoice(provider_fee("event:next"), ledger.units(), renderer)
    assert after.invoice.number == "HON-prov-1-000002"


async def test_an_issued_invoice_cannot_be_changed_or_deleted(ledger: Ledger) -> None:
    await issue_invoice(provider_fee(), ledger.units(), PlainRenderer())
    for statement in (
        "UPDATE invoices SET amount_excl_vat = 1",
        "DELETE FROM invoices",
        "TRUNCATE invoices CASCADE",  # plain TRUNCATE: refused by the foreign keys first
    ):
        with pytest.raises(asyncpg.PostgresError, match="stays as issued"):
            await ledger.admin(statement)


async def test_the_stored_document_is_the_factur_x_pdf_its_parties_download(
    ledger: Ledger,
) -> None:
    issued = await issue_invoice(provider_fee(), ledger.units(), FacturxRenderer())
    invoice, pdf = await invoice_document(
        ledger.units(), reader_of("creditor", "cred-1"), issued.invoice.invoice_id
    )
    assert invoice == issued.invoice
    _, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
