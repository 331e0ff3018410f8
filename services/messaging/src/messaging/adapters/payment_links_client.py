"""`PaymentLinkSource` on settlement's PaymentLinks.CreatePaymentLink, calling as messaging."""

from __future__ import annotations

from datetime import datetime

import grpc

from messaging.adapters.facts_clients import call
from messaging.domain.content import PayLink
from recouvra.common.v1 import money_pb2
from recouvra.settlement.v1 import settlement_pb2, settlement_pb2_grpc
from recouvra_shared.errors import Unavailable

WHOLE_AMOUNT = "whole-amount"


class SettlementPaymentLinks:
    """The case's whole-amount link: settlement answers the live one while the amount holds and
    replaces it (revoking the old at the provider) when the amount changed."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.stub = settlement_pb2_grpc.PaymentLinksStub(channel)

    async def whole_amount_link(self, case_id: str, amount_minor: int, currency: str) -> PayLink:
        request = settlement_pb2.CreatePaymentLinkRequest(
            case_id=case_id,
            amount=money_pb2.Money(currency=currency, minor_units=amount_minor),
            purpose=WHOLE_AMOUNT,
        )
        try:
            answer = await call(self.stub.CreatePaymentLink, request)
        except grpc.aio.AioRpcError as error:
            # Not a refusal of the platform's (settlement unreachable, an older settlement
            # without PaymentLinks): no link, the message goes without it.
            raise Unavailable(f"settlement gave no payment link: {error.code().name}") from error
        return PayLink(
            url=answer.url,
            amount_minor=answer.amount.minor_units,
            expires_on=datetime.fromisoformat(answer.expires_at).date(),
        )
