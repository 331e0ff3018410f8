"""The facts a message needs, read over gRPC from their owners, calling as messaging itself.

Intake answers GetCase (the case, its debtor, its invoices and the legal amounts it computes);
settlement answers GetPaymentInstructions (the client-money account, the RF reference and the
EPC QR payload). A refusal comes back as the platform's own (`refusal_of`).
"""

from __future__ import annotations

from typing import Any

import grpc

from messaging.domain.content import (
    CaseFacts,
    ClaimAmounts,
    Debtor,
    InvoiceBasis,
    Party,
    PaymentDetails,
)
from recouvra.common.v1 import money_pb2
from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc
from recouvra.settlement.v1 import settlement_pb2, settlement_pb2_grpc
from recouvra_shared.grpc_status import refusal_of


async def call(method: Any, request: Any) -> Any:
    try:
        return await method(request, timeout=10)
    except grpc.aio.AioRpcError as error:
        refusal = refusal_of(error)
        if refusal is not None:
            raise refusal from error
        raise


def case_facts(case: intake_pb2.Case) -> CaseFacts:
    """Intake's case as the facts a message shows; `other_sums` is the recovery indemnity."""
    debtor = case.debtor
    legal = case.legal_amounts
    currency = legal.total.currency or case.amount.currency or "EUR"
    return CaseFacts(
        case_id=case.case_id,
        creditor_id=case.creditor_id,
        holder_id=case.holder.provider_id,
        debtor=Debtor(
            party=Party(
                name=debtor.name or case.debtor_name,
                address_lines=tuple(debtor.address.lines),
                postal_code=debtor.address.postal_code,
                city=debtor.address.city,
                country_code=debtor.address.country_code or "FR",
            ),
            email=debtor.email,
            phone=debtor.phone,
        ),
        invoices=tuple(
            InvoiceBasis(
                number=line.invoice_number,
                issue_date=line.issue_date,
                due_date=line.due_date,
                amount_due_minor=line.amount_due.minor_units,
            )
            for line in case.invoices
        ),
        amounts=ClaimAmounts(
            currency=currency,
            principal_minor=legal.principal.minor_units,
            interest_minor=legal.interest.minor_units,
            other_sums_minor=legal.indemnity.minor_units,
            as_of=legal.as_of,
        ),
    )


class IntakeCases:
    """`CaseFactsSource` on intake's GetCase."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.stub = intake_pb2_grpc.IntakeServiceStub(channel)

    async def case(self, case_id: str) -> CaseFacts:
        """The case with its legal amounts as of today."""
        answer = await call(self.stub.GetCase, intake_pb2.GetCaseRequest(case_id=case_id))
        return case_facts(answer)


class SettlementPayments:
    """`PaymentInstructionsSource` on settlement's GetPaymentInstructions."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.stub = settlement_pb2_grpc.SettlementServiceStub(channel)

    async def instructions(self, case_id: str, amount_minor: int, currency: str) -> PaymentDetails:
        """How to pay `amount_minor`; the EPC QR only exists for an amount in euros."""
        request = settlement_pb2.GetPaymentInstructionsRequest(case_id=case_id)
        if currency == "EUR" and amount_minor > 0:
            request.amount_due.CopyFrom(
                money_pb2.Money(minor_units=amount_minor, currency=currency)
            )
        answer = await call(self.stub.GetPaymentInstructions, request)
        return PaymentDetails(
            beneficiary=answer.beneficiary_name,
            iban=answer.iban,
            iban_formatted=answer.iban_formatted,
            bic=answer.bic,
            reference=answer.reference,
            reference_formatted=answer.reference_formatted,
            amount_minor=amount_minor,
            currency=currency,
            epc_qr_payload=answer.epc_qr_payload,
        )
