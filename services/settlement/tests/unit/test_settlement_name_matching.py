"""Matching a suspense credit by its payer's name (issue 14, point 3), on the fakes: the cases
proposed, their confidence and the threshold, nothing booked by the name, the operator's
confirmation booking it; the ListSuspense RPC carrying the proposals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from recouvra.settlement.v1 import settlement_pb2
from recouvra_shared.context import Caller, caller_var
from services.settlement.tests.unit.camt_files import Entry
from services.settlement.tests.unit.money_in_world import (
    CASE_A,
    CASE_B,
    RATES,
    REF_B,
    World,
    two_invoice_case,
)
from settlement.domain.name_matching import PROPOSE_AT, OpenCase, candidates, confidence, normalised
from settlement.domain.payment_instructions import client_money_account
from settlement.domain.receipts import ReceiptStatus
from settlement.entrypoints.grpc_api import SettlementApi
from settlement.service_layer.name_proposals import suspense_with_candidates
from settlement.service_layer.suspense import assign

CASE_C = "0b7c1f2a-0000-4000-8000-00000000000c"


class Names:
    """Intake's debtors' names, as GetCase would answer them."""

    def __init__(self, names: dict[str, str]) -> None:
        self.known = names
        self.asked: list[str] = []

    async def names(self, case_ids: Sequence[str]) -> dict[str, str]:
        self.asked.extend(case_ids)
        return {c: self.known[c] for c in case_ids if c in self.known}


def consumer(case_id: str, creditor: str = "cred-1"):  # type: ignore[no-untyped-def]
    return replace(two_invoice_case(case_id, creditor), debtor_is_business=False)  # 1,500.00


def test_names_are_compared_without_accents_civilities_legal_forms_or_word_order() -> None:
    assert normalised("M. Jean-Pierre Lefèvre") == "JEAN LEFEVRE PIERRE"
    assert confidence("LEFEVRE JEAN PIERRE", "M. Jean-Pierre Lefèvre") == 100
    assert confidence("BOULANGERIE MARTIN SARL", "Boulangerie Martin") == 100
    assert confidence("Jean Marin", "Jean Martin") == 95  # a typo: proposed
    assert confidence("Paul Martin", "Jean Martin") == 55  # another person: not
    assert confidence("", "Jean Martin") == 0
    assert confidence("SARL", "Jean Martin") == 0


def test_only_cases_owing_at_least_the_credit_and_alike_enough_are_proposed() -> None:
    cases = [
        OpenCase("a", 150_000, "Jean Martin"),
        OpenCase("b", 10_000, "Jean Martin"),  # owes less than the credit
        OpenCase("c", 150_000, "Paul Martin"),  # below PROPOSE_AT
        OpenCase("d", 150_000, "J. Martin"),
    ]
    found = candidates("MARTIN JEAN", 50_000, cases)
    assert [(c.case_id, c.confidence) for c in found] == [("a", 100), ("d", 84)]
    assert all(c.confidence >= PROPOSE_AT for c in found)
    assert candidates(None, 50_000, cases) == []


async def test_a_credit_without_reference_is_proposed_for_the_debtors_case_not_booked() -> None:
    world = World()
    world.knows(consumer(CASE_A))
    world.knows(consumer(CASE_B, "cred-2"))
    world.knows(consumer(CASE_C, "cred-3"))
    names = Names({CASE_A: "Jean Martin", CASE_B: "Claire Dubois", CASE_C: "Jean Marin"})
    # 400.00, a wrong reference, paid by "MARTIN JEAN": no rule matches it.
    report = await world.import_entries([Entry(40_000, reference=REF_B, debtor_name="MARTIN JEAN")])
    assert report.suspense == 1

    (waiting,) = await suspense_with_candidates(world.uow, names, RATES)
    assert [(c.case_id, c.confidence, c.owed_minor) for c in waiting.candidates] == [
        (CASE_A, 100, 150_000),
        (CASE_C, 95, 150_000),
    ]
    # Proposed only: the money still waits in suspense, nobody was told of a payment.
    assert await world.balance("471") == 40_000
    assert world.received() == []
    assert waiting.receipt.status is ReceiptStatus.SUSPENSE

    # The operator confirms the first candidate: booked to that case's creditor.
    await assign(waiting.receipt.receipt_id, CASE_A, world.uow(), rates=RATES)
    assert await world.balance("4671/cred-1") == 40_000
    assert world.received()[0].case_id == CASE_A
    assert await suspense_with_candidates(world.uow, names, RATES) == []


async def test_a_case_paid_beyond_the_credit_or_withdrawn_is_not_proposed_nor_asked() -> None:
    world = World()
    world.knows(consumer(CASE_A))
    world.knows(replace(consumer(CASE_B, "cred-2"), withdrawn=True))
    names = Names({CASE_A: "Jean Martin", CASE_B: "Jean Martin"})
    await world.import_entries([Entry(200_000, debtor_name="Jean Martin")])  # > 1,500.00 owed
    (waiting,) = await suspense_with_candidates(world.uow, names, RATES)
    assert waiting.candidates == ()
    assert names.asked == []  # no name read when no case could be it


async def test_without_intake_the_queue_is_listed_without_proposals() -> None:
    world = World()
    world.knows(consumer(CASE_A))
    await world.import_entries([Entry(40_000, debtor_name="Jean Martin")])
    (waiting,) = await suspense_with_candidates(world.uow, None, RATES)
    assert waiting.candidates == ()


@pytest.fixture
def as_operator():  # type: ignore[no-untyped-def]
    token = caller_var.set(Caller(kind="operator", subject="ops-anne", tenant_id=""))
    yield
    caller_var.reset(token)


async def test_list_suspense_carries_the_candidates_for_the_operator(as_operator: None) -> None:
    world = World()
    world.knows(consumer(CASE_A))
    await world.import_entries([Entry(40_000, debtor_name="Jean Martin")])
    account = client_money_account(
        "Recouvra SAS - fonds de tiers", "FR7630006000011234567890189", "AGRIFRPP"
    )
    api = SettlementApi(world.uow, account, Names({CASE_A: "MARTIN Jean"}))
    reply = await api.ListSuspense(settlement_pb2.ListSuspenseRequest(), None)
    (item,) = reply.items
    (candidate,) = item.candidates
    assert (candidate.case_id, candidate.confidence) == (CASE_A, 100)
    assert item.debtor_name == "Jean Martin"
