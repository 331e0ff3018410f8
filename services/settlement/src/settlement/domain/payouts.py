"""Payout batches: what each party is paid, approved by two operators, released once.

What is payable comes from the ledger only. For each party's liability account (funds held for a
creditor 4671, fees owed to a provider 4011, commissions owed to a partner 4012):

    eligible = credits booked on or before the hold's cut-off - every debit booked so far

so money received inside the hold never leaves, while fees, payouts and reversals already booked
reduce it at once (never below zero). A creditor who owes fees (4111, on money it was paid
directly) has them offset against what it is paid; when it owes more than it is owed, the rest is
collected by SEPA direct debit if it signed a mandate, else listed as a receivable.

The hold defaults to 3 business days after receipt: the bank statement of the day is imported and
reconciled the next business day, and a transfer returned or recalled for a technical reason
(wrong account, duplicate) comes back within a couple of days; three days keep that money from
being paid on and leave more than three weeks of R124-6's one month for paying it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from recouvra_shared.errors import StateConflict
from settlement.domain.accounts import (
    CLIENT_MONEY_BANK,
    CREDITOR_RECEIVABLES,
    FUNDS_HELD,
    PROVIDER_FEES,
    REFERRAL_COMMISSIONS,
    AccountClass,
    PartyKind,
    account,
)
from settlement.domain.commands import PostEntry
from settlement.domain.ledger import Journal, Line, credit, debit
from settlement.domain.payee_accounts import FourEyesRefused, PayeeAccount

APPROVALS_NEEDED = 2
LIABILITY_OF: dict[PartyKind, AccountClass] = {
    PartyKind.CREDITOR: FUNDS_HELD,
    PartyKind.PROVIDER: PROVIDER_FEES,
    PartyKind.PARTNER: REFERRAL_COMMISSIONS,
}


class BatchState(StrEnum):
    """Where a batch is: proposed, approved by two operators, released (booked, file built)."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    RELEASED = "released"
    CANCELLED = "cancelled"


class LineKind(StrEnum):
    """What a line does: pay by transfer (pain.001), collect by direct debit (pain.008), only
    offset fees against funds held, or list what a creditor without a mandate still owes."""

    TRANSFER = "transfer"
    DIRECT_DEBIT = "direct-debit"
    OFFSET = "offset"
    RECEIVABLE = "receivable"


class NotApproved(StateConflict):
    """A batch is released only once two different operators approved it."""


class BankDetailsChanged(StateConflict):
    """A payee's bank details changed after the batch was proposed: propose it again."""


class NotEnoughHeld(StateConflict):
    """The ledger no longer holds what a line pays (a reversal or fee since the proposal)."""


@dataclass(frozen=True)
class PartyPosition:
    """What the ledger says about a party on the batch's date, in cents."""

    party_kind: PartyKind
    party_id: str
    eligible: int  # payable from its liability account, after the hold
    owes: int = 0  # fees it owes (4111), creditors only
    held: int = 0  # the liability account's whole balance, hold or not


@dataclass(frozen=True)
class PayoutLine:
    """One party's share of a batch; `gross` leaves its liability account, `offset` settles fees
    it owes, `amount` is what the bank moves (paid to it, or collected from it)."""

    line_id: str
    party_kind: PartyKind
    party_id: str
    kind: LineKind
    gross: int
    offset: int
    amount: int
    account_version: int | None = None
    holder: str | None = None
    iban: str | None = None
    bic: str | None = None
    mandate_id: str | None = None
    mandate_signed_on: date | None = None

    @property
    def fact_key(self) -> str:
        """The ledger fact this line books, once."""
        return f"payout-line:{self.line_id}"


@dataclass(frozen=True)
class PaidOut:
    """A line of a released batch, as the party it paid (or collected from) reads it."""

    batch_id: str
    value_date: date
    line: PayoutLine


@dataclass(frozen=True)
class Skipped:
    """A party with something payable that this batch leaves for later, and why."""

    party_kind: PartyKind
    party_id: str
    amount: int
    reason: str


@dataclass(frozen=True)
class PayoutBatch:
    """A batch as proposed, approved and released."""

    batch_id: str
    value_date: date
    proposed_by: str
    proposed_at: datetime
    state: BatchState
    lines: tuple[PayoutLine, ...]
    approvals: tuple[str, ...] = ()
    released_by: str | None = None
    released_at: datetime | None = None


def hold_cutoff(on: date, business_days: int) -> date:
    """The last booking date old enough to pay on `on`: `business_days` weekdays earlier
    (TARGET2 holidays are not counted as closed: the hold is a floor, not a bank calendar)."""
    day, left = on, business_days
    while left > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


def eligible(credits_until_cutoff: int, debits_so_far: int) -> int:
    """What may leave a liability account: old enough credits less everything already taken."""
    return max(0, credits_until_cutoff - debits_so_far)


@dataclass(frozen=True)
class AccountTotals:
    """One party account's totals as the ledger sums them: credits booked by the hold's cut-off,
    all credits and all debits."""

    code: str
    credits_by_cutoff: int
    credits: int
    debits: int


PARTY_OF_NUMBER = {c.number: kind for kind, c in LIABILITY_OF.items()}


def positions_of(totals: Iterable[AccountTotals]) -> list[PartyPosition]:
    """Each party's payable amount and, for a creditor, the fees it owes (its 4111 balance);
    parties with neither left out."""
    payable: dict[tuple[PartyKind, str], tuple[int, int]] = {}
    owes: dict[str, int] = {}
    for total in totals:
        number, _, party = total.code.partition("/")
        if number in PARTY_OF_NUMBER:
            payable[PARTY_OF_NUMBER[number], party] = (
                eligible(total.credits_by_cutoff, total.debits),
                max(0, total.credits - total.debits),
            )
        elif number == CREDITOR_RECEIVABLES.number:
            owes[party] = max(0, total.debits - total.credits)
            payable.setdefault((PartyKind.CREDITOR, party), (0, 0))
    found = [
        PartyPosition(
            kind, party, amount, owes.get(party, 0) if kind is PartyKind.CREDITOR else 0, held
        )
        for (kind, party), (amount, held) in sorted(payable.items())
    ]
    return [p for p in found if p.eligible or p.owes]


def _transfer(
    position: PartyPosition, payee: PayeeAccount, line_id: str, gross: int, offset: int
) -> PayoutLine:
    return PayoutLine(
        line_id, position.party_kind, position.party_id, LineKind.TRANSFER, gross, offset,
        gross - offset, payee.version, payee.holder, payee.iban, payee.bic,
    )  # fmt: skip


def _creditor_owing(
    position: PartyPosition, payee: PayeeAccount | None, line_id: str, minimum: int
) -> PayoutLine:
    """A creditor owing at least what it is owed: offset what it can; collect by direct debit
    only what even the funds still inside the hold will not cover, else list the rest."""
    rest = position.owes - position.eligible
    uncovered = position.owes - max(position.held, position.eligible)
    if rest == 0:
        kind = LineKind.OFFSET
    elif payee is not None and payee.mandate is not None and uncovered >= minimum:
        return PayoutLine(
            line_id, position.party_kind, position.party_id, LineKind.DIRECT_DEBIT,
            position.eligible, position.eligible, uncovered, payee.version, payee.holder,
            payee.iban, payee.bic, payee.mandate.mandate_id, payee.mandate.signed_on,
        )  # fmt: skip
    else:
        kind = LineKind.RECEIVABLE
    return PayoutLine(
        line_id, position.party_kind, position.party_id, kind, position.eligible,
        position.eligible, rest,
    )  # fmt: skip


def compose(
    positions: Sequence[PartyPosition],
    payees: Mapping[tuple[PartyKind, str], PayeeAccount | None],
    minimum: int,
    new_id: Callable[[], str],
) -> tuple[list[PayoutLine], list[Skipped]]:
    """The lines of a batch, and who is left for later: under the minimum, or whose bank
    details are missing or wait for a second operator's confirmation."""
    lines: list[PayoutLine] = []
    skipped: list[Skipped] = []
    for position in sorted(positions, key=lambda p: (p.party_kind, p.party_id)):
        payee = payees.get((position.party_kind, position.party_id))
        if position.owes and position.owes >= position.eligible:
            lines.append(_creditor_owing(position, payee, new_id(), minimum))
            continue
        net = position.eligible - position.owes
        if net <= 0:
            continue
        if net < minimum:
            skipped.append(Skipped(position.party_kind, position.party_id, net, "under minimum"))
        elif payee is None:
            skipped.append(
                Skipped(
                    position.party_kind,
                    position.party_id,
                    net,
                    "on hold: no bank details confirmed by a second operator",
                )
            )
        else:
            lines.append(_transfer(position, payee, new_id(), position.eligible, position.owes))
    return lines, skipped


def approved_by(batch: PayoutBatch, operator: str) -> PayoutBatch:
    """The batch with `operator`'s approval; the second different operator approves it."""
    if batch.state is not BatchState.PROPOSED:
        raise StateConflict(
            f"batch: {batch.batch_id} is {batch.state}, only a proposed batch is approved"
        )
    if operator in batch.approvals:
        raise FourEyesRefused(
            f"operator: {operator} already approved batch {batch.batch_id}; four-eyes rule: "
            f"{APPROVALS_NEEDED} different operators approve a batch"
        )
    approvals = (*batch.approvals, operator)
    state = BatchState.APPROVED if len(approvals) >= APPROVALS_NEEDED else BatchState.PROPOSED
    return replace(batch, approvals=approvals, state=state)


def check_releasable(batch: PayoutBatch) -> None:
    """Refuse to release a batch that two different operators have not approved."""
    if batch.state is BatchState.RELEASED:
        return
    if batch.state is not BatchState.APPROVED or len(set(batch.approvals)) < APPROVALS_NEEDED:
        raise NotApproved(
            f"batch: {batch.batch_id} is {batch.state} with {len(set(batch.approvals))} "
            f"approval(s); {APPROVALS_NEEDED} different operators must approve it first"
        )


def check_cancellable(batch: PayoutBatch) -> None:
    """Only a batch not yet released may be cancelled."""
    if batch.state not in (BatchState.PROPOSED, BatchState.APPROVED):
        raise StateConflict(f"batch: {batch.batch_id} is {batch.state} and cannot be cancelled")


def posting_of(line: PayoutLine, on: date, batch_id: str) -> PostEntry | None:
    """What releasing a line books: the liability paid from the client-money bank, fees owed
    settled by offset; nothing for a line that moves nothing in the ledger. A direct debit's
    collection is booked when the bank reports the money, not when it is asked for."""
    liability = account(LIABILITY_OF[line.party_kind], line.party_id)
    lines: list[Line] = []
    if line.gross:
        lines.append(debit(liability, line.gross))
    if line.offset:
        lines.append(credit(account(CREDITOR_RECEIVABLES, line.party_id), line.offset))
    if line.kind is LineKind.TRANSFER and line.amount:
        lines.append(credit(account(CLIENT_MONEY_BANK), line.amount))
    if not lines:
        return None
    paid = line.kind is LineKind.TRANSFER
    return PostEntry(
        fact_key=line.fact_key,
        booked_on=on,
        journal=Journal.BANK if paid else Journal.MISC,
        description=(
            f"Payout batch {batch_id}: "
            + (
                f"transfer to {line.party_kind} {line.party_id}"
                if paid
                else f"fees owed by {line.party_id} offset against funds held"
            )
        ),
        lines=tuple(lines),
    )
