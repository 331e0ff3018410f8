"""Settlement's gRPC API: requests to queries, answers to replies, nothing else."""

from __future__ import annotations

from collections.abc import Callable

import grpc

from recouvra.common.v1 import money_pb2
from recouvra.settlement.v1 import settlement_pb2, settlement_pb2_grpc
from recouvra_shared.context import caller_var
from recouvra_shared.errors import Unauthenticated
from settlement.domain.payment_instructions import ClientMoneyAccount
from settlement.domain.queries import GetPaymentInstructions
from settlement.entrypoints.documents_api import DocumentsApi
from settlement.entrypoints.money_in_api import MoneyInRpcs
from settlement.service_layer.name_proposals import DebtorNames
from settlement.service_layer.payment_instructions import payment_instructions
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

SERVICE_NAME = settlement_pb2.DESCRIPTOR.services_by_name["SettlementService"].full_name


class SettlementApi(DocumentsApi, MoneyInRpcs, settlement_pb2_grpc.SettlementServiceServicer):
    """The SettlementService servicer (invoices and statements in `documents_api`, statement
    import and the suspense queue in `money_in_api`)."""

    def __init__(
        self,
        units: Callable[[], SettlementUnitOfWork],
        account: ClientMoneyAccount,
        debtor_names: DebtorNames | None = None,
    ) -> None:
        self.units = units
        self.account = account
        self.client_money_iban = account.iban
        self.debtor_names = debtor_names

    async def GetPaymentInstructions(
        self,
        request: settlement_pb2.GetPaymentInstructionsRequest,
        context: grpc.aio.ServicerContext,
    ) -> settlement_pb2.PaymentInstructions:
        caller = caller_var.get()
        if caller is None:
            raise Unauthenticated("the call names no caller")
        asked = request.amount_due if request.HasField("amount_due") else None
        found = await payment_instructions(
            GetPaymentInstructions(
                case_id=request.case_id,
                caller_kind=caller.kind,
                caller_subject=caller.subject,
                caller_tenant=caller.tenant_id,
                amount_due=asked.minor_units if asked is not None else None,
                currency=asked.currency if asked is not None else "EUR",
            ),
            self.units(),
            self.account,
        )
        reply = settlement_pb2.PaymentInstructions(
            case_id=found.case_id,
            beneficiary_name=found.account.beneficiary,
            iban=found.account.iban,
            iban_formatted=found.account.iban_formatted,
            bic=found.account.bic,
            reference=found.reference,
            reference_formatted=found.reference_formatted,
            epc_qr_payload=found.epc_qr_payload,
            epc_qr_svg=found.epc_qr_svg,
        )
        if found.amount_due is not None:
            reply.amount_due.CopyFrom(money_pb2.Money(currency="EUR", minor_units=found.amount_due))
        return reply
