"""The ECB rate table late-payment interest is computed from: the shipped seed extended by the
changes operators imported, and the import of a new ECB Data Portal export into it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from intake.domain.commands import ImportRates
from intake.domain.errors import InvalidField
from intake.domain.listing import optional_date
from intake.service_layer.unit_of_work import IntakeUnitOfWork
from recouvra_shared.legal.ecb_export import read_ecb_export
from recouvra_shared.legal.ecb_rates import (
    RateImport,
    RateTable,
    merge_export,
    shipped_rates,
    with_imports,
)


async def current_rates(uow: IntakeUnitOfWork) -> RateTable:
    """The table every amount is computed from, the same on every replica."""
    return with_imports(shipped_rates(), await uow.rates.imported())


async def import_rates(
    command: ImportRates, unit_of_work: Callable[[], IntakeUnitOfWork], today: date
) -> RateImport:
    """Merge an ECB export's new rate changes into the table and move its verified date; a file
    that is not that series, or contradicts the verified table, changes nothing."""
    downloaded_on = optional_date("downloaded_on", command.downloaded_on)
    if downloaded_on is not None and downloaded_on > today:
        raise InvalidField("downloaded_on", f"must not be in the future (today is {today})")
    export = read_ecb_export(command.content)
    async with unit_of_work() as uow:
        await uow.rates.lock()
        merged = merge_export(await current_rates(uow), export, downloaded_on)
        await uow.rates.record(
            merged.added,
            file_name=command.file_name,
            last_observation=export.last_observation,
            verified_through=merged.table.verified_through,
        )
        await uow.commit()
    return merged
