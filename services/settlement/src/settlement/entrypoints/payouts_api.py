"""The PayoutOperations gRPC API: operators' requests to commands, results to replies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import grpc

from recouvra.common.v1 import money_pb2
from recouvra.settlement.v1 import settlement_pb2 as pb
from recouvra.settlement.v1 import settlement_pb2_grpc
from recouvra_shared.context import caller_var
from recouvra_shared.errors import InvalidField, PermissionDenied, Unauthenticated
from settlement.domain.payee_accounts import PayeeAccount
from settlement.domain.payout_commands import (
    ApprovePayoutBatch,
    CancelPayoutBatch,
    ConfirmPayeeAccount,
    ProposePayoutBatch,
    ReleasePayoutBatch,
    SetPayeeAccount,
)
from settlement.domain.payouts import PayoutBatch
from settlement.service_layer import held_funds, payee_accounts, payouts
from settlement.service_layer.payouts import BankSide, PayoutPolicy
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["PayoutOperations"].full_name


def operator() -> str:
    """The calling operator's name, from the verified token; anyone else is refused."""
    caller = caller_var.get()
    if caller is None:
        raise Unauthenticated("caller: no authenticated caller")
    if caller.kind != "operator":
        raise PermissionDenied("caller: only an operator may move money out")
    return caller.subject


def _date(field: str, raw: str, default: date | None = None) -> date:
    if not raw and default is not None:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidField(field, "an ISO 8601 date, YYYY-MM-DD") from None


def _money(cents: int) -> money_pb2.Money:
    return money_pb2.Money(currency="EUR", minor_units=cents)


def _payee(found: PayeeAccount) -> pb.PayeeAccount:
    return pb.PayeeAccount(
        party=pb.PayeeRef(party_kind=found.party_kind, party_id=found.party_id),
        version=found.version,
        holder=found.holder,
        iban=found.iban,
        bic=found.bic or "",
        entered_by=found.entered_by,
        confirmed_by=found.confirmed_by or "",
        has_mandate=found.mandate is not None,
    )


def _batch(batch: PayoutBatch) -> pb.PayoutBatch:
    return pb.PayoutBatch(
        batch_id=batch.batch_id,
        value_date=batch.value_date.isoformat(),
        state=batch.state,
        proposed_by=batch.proposed_by,
        approved_by=list(batch.approvals),
        released_by=batch.released_by or "",
        lines=[
            pb.PayoutLine(
                line_id=line.line_id,
                party=pb.PayeeRef(party_kind=line.party_kind, party_id=line.party_id),
                kind=line.kind,
                gross=_money(line.gross),
                offset=_money(line.offset),
                amount=_money(line.amount),
                iban=line.iban or "",
            )
            for line in batch.lines
        ],
    )


class PayoutOperationsApi(settlement_pb2_grpc.PayoutOperationsServicer):
    """The PayoutOperations servicer."""

    def __init__(
        self,
        units: Callable[[], SettlementUnitOfWork],
        policy: PayoutPolicy,
        bank: BankSide,
        warning_days: int,
    ) -> None:
        self.units = units
        self.policy = policy
        self.bank = bank
        self.warning_days = warning_days

    async def SetPayeeAccount(
        self, request: pb.SetPayeeAccountRequest, context: grpc.aio.ServicerContext
    ) -> pb.PayeeAccount:
        by = operator()
        signed = (
            _date("mandate_signed_on", request.mandate_signed_on)
            if request.mandate_signed_on
            else None
        )
        command = SetPayeeAccount(
            by, request.party.party_kind, request.party.party_id, request.holder, request.iban,
            request.bic or None, request.mandate_id or None, signed,
        )  # fmt: skip
        return _payee(await payee_accounts.set_payee_account(command, self.units()))

    async def ConfirmPayeeAccount(
        self, request: pb.PayeeRef, context: grpc.aio.ServicerContext
    ) -> pb.PayeeAccount:
        command = ConfirmPayeeAccount(operator(), request.party_kind, request.party_id)
        return _payee(await payee_accounts.confirm_payee_account(command, self.units()))

    async def ProposePayoutBatch(
        self, request: pb.ProposePayoutBatchRequest, context: grpc.aio.ServicerContext
    ) -> pb.PayoutProposal:
        command = ProposePayoutBatch(operator(), _date("value_date", request.value_date))
        proposal = await payouts.propose_batch(command, self.units(), self.policy)
        return pb.PayoutProposal(
            batch=_batch(proposal.batch),
            skipped=[
                pb.SkippedParty(
                    party=pb.PayeeRef(party_kind=s.party_kind, party_id=s.party_id),
                    amount=_money(s.amount),
                    reason=s.reason,
                )
                for s in proposal.skipped
            ],
        )

    async def ApprovePayoutBatch(
        self, request: pb.PayoutBatchRef, context: grpc.aio.ServicerContext
    ) -> pb.PayoutBatch:
        command = ApprovePayoutBatch(operator(), request.batch_id)
        return _batch(await payouts.approve_batch(command, self.units()))

    async def ReleasePayoutBatch(
        self, request: pb.PayoutBatchRef, context: grpc.aio.ServicerContext
    ) -> pb.PayoutBatch:
        command = ReleasePayoutBatch(operator(), request.batch_id)
        return _batch(await payouts.release_batch(command, self.units, self.bank))

    async def CancelPayoutBatch(
        self, request: pb.PayoutBatchRef, context: grpc.aio.ServicerContext
    ) -> pb.PayoutBatch:
        command = CancelPayoutBatch(operator(), request.batch_id)
        return _batch(await payouts.cancel_batch(command, self.units()))

    async def GetPayoutBatch(
        self, request: pb.PayoutBatchRef, context: grpc.aio.ServicerContext
    ) -> pb.PayoutBatch:
        operator()
        return _batch(await payouts.batch_of(request.batch_id, self.units()))

    async def GetPayoutFile(
        self, request: pb.GetPayoutFileRequest, context: grpc.aio.ServicerContext
    ) -> pb.PayoutFile:
        operator()
        kind = request.kind or "pain.001"
        content = await payouts.batch_file(request.batch_id, kind, self.units())
        return pb.PayoutFile(kind=kind, content=content)

    async def ListHeldFunds(
        self, request: pb.ListHeldFundsRequest, context: grpc.aio.ServicerContext
    ) -> pb.HeldFundsList:
        operator()
        on = _date("on", request.on, datetime.now(UTC).date())
        warning = request.warning_days or self.warning_days
        found = await held_funds.held_funds_on(self.units(), on)
        return pb.HeldFundsList(
            creditors=[
                pb.HeldFunds(
                    creditor_id=h.creditor_id,
                    held=_money(h.held),
                    oldest_unpaid_on=h.oldest_unpaid_on.isoformat() if h.oldest_unpaid_on else "",
                    age_days=h.age_days,
                    late=h.overdue(warning),
                )
                for h in found
            ]
        )
