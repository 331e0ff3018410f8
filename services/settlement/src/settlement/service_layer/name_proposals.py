"""The suspense queue with, for each credit, the cases its payer's name proposes
(domain/name_matching.py). Settlement keeps no debtor's name: intake does, and answers them
(`DebtorNames`), read outside any transaction of settlement's; nothing is stored or booked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from recouvra_shared.legal.ecb_rates import RateTable
from settlement.domain.name_matching import Candidate, OpenCase, candidates
from settlement.domain.receipts import Receipt, amounts_owed
from settlement.service_layer.direct_payments import paid_towards
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

# The names asked of intake for one listing, at most: the cases owing the most come first.
MAX_NAME_LOOKUPS = 200


class DebtorNames(Protocol):
    """The debtors' names of cases, from intake, which keeps them."""

    async def names(self, case_ids: Sequence[str]) -> dict[str, str]:
        """Each case's debtor's name; a case intake cannot answer for is left out."""


@dataclass(frozen=True)
class WaitingCredit:
    """A suspense credit and the cases its payer's name proposes, best first."""

    receipt: Receipt
    candidates: tuple[Candidate, ...] = ()


async def suspense_with_candidates(
    units: Callable[[], SettlementUnitOfWork],
    names: DebtorNames | None,
    rates: RateTable | None = None,
) -> list[WaitingCredit]:
    """Credits waiting for an operator, oldest first, each with its proposed cases."""
    async with units() as uow:
        waiting = await uow.receipts.in_suspense()
        named = [r for r in waiting if r.debtor_name]
        owed: dict[tuple[str, str], int] = {}
        if names is not None and named:
            for case in await uow.cases.open_cases():
                paid = await paid_towards(uow, case.case_id)
                for receipt in named:
                    due = amounts_owed(case, receipt.received_on, paid, rates).total_minor
                    if due >= receipt.amount_minor:
                        owed[(receipt.receipt_id, case.case_id)] = due
    if names is None or not owed:
        return [WaitingCredit(r) for r in waiting]
    by_case: dict[str, int] = {}
    for (_, case_id), due in owed.items():
        by_case[case_id] = max(due, by_case.get(case_id, 0))
    asked = sorted(by_case, key=lambda c: (-by_case[c], c))[:MAX_NAME_LOOKUPS]
    found = await names.names(asked)
    return [
        WaitingCredit(
            receipt,
            tuple(
                candidates(
                    receipt.debtor_name,
                    receipt.amount_minor,
                    [
                        OpenCase(case_id, due, found[case_id])
                        for (receipt_id, case_id), due in owed.items()
                        if receipt_id == receipt.receipt_id and case_id in found
                    ],
                )
            ),
        )
        for receipt in waiting
    ]
