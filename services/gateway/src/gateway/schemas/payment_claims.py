"""REST shapes of the payments providers report: claims, which count nowhere until the creditor
confirms them (mirroring matching's contract, bidding.proto)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.schemas.common import (
    CASE_ID_EXAMPLE,
    PROVIDER_ID_EXAMPLE,
    Money,
    TextInput,
    moment_of,
    money_of,
)

ClaimState = Literal["claimed", "confirmed", "disputed"]

PAYMENT_CLAIM_EXAMPLE: Any = {
    "claim_id": "3f1e2d3c-4b5a-5c6d-8e7f-9a0b1c2d3e4f",
    "reference": "VIR-2026-11-20-0042",
    "provider_id": PROVIDER_ID_EXAMPLE,
    "round": 1,
    "amount": {"amount": "400.00", "currency": "EUR"},
    "paid_on": "2026-11-20",
    "settles_in_full": False,
    "state": "disputed",
    "claimed_at": "2026-11-20T15:00:00Z",
    "decided_at": "2026-11-22T09:00:00Z",
    "decided_by": "creditor",
    "dispute_reason": "Nothing reached our account for this invoice.",
}


class PaymentClaimView(BaseModel):
    """A payment a provider reported: it counts (in what was recovered, in the case's status and
    in the provider's record) only once confirmed."""

    model_config = ConfigDict(json_schema_extra={"examples": [PAYMENT_CLAIM_EXAMPLE]})

    claim_id: str
    reference: str = Field(description="The provider's own reference for the payment")
    provider_id: str
    round: int = Field(description="The round in which the provider held the case")
    amount: Money | None
    paid_on: str = Field(description="ISO 8601 date the provider says the debtor paid")
    settles_in_full: bool
    state: ClaimState = Field(
        description="claimed: waiting for the creditor; confirmed: a payment now; disputed: "
        "counts nowhere (see dispute_reason)"
    )
    claimed_at: datetime | None
    decided_at: datetime | None = Field(description="When it was confirmed or disputed")
    decided_by: str | None = Field(
        description="creditor, or settlement once it matched the money received"
    )
    dispute_reason: str | None = Field(description="The creditor's words, when disputed")

    @classmethod
    def of(cls, claim: Any) -> PaymentClaimView:
        """From recouvra.matching.v1.PaymentClaim."""
        return cls(
            claim_id=claim.claim_id,
            reference=claim.reference,
            provider_id=claim.provider_id,
            round=claim.round,
            amount=money_of(claim, "amount"),
            paid_on=claim.paid_on,
            settles_in_full=claim.settles_in_full,
            state=claim.state,
            claimed_at=moment_of(claim, "claimed_at"),
            decided_at=moment_of(claim, "decided_at"),
            decided_by=claim.decided_by or None,
            dispute_reason=claim.dispute_reason or None,
        )


class PaymentClaimList(BaseModel):
    """The payments you reported on a case, with the creditor's answer to each."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [PAYMENT_CLAIM_EXAMPLE]}]})

    items: list[PaymentClaimView]


class DisputeIn(TextInput):
    """Why you dispute the payment the provider reported."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "Nothing reached our account."}]},
    )

    reason: str = Field(
        min_length=1, max_length=500, description="Shown to the provider, at most 500 characters"
    )


CLAIM_ANSWER_EXAMPLE: Any = {
    "case_id": CASE_ID_EXAMPLE,
    "status": "closed",
    "claim": PAYMENT_CLAIM_EXAMPLE | {"state": "confirmed", "dispute_reason": None},
    "recovered": {"amount": "400.00", "currency": "EUR"},
}


class PaymentClaimAnswer(BaseModel):
    """The claim after your answer, with where the case stands."""

    model_config = ConfigDict(json_schema_extra={"examples": [CLAIM_ANSWER_EXAMPLE]})

    case_id: str
    status: str = Field(description="The case's matching status afterwards, e.g. closed")
    claim: PaymentClaimView
    recovered: Money | None = Field(description="Everything paid so far (confirmed payments)")

    @classmethod
    def of(cls, reply: Any) -> PaymentClaimAnswer:
        """From recouvra.matching.v1.PaymentClaimReply."""
        return cls(
            case_id=reply.case_id,
            status=reply.status,
            claim=PaymentClaimView.of(reply.claim),
            recovered=money_of(reply, "recovered"),
        )
