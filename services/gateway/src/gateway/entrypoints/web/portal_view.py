"""What the portal pages compute from a claim: amounts for people (French or English writing),
amounts typed by people, the EPC QR code as SVG, and what the "pay by bank" button may ask
for (the whole amount, the next instalment of the agreed plan, a promised amount): the amount
is always read from the claim on the server, never taken from the browser."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import segno

from gateway.schemas.common import format_minor, minor_exponent
from recouvra_shared.errors import InvalidField

_AMOUNT = re.compile(r"^\d{1,13}([.,]\d{1,2})?$")
TOTAL = "total"


def money_text(money: Any, language: str = "fr") -> str:
    """recouvra.common.v1.Money as a person reads it: 1 250,00 EUR (fr), 1,250.00 EUR (en)."""
    text = format_minor(int(money.minor_units), minor_exponent(money.currency))
    whole, _, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    groups = [digits[max(i - 3, 0) : i] for i in range(len(digits), 0, -3)][::-1]
    if language == "fr":
        number = "\u202f".join(groups) + ("," + fraction if fraction else "")
    else:
        number = ",".join(groups) + ("." + fraction if fraction else "")
    return f"{sign}{number}\u00a0{money.currency}"


def typed_minor(field: str, typed: str, currency: str) -> int:
    """An amount a person typed ("120,50", "120.50", "120", spaces allowed) in minor units."""
    cleaned = typed.replace(" ", "").replace("\u202f", "").replace("\u00a0", "")
    if not _AMOUNT.match(cleaned):
        raise InvalidField(field, "an amount in euros, for example 120,50")
    try:
        value = Decimal(cleaned.replace(",", "."))
    except InvalidOperation:
        raise InvalidField(field, "an amount in euros, for example 120,50") from None
    minor = int(value.scaleb(minor_exponent(currency)))
    if minor <= 0:
        raise InvalidField(field, "more than nothing")
    return minor


def epc_qr_svg(payload: str, title: str) -> str:
    """The EPC (SEPA credit transfer) QR code as inline SVG, named for screen readers; empty
    when there is no payload (an amount not in euros)."""
    if not payload:
        return ""
    svg: str = segno.make(payload, error="m").svg_inline(scale=5, title=title)
    return svg.replace("<svg ", '<svg role="img" class="qr" ', 1)


@dataclass(frozen=True)
class PayChoice:
    """One thing the pay-by-bank button may pay: its key in the URL and its amount."""

    key: str
    label: str  # "total" | "instalment" | "promise"
    minor_units: int
    currency: str
    detail: str = ""  # the instalment's number or the promised day


def next_instalment(plan: Any) -> Any | None:
    """The first instalment of an agreed plan the payments so far do not cover, or None."""
    covered = int(plan.paid.minor_units) if plan.HasField("paid") else 0
    for instalment in plan.instalments:
        covered -= int(instalment.amount.minor_units)
        if covered < 0:
            return instalment
    return None


def pay_choices(claim: Any) -> list[PayChoice]:
    """The whole amount, the next instalment of the agreed plan, each promised amount."""
    total = claim.total
    choices = [PayChoice(TOTAL, "total", int(total.minor_units), total.currency)]
    for plan in claim.plans:
        if plan.state == "agreed":
            due = next_instalment(plan)
            if due is not None:
                choices.append(
                    PayChoice(
                        f"instalment-{due.number}",
                        "instalment",
                        int(due.amount.minor_units),
                        due.amount.currency,
                        str(due.number),
                    )
                )
    for promise in claim.promises:
        choices.append(
            PayChoice(
                f"promise-{promise.promise_id}",
                "promise",
                int(promise.amount.minor_units),
                promise.amount.currency,
                promise.promised_on,
            )
        )
    return [c for c in choices if c.minor_units > 0]


def chosen(claim: Any, key: str) -> PayChoice:
    """The choice `key` names on this claim; refused (naming `for`) when it is not one."""
    for choice in pay_choices(claim):
        if choice.key == key:
            return choice
    raise InvalidField("for", "the whole amount, the next instalment or a promised amount")
