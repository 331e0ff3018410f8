"""Matching's gRPC API as the gateway uses it: the provider directory, bidding and quotes, in the
gateway's REST shapes; refusals name the gateway's fields, and "not found" reads one way."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import Any

import grpc

from gateway.adapters.calls import calling_as, unary
from gateway.domain.model import Organisation, ProviderProfile
from gateway.schemas.assignments import (
    ActionIn,
    ActionReported,
    AssignmentView,
    HeldCaseList,
    HeldCaseView,
    PaymentIn,
    PaymentReported,
)
from gateway.schemas.bidding import (
    AuctionView,
    AutoBidRuleIn,
    AutoBidRuleView,
    BidIn,
    BidView,
    BidWithdrawn,
)
from gateway.schemas.common import Money as MoneyView
from gateway.schemas.payment_claims import (
    DisputeIn,
    PaymentClaimAnswer,
    PaymentClaimList,
    PaymentClaimView,
)
from gateway.schemas.quotes import (
    CaseActivity,
    CreditorPolicyIn,
    CreditorPolicyView,
    ProviderRecord,
    ProviderResultView,
    QuoteView,
)
from recouvra.common.v1.money_pb2 import Money
from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra_shared.context import Caller
from recouvra_shared.percentages import parse_percent, percent_text, to_percentage

log = logging.getLogger(__name__)

# The gateway onboards providers as itself (a token naming the gateway service): matching
# refuses any other service.
ONBOARDING_CALLER = Caller(kind="service", subject="gateway")

# One answer per question for what the caller may not see, whatever matching's words: a
# different wording for "exists but not yours" would tell which ids are real.
NO_PROVIDER = "provider: no such provider"
NOT_REGISTERED = "provider: not registered with the marketplace"
NO_AUCTION = "auction: no such open auction for you"
NO_BID = "bid: no such bid of yours in an open auction"
NO_RULE = "name: no auto-bid rule of yours by that name"
NO_ASSIGNMENT = "case: no such case offered to or held by you"
NO_QUOTE = "quote: no such case in the marketplace (yet)"
NO_MARKETPLACE_CASE = "case: no such case in the marketplace (yet)"
NO_CLAIM = "claim: no such payment claim on one of your cases"
NO_CLAIMS_CASE = "case: no such case held by you, now or before"

# Matching's field names, as the gateway's requests name them.
PROFILE_FIELDS = {
    "name": "organisation_name",
    "siren": "siren",
    "kind": "profile.kind",
    "regions": "profile.regions",
    "serves_business": "profile.serves_business",
    "serves_consumer": "profile.serves_consumer",
    "min_amount_minor": "profile.min_amount.amount",
    "max_amount_minor": "profile.max_amount.amount",
    "judicial": "profile.judicial",
    "capacity": "profile.capacity",
}
BID_FIELDS = {"fee": "fee_percent", "fixed_fee.minor_units": "fixed_fee.amount"}
RULE_FIELDS = {
    "fee": "fee_percent",
    "fixed_fee_minor": "fixed_fee.amount",
    "fixed_fee.minor_units": "fixed_fee.amount",
    "min_amount_minor": "min_amount.amount",
    "max_amount_minor": "max_amount.amount",
}
PAYMENT_FIELDS = {"amount.minor_units": "amount.amount", "amount.currency": "amount.currency"}
PROMISE_FIELDS = {"promised_amount.minor_units": "promised_amount.amount"}
POLICY_FIELDS = {"max_fee": "max_fee_percent", "auto_accept_below": "auto_accept_below_percent"}


class ProviderDirectoryClient:
    """Registers providers with matching's ProviderDirectoryService."""

    def __init__(self, stub: Any) -> None:
        self.stub = stub  # recouvra.matching.v1 ProviderDirectoryServiceStub (generated)

    async def register(self, organisation: Organisation, profile: ProviderProfile) -> None:
        """The provider's id in matching is its organisation id in the gateway."""
        request = pb.RegisterProviderRequest(
            provider_id=organisation.organisation_id,
            name=organisation.name,
            kind=profile.kind,
            siren=organisation.siren or "",
            regions=list(profile.regions),
            serves_business=profile.serves_business,
            serves_consumer=profile.serves_consumer,
            min_amount_minor=profile.min_amount_minor,
            max_amount_minor=profile.max_amount_minor,
            judicial=profile.judicial,
            capacity=profile.capacity,
        )
        await unary(
            self.stub.RegisterProvider, request, ONBOARDING_CALLER, NO_PROVIDER, PROFILE_FIELDS
        )

    async def set_approval(self, provider_id: str, approved: bool, operator: str) -> None:
        """Matching lets an approved provider into auctions; it is told as the operator who
        decided (matching accepts this from operators only)."""
        request = pb.SetProviderApprovalRequest(provider_id=provider_id, approved=approved)
        caller = Caller(kind="operator", subject=operator, tenant_id="")
        await unary(self.stub.SetProviderApproval, request, caller, NO_PROVIDER)


def _money(amount: MoneyView) -> Money:
    return Money(currency=amount.currency, minor_units=amount.minor_units)


def _percentage(text: str, field: str) -> Percentage:
    """The REST text ("12.5") as the contract's exact type; matching owns the bounds."""
    return to_percentage(parse_percent(text, field))


def _bid(case_id: str, body: BidIn) -> pb.BidRequest:
    request = pb.BidRequest(
        case_id=case_id,
        fee=_percentage(body.fee_percent, "fee_percent"),
        fee_base=body.fee_base or "",
    )
    if body.fixed_fee is not None:
        request.fixed_fee.CopyFrom(_money(body.fixed_fee))
    return request


def _minor(amount: MoneyView | None) -> int:
    return amount.minor_units if amount is not None else 0


def _euros(minor: int) -> MoneyView | None:
    return MoneyView.of(Money(currency="EUR", minor_units=minor)) if minor else None


def _rule_view(rule: pb.AutoBidRule) -> AutoBidRuleView:
    return AutoBidRuleView(
        name=rule.name,
        fee_percent=percent_text(rule.fee),
        fixed_fee=_euros(rule.fixed_fee_minor),
        segments=list(rule.segments),
        min_trustscore=rule.min_trustscore,
        min_amount=_euros(rule.min_amount_minor),
        max_amount=_euros(rule.max_amount_minor),
        debtor_types=[t for t in rule.debtor_types if t in ("business", "consumer")],
    )


def _action(case_id: str, action: ActionIn) -> pb.ReportActionRequest:
    request = pb.ReportActionRequest(
        case_id=case_id,
        kind=action.kind,
        note=action.note,
        promised_on=action.promised_on.isoformat() if action.promised_on is not None else "",
    )
    if action.occurred_at is not None:
        request.occurred_at.FromDatetime(action.occurred_at)
    if action.promised_amount is not None:
        request.promised_amount.CopyFrom(_money(action.promised_amount))
    return request


class BiddingClient:
    """Matching's BiddingService, always called as the provider."""

    def __init__(self, stub: Any) -> None:
        self.stub = stub  # recouvra.matching.v1 BiddingServiceStub (generated, untyped)

    async def open_auctions(
        self, provider: Caller, not_found: str = NOT_REGISTERED
    ) -> list[AuctionView]:
        """The auctions the provider may bid in now, anonymised."""
        reply = await unary(
            self.stub.ListOpenAuctions, pb.ListOpenAuctionsRequest(), provider, not_found
        )
        return [AuctionView.of(auction) for auction in reply.auctions]

    async def watch_auctions(self, provider: Caller, seconds: float) -> AsyncGenerator[AuctionView]:
        """Auctions as they open (those open now first), for `seconds` at most; ends quietly
        when matching goes away: the caller has its answer already."""
        with calling_as(provider):
            call = self.stub.WatchAuctions(pb.ListOpenAuctionsRequest(), timeout=seconds)
        try:
            async for auction in call:
                yield AuctionView.of(auction)
        except grpc.aio.AioRpcError as exc:
            log.info("auction stream ended: %s", exc.code())
        finally:
            call.cancel()

    async def place_bid(self, provider: Caller, case_id: str, body: BidIn) -> BidView:
        """The provider's sealed bid in the case's open round."""
        reply = await unary(
            self.stub.PlaceBid, _bid(case_id, body), provider, NO_AUCTION, BID_FIELDS
        )
        return BidView.of(reply)

    async def replace_bid(self, provider: Caller, case_id: str, body: BidIn) -> BidView:
        """The provider's bid, replaced while the auction is open."""
        reply = await unary(self.stub.ReplaceBid, _bid(case_id, body), provider, NO_BID, BID_FIELDS)
        return BidView.of(reply)

    async def withdraw_bid(self, provider: Caller, case_id: str) -> BidWithdrawn:
        """The provider's bid, withdrawn while the auction is open."""
        reply = await unary(self.stub.WithdrawBid, pb.CaseRef(case_id=case_id), provider, NO_BID)
        return BidWithdrawn(case_id=reply.case_id)

    async def set_auto_bid_rule(self, provider: Caller, rule: AutoBidRuleIn) -> AutoBidRuleView:
        """A standing rule, stored under its name."""
        request = pb.SetAutoBidRuleRequest(
            name=rule.name,
            fee=_percentage(rule.fee_percent, "fee_percent"),
            fixed_fee_minor=_minor(rule.fixed_fee),
            segments=rule.segments,
            min_trustscore=rule.min_trustscore,
            min_amount_minor=_minor(rule.min_amount),
            max_amount_minor=_minor(rule.max_amount),
            debtor_types=list(rule.debtor_types),
        )
        await unary(self.stub.SetAutoBidRule, request, provider, NOT_REGISTERED, RULE_FIELDS)
        return AutoBidRuleView(**rule.model_dump())

    async def auto_bid_rules(self, provider: Caller) -> list[AutoBidRuleView]:
        """The provider's standing rules, by name."""
        reply = await unary(
            self.stub.ListAutoBidRules, pb.ListAutoBidRulesRequest(), provider, NOT_REGISTERED
        )
        return [_rule_view(rule) for rule in reply.rules]

    async def own_record(self, provider: Caller) -> list[ProviderRecord]:
        """The provider's measured record per segment, as creditors see it in its quotes."""
        reply = await unary(
            self.stub.GetOwnRecord, pb.GetOwnRecordRequest(), provider, NOT_REGISTERED
        )
        return [ProviderRecord.of(record) for record in reply.records]

    async def delete_auto_bid_rule(self, provider: Caller, name: str) -> None:
        """The rule of that name removed: auctions opened from now on get no bid from it."""
        request = pb.DeleteAutoBidRuleRequest(name=name)
        await unary(self.stub.DeleteAutoBidRule, request, provider, NO_RULE)

    async def _assignment(self, rpc: str, provider: Caller, case_id: str) -> AssignmentView:
        method = getattr(self.stub, rpc)
        reply = await unary(method, pb.CaseRef(case_id=case_id), provider, NO_ASSIGNMENT)
        return AssignmentView.of(reply)

    async def accept_assignment(self, provider: Caller, case_id: str) -> AssignmentView:
        """Take the case offered: the exclusive window starts."""
        return await self._assignment("AcceptAssignment", provider, case_id)

    async def decline_assignment(self, provider: Caller, case_id: str) -> AssignmentView:
        """Turn the case offered down: the next offer is quoted."""
        return await self._assignment("DeclineAssignment", provider, case_id)

    async def report_promise_to_pay(self, provider: Caller, case_id: str) -> AssignmentView:
        """Extend the window after a promise to pay, up to the platform's cap."""
        return await self._assignment("ReportPromiseToPay", provider, case_id)

    async def release_case(self, provider: Caller, case_id: str) -> AssignmentView:
        """Give the case back early."""
        return await self._assignment("ReleaseCase", provider, case_id)

    async def assignments(self, provider: Caller) -> HeldCaseList:
        """The cases the provider holds, and those it is asked to accept."""
        reply = await unary(
            self.stub.ListAssignments, pb.ListAssignmentsRequest(), provider, NOT_REGISTERED
        )
        return HeldCaseList(items=[HeldCaseView.of(held) for held in reply.cases])

    async def report_action(self, provider: Caller, case_id: str, body: ActionIn) -> ActionReported:
        """Something the provider did on a case it holds."""
        request = _action(case_id, body)
        return ActionReported.of(
            await unary(self.stub.ReportAction, request, provider, NO_ASSIGNMENT, PROMISE_FIELDS)
        )

    async def report_payment(
        self, provider: Caller, case_id: str, body: PaymentIn
    ) -> PaymentReported:
        """Money the debtor paid the provider."""
        request = pb.ReportPaymentRequest(
            case_id=case_id,
            amount=_money(body.amount),
            paid_on=body.paid_on.isoformat(),
            settles_in_full=body.settles_in_full,
            reference=body.reference,
        )
        return PaymentReported.of(
            await unary(self.stub.ReportPayment, request, provider, NO_ASSIGNMENT, PAYMENT_FIELDS)
        )

    async def payment_claims(self, provider: Caller, case_id: str) -> PaymentClaimList:
        """The payments the provider reported on a case it holds or held, with their answers."""
        reply = await unary(
            self.stub.ListPaymentClaims, pb.CaseRef(case_id=case_id), provider, NO_CLAIMS_CASE
        )
        return PaymentClaimList(items=[PaymentClaimView.of(c) for c in reply.claims])


class QuoteClient:
    """Matching's QuoteService, always called as the creditor."""

    def __init__(self, stub: Any) -> None:
        self.stub = stub  # recouvra.matching.v1 QuoteServiceStub (generated, untyped)

    async def _quote(self, rpc: str, creditor: Caller, case_id: str) -> QuoteView:
        reply = await unary(
            getattr(self.stub, rpc), pb.CaseRef(case_id=case_id), creditor, NO_QUOTE
        )
        return QuoteView.of(reply)

    async def provider_results(self, creditor: Caller) -> list[ProviderResultView]:
        """Per provider that held one of the creditor's cases: what it did on them."""
        reply = await unary(
            self.stub.ListProviderResults, pb.ListProviderResultsRequest(), creditor, NO_QUOTE
        )
        return [ProviderResultView.of(result) for result in reply.results]

    async def quote(self, creditor: Caller, case_id: str) -> QuoteView:
        """The case's quote, or its bidding status."""
        return await self._quote("GetQuote", creditor, case_id)

    async def accept_quote(self, creditor: Caller, case_id: str) -> QuoteView:
        """Accept: the quoted provider is asked to take the case."""
        return await self._quote("AcceptQuote", creditor, case_id)

    async def decline_quote(self, creditor: Caller, case_id: str) -> QuoteView:
        """Decline the quote."""
        return await self._quote("DeclineQuote", creditor, case_id)

    async def set_policy(self, creditor: Caller, policy: CreditorPolicyIn) -> CreditorPolicyView:
        """The creditor's policy, replaced whole; matching checks its fees."""
        request = pb.SetCreditorPolicyRequest(
            window_days=policy.window_days or 0,
            excluded_providers=policy.excluded_providers,
        )
        for field, text in (
            ("max_fee", policy.max_fee_percent),
            ("auto_accept_below", policy.auto_accept_below_percent),
        ):
            if text is not None:
                getattr(request, field).CopyFrom(_percentage(text, POLICY_FIELDS[field]))
        await unary(self.stub.SetCreditorPolicy, request, creditor, NO_QUOTE, POLICY_FIELDS)
        return CreditorPolicyView(**policy.model_dump())

    async def activity(self, creditor: Caller, case_id: str) -> CaseActivity:
        """What providers did on the case, and its payments."""
        reply = await unary(
            self.stub.GetCaseActivity, pb.CaseRef(case_id=case_id), creditor, NO_MARKETPLACE_CASE
        )
        return CaseActivity.of(reply)

    async def confirm_payment(
        self, creditor: Caller, case_id: str, claim_id: str
    ) -> PaymentClaimAnswer:
        """The provider's claim is true: it becomes a payment; one in full closes the case."""
        request = pb.PaymentClaimRef(case_id=case_id, claim_id=claim_id)
        reply = await unary(self.stub.ConfirmPayment, request, creditor, NO_CLAIM)
        return PaymentClaimAnswer.of(reply)

    async def dispute_payment(
        self, creditor: Caller, case_id: str, claim_id: str, body: DisputeIn
    ) -> PaymentClaimAnswer:
        """The provider's claim is disputed: it counts nowhere and shows the reason."""
        request = pb.DisputePaymentRequest(case_id=case_id, claim_id=claim_id, reason=body.reason)
        reply = await unary(self.stub.DisputePayment, request, creditor, NO_CLAIM)
        return PaymentClaimAnswer.of(reply)
