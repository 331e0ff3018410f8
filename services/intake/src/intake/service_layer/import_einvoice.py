"""Importing one e-invoice: its buyer becomes the debtor, its seller must be the importing
creditor, and it is then submitted like any other case."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from intake.domain.commands import ImportEInvoice
from intake.domain.model import CaseWithAmounts, with_amounts
from intake.domain.seller import ReadInvoice, check_seller, creditor_siren
from intake.domain.tenancy import acting_creditor
from intake.service_layer.idempotency import Reply, once
from intake.service_layer.rates import current_rates
from intake.service_layer.submit_case import record_case
from intake.service_layer.unit_of_work import IntakeUnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportedInvoice:
    """The case an e-invoice became, and the format it was read in."""

    format: str
    case: CaseWithAmounts


# Reads the command's file for the creditor (adapters/einvoice.py); InvalidField('content')
# when it cannot be read.
ReadEInvoice = Callable[[ImportEInvoice, str], Awaitable[ReadInvoice]]


async def import_einvoice(
    command: ImportEInvoice,
    unit_of_work: Callable[[], IntakeUnitOfWork],
    today: date,
    read_einvoice: ReadEInvoice,
    reply: Callable[[ImportedInvoice], bytes],
) -> Reply:
    """Read the file, check its seller, and record its case once per idempotency key."""
    creditor_id = acting_creditor(command.requester, command.creditor_id, required=True)
    siren = creditor_siren(command.creditor_siren)
    read = await read_einvoice(command, creditor_id)
    unchecked = check_seller(read.seller, siren)
    if unchecked:
        # The response has no place for warnings: the operator's log keeps the trace.
        log.warning(
            "e-invoice seller not checked against the creditor: %s",
            unchecked,
            extra={
                "creditor_id": creditor_id,
                "invoice_number": read.command.invoices[0].invoice_number,
                "seller_name": read.seller.name,
            },
        )

    async def record_and_reply(uow: IntakeUnitOfWork) -> bytes:
        case = await record_case(read.command, uow, today)
        rates = await current_rates(uow)
        return reply(ImportedInvoice(read.format, with_amounts(case, today, rates)))

    return await once(
        unit_of_work, creditor_id, "ImportEInvoice", command.idempotency, record_and_reply
    )
