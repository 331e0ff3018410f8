"""The PaymentLinks gRPC servicer: requests to commands, links to replies, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import grpc

from recouvra.common.v1 import money_pb2
from recouvra.settlement.v1 import settlement_pb2, settlement_pb2_grpc
from recouvra_shared.context import caller_var
from recouvra_shared.errors import Unauthenticated
from settlement.domain.payment_links import Payer
from settlement.service_layer.payment_link_ports import PaymentInitiation
from settlement.service_layer.payment_links import (
    CreatePaymentLink,
    LinkPolicy,
    create_payment_link,
)
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

SERVICE_NAME = settlement_pb2.DESCRIPTOR.services_by_name["PaymentLinks"].full_name


def _utcnow() -> datetime:
    return datetime.now(UTC)


class PaymentLinksApi(settlement_pb2_grpc.PaymentLinksServicer):
    """Pay by link for messaging, the gateway and the debtor portal."""

    def __init__(
        self,
        units: Callable[[], SettlementUnitOfWork],
        initiation: PaymentInitiation,
        policy: LinkPolicy,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.units = units
        self.initiation = initiation
        self.policy = policy
        self.now = now

    async def CreatePaymentLink(
        self, request: settlement_pb2.CreatePaymentLinkRequest, context: grpc.aio.ServicerContext
    ) -> settlement_pb2.PaymentLink:
        caller = caller_var.get()
        if caller is None:
            raise Unauthenticated("the call names no caller")
        asked = request.amount if request.HasField("amount") else None
        given = await create_payment_link(
            CreatePaymentLink(
                case_id=request.case_id,
                amount_minor=asked.minor_units if asked is not None else None,
                currency=asked.currency if asked is not None else "EUR",
                caller_kind=caller.kind,
                caller_subject=caller.subject,
                payer=Payer(
                    request.payer_company_name, request.payer_first_name, request.payer_last_name
                ),
                purpose=request.purpose,
            ),
            self.units,
            self.initiation,
            self.policy,
            self.now,
        )
        link = given.link
        return settlement_pb2.PaymentLink(
            link_id=link.link_id,
            case_id=link.case_id,
            url=link.url,
            amount=money_pb2.Money(currency=link.currency, minor_units=link.amount_minor),
            reference=link.reference,
            expires_at=link.expires_at.astimezone(UTC).isoformat(),
            created=given.created,
            replaced_link_id=given.replaced_link_id or "",
            purpose=link.purpose.value,
        )
