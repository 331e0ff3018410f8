"""The entries a payment's fee books, by who holds the money it brought.

- The provider's fee, with its VAT (the provider's to remit: the platform only passes it on),
  is owed by the creditor to the provider (Cr 4011/provider):
  - money in the client-money account (source bank): taken from the creditor's funds held
    (Dr 4671/creditor); if they fall short, the rest is owed by the creditor (Dr 4111/creditor),
    so funds held never go negative;
  - money paid directly to the creditor (source creditor): owed by the creditor
    (Dr 4111/creditor), offset against its next payout;
  - money the provider collected itself (source provider): the provider kept its fee out of the
    creditor's money it holds and pays the creditor the rest directly, so nothing passes through
    the platform's books for the fee itself (it is recorded in the fee bookings, for the fee
    invoice issued on the provider's behalf).
- The platform's commission on the fee (excl. VAT), with the platform's own VAT, is owed by the
  provider: Dr 4011/provider, Cr 706 and Cr 44571; it comes out of what the platform owes the
  provider, and for money the provider collected itself it leaves 4011/provider with a debit
  balance (the provider owes it; offset against its next fees, reclassified as 4091 at closing).
- The referring partner's share of the commission is the platform's expense: Dr 6222,
  Cr 4012/partner.
Funds held for creditors never reach revenue or the VAT base (CGI 267 II-2°): only the
commission does.
"""

from __future__ import annotations

from dataclasses import dataclass

from settlement.domain.accounts import (
    CREDITOR_RECEIVABLES,
    FUNDS_HELD,
    PLATFORM_REVENUE,
    PROVIDER_FEES,
    REFERRAL_COMMISSIONS,
    REFERRAL_EXPENSE,
    VAT_COLLECTED,
    account,
)
from settlement.domain.commands import PostEntry
from settlement.domain.fees import Attribution, FeeFigures, Source
from settlement.domain.ledger import Journal, Line, credit, debit

FEE, COMMISSION, REFERRAL = "fee", "commission", "referral"


def fact_key(event_id: str, part: str) -> str:
    """The fact an entry of this event books: the event itself for the fee, a suffix after."""
    return f"event:{event_id}" if part == FEE else f"event:{event_id}:{part}"


@dataclass(frozen=True)
class FeeBooking:
    """What one attribution booked: its figures, the partner paid, the entries by part."""

    attribution: Attribution
    figures: FeeFigures
    partner_id: str | None
    entries: tuple[tuple[str, str], ...]  # (part, entry id), in booking order
    reversed_by: str | None = None  # the event that unattributed the payment


def _said(description: str) -> str:
    """A description within the journal's 200 characters (ids can be long)."""
    return description[:200]


def _fee_lines(attribution: Attribution, figures: FeeFigures, funds_held: int) -> list[Line]:
    case = attribution.case_id
    owed = figures.fee_with_vat
    held = account(FUNDS_HELD, attribution.creditor_id)
    receivable = account(CREDITOR_RECEIVABLES, attribution.creditor_id)
    taken = min(owed, max(0, funds_held)) if attribution.source is Source.BANK else 0
    lines = [debit(held, taken, case)] if taken else []
    if owed > taken:
        lines.append(debit(receivable, owed - taken, case))
    lines.append(credit(account(PROVIDER_FEES, attribution.provider_id), owed, case))
    return lines


def fee_entries(
    attribution: Attribution, figures: FeeFigures, partner_id: str | None, funds_held: int
) -> list[tuple[str, PostEntry]]:
    """The entries to post, by part, skipping parts with nothing to book; `funds_held` is what
    the creditor's 4671 account holds before this fee."""
    event, case, on = attribution.event_id, attribution.case_id, attribution.booked_on
    about = f"case {case} round {attribution.round}, payment {attribution.payment_id}"
    parts: list[tuple[str, PostEntry]] = []
    if figures.fee_with_vat and attribution.source is not Source.PROVIDER:
        parts.append(
            (
                FEE,
                PostEntry(
                    fact_key(event, FEE),
                    on,
                    Journal.MISC,
                    _said(f"Success fee of {attribution.provider_id} on {about}"),
                    tuple(_fee_lines(attribution, figures, funds_held)),
                ),
            )
        )
    if figures.commission:
        lines = [
            debit(
                account(PROVIDER_FEES, attribution.provider_id), figures.commission_with_vat, case
            ),
            credit(account(PLATFORM_REVENUE), figures.commission, case),
        ]
        if figures.commission_vat:
            lines.append(credit(account(VAT_COLLECTED), figures.commission_vat, case))
        parts.append(
            (
                COMMISSION,
                PostEntry(
                    fact_key(event, COMMISSION),
                    on,
                    Journal.SALES,
                    _said(f"Platform commission on the fee of {attribution.provider_id}, {about}"),
                    tuple(lines),
                ),
            )
        )
    if figures.referral and partner_id is not None:
        parts.append(
            (
                REFERRAL,
                PostEntry(
                    fact_key(event, REFERRAL),
                    on,
                    Journal.PURCHASES,
                    _said(f"Referral commission of {partner_id}, {about}"),
                    (
                        debit(account(REFERRAL_EXPENSE), figures.referral, case),
                        credit(account(REFERRAL_COMMISSIONS, partner_id), figures.referral, case),
                    ),
                ),
            )
        )
    return parts
