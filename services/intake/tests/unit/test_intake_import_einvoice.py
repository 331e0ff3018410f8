"""Importing an e-invoice on fakes: the file's case is recorded like a submission, an invoice of
another seller is refused, an unchecked seller is logged for the operator."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.adapters.einvoice import read_in_thread
from intake.domain.commands import IdempotencyKey, ImportEInvoice, Requester
from intake.domain.errors import DuplicateInvoice, InvalidField, InvalidRequest
from intake.service_layer.import_einvoice import ImportedInvoice, import_einvoice
from services.intake.tests.unit.fakes import TODAY, FakeIntakeStorage

DATA = Path(__file__).parents[1] / "data"
A = "creditor-a"
AS_A = Requester("creditor", A)
imported: list[ImportedInvoice] = []


def keep(result: ImportedInvoice) -> bytes:
    imported.append(result)
    return result.case.case.case_id.encode()


def command(filename: str, key: str = "", **extra: object) -> ImportEInvoice:
    return ImportEInvoice(
        content=(DATA / filename).read_bytes(),
        requester=AS_A,
        idempotency=IdempotencyKey(key, filename.encode()),
        **extra,  # type: ignore[arg-type]
    )


async def test_an_e_invoice_becomes_a_case_once() -> None:
    storage = FakeIntakeStorage()
    reply = await import_einvoice(
        command("invoice-cii.xml", key="e-1"), storage.unit_of_work, TODAY, read_in_thread, keep
    )
    result = imported[-1]
    assert result.format == "cii"
    assert result.case.case.source == "e-invoice"
    assert result.case.amounts.indemnity_minor == 4000
    assert reply.content.decode() in storage.cases
    replay = await import_einvoice(
        command("invoice-cii.xml", key="e-1"), storage.unit_of_work, TODAY, read_in_thread, keep
    )
    assert (replay.content, replay.replayed) == (reply.content, True)
    with pytest.raises(DuplicateInvoice):
        await import_einvoice(
            command("invoice-ubl.xml", key="e-2"), storage.unit_of_work, TODAY, read_in_thread, keep
        )


async def test_an_invoice_of_another_seller_is_refused_and_nothing_is_stored() -> None:
    storage = FakeIntakeStorage()
    with pytest.raises(InvalidRequest) as refused:
        await import_einvoice(
            command("invoice-facturx.pdf", key="e-1", creditor_siren="732829320"),
            storage.unit_of_work,
            TODAY,
            read_in_thread,
            keep,
        )
    assert {v.field for v in refused.value.violations} == {"seller.siren", "seller.vat_number"}
    assert storage.cases == {}
    assert storage.state.idempotency == {}
    with pytest.raises(InvalidField):
        await import_einvoice(
            command("invoice-cii.xml", creditor_siren="55210055"),
            storage.unit_of_work,
            TODAY,
            read_in_thread,
            keep,
        )


async def test_an_unchecked_seller_is_accepted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    storage = FakeIntakeStorage()
    with caplog.at_level("WARNING"):
        await import_einvoice(
            command("invoice-ubl.xml"), storage.unit_of_work, TODAY, read_in_thread, keep
        )
    [warned] = [r for r in caplog.records if "seller not checked" in r.getMessage()]
    assert "creditor's SIREN is unknown" in warned.getMessage()
    assert warned.__dict__["creditor_id"] == A
    assert len(storage.cases) == 1
