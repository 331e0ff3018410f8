"""The verdict reads a payout batch's bank file as the bank would: each credit transfer by its
end-to-end id and amount, to the cent (unit tier: a pain.001 built by settlement's own code)."""

from __future__ import annotations

import uuid
from datetime import date

from schwifty import IBAN

from settlement.domain.accounts import PartyKind
from settlement.domain.payment_instructions import ClientMoneyAccount
from settlement.domain.payouts import LineKind, PayoutLine
from settlement.domain.sepa_files import credit_transfers
from tests.chaos.payouts import iban_of, transfers_in

PLATFORM = ClientMoneyAccount("Recouvra fonds de tiers", "FR7630006000011234567890189", "AGRIFRPP")


def transfer(party_id: str, cents: int, number: int) -> PayoutLine:
    return PayoutLine(
        str(uuid.uuid4()), PartyKind.PROVIDER, party_id, LineKind.TRANSFER, cents, 0, cents,
        1, f"Provider {party_id}", iban_of(number), None,
    )  # fmt: skip


def test_each_transfer_is_read_once_with_its_amount_to_the_cent() -> None:
    lines = [transfer("p-1", 1_234_567, 0), transfer("p-2", 1, 1), transfer("p-3", 99_999, 2)]
    pain = credit_transfers("b" * 36, date(2026, 12, 14), PLATFORM, lines)
    assert pain is not None
    found = transfers_in(pain)
    assert found == {(line.line_id.replace("-", "")[:35], line.amount): 1 for line in lines}


def test_a_transfer_written_twice_is_counted_twice() -> None:
    line = transfer("p-1", 50_000, 0)
    pain = credit_transfers("b" * 36, date(2026, 12, 14), PLATFORM, [line, line])
    assert pain is not None
    assert list(transfers_in(pain).values()) == [2]


def test_each_payee_has_a_valid_iban_of_its_own() -> None:
    ibans = {iban_of(n) for n in range(50)}
    assert len(ibans) == 50
    assert all(IBAN(i).in_sepa_zone for i in ibans)
