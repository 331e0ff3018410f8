"""In-memory fakes of the gateway's storage, with the same behaviour as the SQL adapters, of
intake's, matching's and the vault's gRPC stubs, and the few steps every API test takes (sign up,
log in).

The fake stubs sit behind the gateway's real typed clients and refuse the way the real services
do: with a gRPC status carrying the platform's refusal in google.rpc details (`refused`), so a
refusal takes the same path to its HTTP problem here as in production."""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, Self

import grpc
import httpx
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.adapters.matching import BiddingClient, ProviderDirectoryClient, QuoteClient
from gateway.adapters.security import Passwords, Tokens
from gateway.domain.model import (
    ApiKey,
    LoginPolicy,
    Organisation,
    OrganisationKind,
    User,
    Vetting,
)
from gateway.domain.operators import AuditEntry, VettingFlag
from gateway.domain.team import Invitation, TeamRole
from gateway.entrypoints.api.deps import GatewayServices
from gateway.entrypoints.http import create_app
from recouvra.common.v1.money_pb2 import Money
from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.intake.v1 import intake_pb2
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra.vault.v1 import vault_pb2
from recouvra_shared.context import Caller, caller_var, idempotency_key_var
from recouvra_shared.errors import (
    DataLoss,
    Gone,
    InvalidField,
    NotFound,
    PermissionDenied,
    Refusal,
    StateConflict,
)
from recouvra_shared.grpc_status import rich_status
from recouvra_shared.unit_of_work import OutgoingEvent

SECRET = "unit-test-signing-key-" + "0123456789abcdef" * 4


class FakeAccounts:
    """Organisations, users and API keys in dictionaries."""

    def __init__(self) -> None:
        self.organisations: dict[str, Organisation] = {}
        self.users: dict[str, User] = {}
        self.keys: dict[str, ApiKey] = {}
        # (email, client address, when)
        self.login_failures: list[tuple[str, str, datetime]] = []
        self.locked: list[str] = []  # emails whose log-in lock was taken

    async def add_organisation(self, organisation: Organisation) -> None:
        self.organisations[organisation.organisation_id] = organisation

    async def get_organisation(self, organisation_id: str) -> Organisation | None:
        return self.organisations.get(organisation_id)

    async def referred_creditors(self, partner_id: str) -> list[Organisation]:
        return [o for o in self.organisations.values() if o.referrer_id == partner_id]

    async def add_user(self, user: User) -> bool:
        if any(u.email == user.email for u in self.users.values()):
            return False
        self.users[user.user_id] = user
        return True

    async def user_by_email(self, email: str) -> User | None:
        return next((u for u in self.users.values() if u.email == email), None)

    async def user_by_id(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    async def end_sessions(self, user_id: str) -> int:
        user = self.users.get(user_id)
        if user is None:
            return 0
        self.users[user_id] = replace(user, session_generation=user.session_generation + 1)
        return user.session_generation + 1

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        user = self.users.get(user_id)
        if user is not None:
            self.users[user_id] = replace(user, password_hash=password_hash)

    async def lock_login(self, email: str) -> None:
        self.locked.append(email)

    async def login_failures_since(
        self, email: str, since: datetime, address: str | None = None
    ) -> list[datetime]:
        return sorted(
            at
            for e, a, at in self.login_failures
            if e == email and at > since and (address is None or a == address)
        )

    async def record_login_failure(
        self, email: str, at: datetime, forget_before: datetime, address: str = ""
    ) -> None:
        self.login_failures = [
            (e, a, t) for e, a, t in self.login_failures if e != email or t > forget_before
        ]
        self.login_failures.append((email, address, at))

    async def forget_login_failures(self, email: str, address: str) -> None:
        self.login_failures = [
            (e, a, t) for e, a, t in self.login_failures if (e, a) != (email, address)
        ]

    async def add_api_key(self, key: ApiKey) -> bool:
        if any(k.prefix == key.prefix for k in self.keys.values()):
            return False
        self.keys[key.key_id] = key
        return True

    async def api_key_by_prefix(self, prefix: str) -> ApiKey | None:
        return next((k for k in self.keys.values() if k.prefix == prefix), None)

    async def api_keys_of(self, organisation_id: str) -> list[ApiKey]:
        return [k for k in self.keys.values() if k.organisation_id == organisation_id]

    async def revoke_api_key(self, organisation_id: str, key_id: str, now: datetime) -> bool:
        key = self.keys.get(key_id)
        if key is None or key.organisation_id != organisation_id:
            return False
        if key.revoked_at is None:
            self.keys[key_id] = replace(key, revoked_at=now)
        return True

    async def organisations_of_kind(
        self, kind: OrganisationKind, vetting: Vetting | None = None
    ) -> list[Organisation]:
        return sorted(
            (
                o
                for o in self.organisations.values()
                if o.kind is kind and (vetting is None or o.vetting is vetting)
            ),
            key=lambda o: (o.created_at, o.organisation_id),
        )

    async def provider_with_siren(self, siren: str) -> Organisation | None:
        return next(
            (
                o
                for o in self.organisations.values()
                if o.kind is OrganisationKind.PROVIDER and o.siren == siren
            ),
            None,
        )

    async def set_vetting(self, organisation_id: str, vetting: Vetting) -> None:
        organisation = self.organisations[organisation_id]
        self.organisations[organisation_id] = replace(organisation, vetting=vetting)

    async def set_profile(self, organisation_id: str, name: str, siren: str | None) -> None:
        organisation = self.organisations[organisation_id]
        self.organisations[organisation_id] = replace(organisation, name=name, siren=siren)


class FakeOperations:
    """The audit trail and the flags in lists."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []
        self.raised: list[VettingFlag] = []

    async def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

    async def trail(self, limit: int) -> list[AuditEntry]:
        return sorted(self.entries, key=lambda e: e.at, reverse=True)[:limit]

    async def raise_flag(self, flag: VettingFlag) -> None:
        self.raised.append(flag)

    async def flags(self, organisation_id: str | None = None) -> list[VettingFlag]:
        return [
            f
            for f in reversed(self.raised)
            if organisation_id is None or f.organisation_id == organisation_id
        ]


class FakeIdempotency:
    """Idempotency records in a dictionary."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], tuple[str, int, Any]] = {}

    async def remembered(self, owner: str, key: str) -> tuple[str, int, Any] | None:
        return self.records.get((owner, key))

    async def claim(self, owner: str, key: str, request_hash: str) -> bool:
        if (owner, key) in self.records:
            return False
        self.records[(owner, key)] = (request_hash, 0, {})
        return True

    async def complete(self, owner: str, key: str, status_code: int, response: Any) -> None:
        request_hash, _, _ = self.records[(owner, key)]
        self.records[(owner, key)] = (request_hash, status_code, response)


class FakeTeam:
    """Invitations in a dictionary; members read from the accounts of the same unit of work."""

    def __init__(self, accounts: FakeAccounts) -> None:
        self.accounts = accounts
        self.invitations: dict[str, Invitation] = {}

    async def add_invitation(self, invitation: Invitation) -> None:
        self.invitations[invitation.invitation_id] = invitation

    async def invitation_by_token_hash(self, token_hash: str) -> Invitation | None:
        return next((i for i in self.invitations.values() if i.token_hash == token_hash), None)

    async def pending_invitations(self, organisation_id: str, now: datetime) -> list[Invitation]:
        found = [
            i
            for i in self.invitations.values()
            if i.organisation_id == organisation_id and i.pending(now)
        ]
        return sorted(found, key=lambda i: i.created_at, reverse=True)

    async def revoke_invitation(
        self, organisation_id: str, invitation_id: str, now: datetime
    ) -> bool:
        found = self.invitations.get(invitation_id)
        if found is None or found.organisation_id != organisation_id or not found.pending(now):
            return False
        self.invitations[invitation_id] = replace(found, revoked_at=now)
        return True

    async def mark_accepted(self, invitation_id: str, now: datetime) -> bool:
        found = self.invitations.get(invitation_id)
        if found is None or not found.pending(now):
            return False
        self.invitations[invitation_id] = replace(found, accepted_at=now)
        return True

    async def members(self, organisation_id: str) -> list[User]:
        found = [u for u in self.accounts.users.values() if u.organisation_id == organisation_id]
        return sorted(found, key=lambda u: u.created_at)

    async def lock_members(self, organisation_id: str) -> list[User]:
        return await self.members(organisation_id)

    async def set_role(self, organisation_id: str, user_id: str, role: TeamRole) -> None:
        found = self.accounts.users[user_id]
        assert found.organisation_id == organisation_id
        self.accounts.users[user_id] = replace(found, role=role.value)

    async def remove_member(self, organisation_id: str, user_id: str) -> None:
        assert self.accounts.users[user_id].organisation_id == organisation_id
        del self.accounts.users[user_id]


class FakeStore:
    """Committed state; each unit of work works on a copy and publishes it on commit."""

    def __init__(self) -> None:
        self.accounts = FakeAccounts()
        self.idempotency = FakeIdempotency()
        self.operations = FakeOperations()
        self.team = FakeTeam(self.accounts)
        self.published: list[OutgoingEvent] = []
        self.commits = 0
        # Units of work open now: a backend call made while one is open holds a transaction.
        self.open_units = 0

    def unit_of_work(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


class FakeUnitOfWork:
    """A unit of work whose changes vanish unless committed."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def __aenter__(self) -> Self:
        self.accounts = FakeAccounts()
        self.accounts.organisations = dict(self.store.accounts.organisations)
        self.accounts.users = dict(self.store.accounts.users)
        self.accounts.keys = dict(self.store.accounts.keys)
        self.accounts.login_failures = list(self.store.accounts.login_failures)
        self.idempotency = FakeIdempotency()
        self.idempotency.records = dict(self.store.idempotency.records)
        self.operations = FakeOperations()
        self.operations.entries = list(self.store.operations.entries)
        self.operations.raised = list(self.store.operations.raised)
        self.team = FakeTeam(self.accounts)
        self.team.invitations = dict(self.store.team.invitations)
        self.outbox: list[OutgoingEvent] = []
        self.store.open_units += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.store.open_units -= 1

    async def publish(self, *events: OutgoingEvent) -> None:
        self.outbox.extend(events)

    async def commit(self) -> None:
        self.store.published.extend(self.outbox)
        self.store.accounts = self.accounts
        self.store.idempotency = self.idempotency
        self.store.operations = self.operations
        self.store.team = self.team
        self.store.commits += 1


# --- matching, and acting through the API --------------------------------------------------------

PASSWORD = "correct horse battery staple"
PROBLEM = "application/problem+json"
CLOSES = Timestamp(seconds=int(datetime(2026, 11, 23, 10, 15, tzinfo=UTC).timestamp()))
CLOSES_DAY = date(2026, 11, 23)
PROFILE = {
    "kind": "commissaire",
    "regions": ["fr-idf", "FR"],
    "serves_business": True,
    "serves_consumer": False,
    "min_amount": {"amount": "500", "currency": "EUR"},
    "max_amount": {"amount": "200000.50", "currency": "EUR"},
    "judicial": True,
    "capacity": 40,
}


def rpc_error(code: grpc.StatusCode, details: str) -> Any:
    """A bare status, as gRPC itself reports a service it cannot reach (UNAVAILABLE, ...)."""
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)


def status_for(refusal: Refusal) -> grpc.aio.AioRpcError:
    """The status a service's shared interceptor sends for `refusal`, with its details."""
    status = rich_status(refusal)
    return grpc.aio.AioRpcError(
        status.code,
        grpc.aio.Metadata(),
        grpc.aio.Metadata(*status.trailing_metadata),
        status.details,
    )


class FakeMatching:
    """Answers like matching's three services; records each call with the caller it came as.

    `errors` maps an RPC name to the error it raises next; `open_case` is the one auction open
    to the provider `eligible`; `hold` and `offer` give a creditor's case to a provider, whose
    reported actions and payments then show in the case's activity, for that creditor only.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, Caller | None, Any]] = []
        self.errors: dict[str, Any] = {}
        self.open_case = "case-open"
        self.eligible = ""
        self.quote = pb.QuoteReply(case_id="case-open", round=1, status="bidding")
        self.creditors: dict[str, str] = {}
        self.holders: dict[str, str] = {}
        self.offers: dict[str, str] = {}
        self.amounts: dict[str, int] = {}
        self.activity: dict[str, Any] = {}
        self.ever_held: dict[str, list[str]] = {}
        self.window_starts: dict[str, date] = {}
        self.claims: dict[str, Any] = {}
        self.claim_cases: dict[str, str] = {}
        # The Idempotency-Key each call carried, and the first answer per (rpc, caller, key):
        # like matching, a keyed retry gets the first answer and acts once.
        self.keys: list[tuple[str, str | None]] = []
        self.answers: dict[tuple[str, Caller | None, str], Any] = {}
        # Registered providers and whether an operator approved them, as matching keeps them:
        # a pending one sees no auction and places no bid or rule (issue 13, point 2).
        self.approved: dict[str, bool] = {}
        # Standing rules by (provider, name), as SetAutoBidRule stored them.
        self.rules: dict[tuple[str, str], Any] = {}
        # Each provider's measured record per segment (matching's pb.ProviderRecord).
        self.records: dict[str, list[Any]] = {}
        # Per creditor, what each provider did on its cases (pb.ProviderResult).
        self.results: dict[str, list[Any]] = {}

    def _called(self, rpc: str, request: Any) -> str:
        """Records the call and raises the error queued for it; the caller's tenant."""
        caller = caller_var.get()
        self.calls.append((rpc, caller, request))
        self.keys.append((rpc, idempotency_key_var.get()))
        if rpc in self.errors:
            raise self.errors.pop(rpc)
        return (caller.tenant_id or "") if caller is not None else ""

    async def _answer(self, rpc: str, request: Any, reply: Any) -> Any:
        self._called(rpc, request)
        return reply

    def called(self, rpc: str) -> list[tuple[Caller | None, Any]]:
        return [(caller, request) for name, caller, request in self.calls if name == rpc]

    def approved_provider(self, tenant: str) -> None:
        """Refused like matching refuses a provider no operator approved (or never registered)."""
        if tenant not in self.approved:
            raise status_for(NotFound("provider: not registered"))
        if not self.approved[tenant]:
            raise status_for(PermissionDenied("provider: not approved by an operator (yet)"))

    # ProviderDirectoryService
    async def RegisterProvider(self, request: Any) -> Any:
        caller = caller_var.get()
        if caller is None or not (
            caller.kind == "operator" or (caller.kind, caller.subject) == ("service", "gateway")
        ):
            self._called("RegisterProvider", request)
            raise status_for(PermissionDenied("caller: only an operator may call this"))
        reply = await self._answer(
            "RegisterProvider", request, pb.RegisterProviderReply(provider_id=request.provider_id)
        )
        self.approved.setdefault(request.provider_id, False)
        return reply

    async def SetProviderApproval(self, request: Any) -> Any:
        caller = caller_var.get()
        self._called("SetProviderApproval", request)
        if caller is None or caller.kind != "operator":
            raise status_for(PermissionDenied("caller: only an operator may call this"))
        if request.provider_id not in self.approved:
            raise status_for(NotFound("provider: no such provider"))
        self.approved[request.provider_id] = request.approved
        return pb.SetProviderApprovalReply(
            provider_id=request.provider_id, approved=request.approved
        )

    # BiddingService
    async def ListOpenAuctions(self, request: Any) -> Any:
        caller = caller_var.get()
        self.approved_provider(caller.tenant_id or "" if caller is not None else "")
        auctions = self.listed(caller.tenant_id if caller is not None else None)
        return await self._answer(
            "ListOpenAuctions", request, pb.ListOpenAuctionsResponse(auctions=auctions)
        )

    def WatchAuctions(self, request: Any, metadata: Any = (), timeout: float = 0) -> Any:
        """The auctions open now again (the gateway sent them already), then one new one."""
        caller = caller_var.get()
        self.calls.append(("WatchAuctions", caller, dict(metadata)))

        class Stream:
            cancelled = False

            def __init__(self, auctions: list[Any]) -> None:
                self.auctions = auctions

            def __aiter__(self) -> Any:
                return self._each()

            async def _each(self) -> Any:
                for auction in self.auctions:
                    yield auction

            def cancel(self) -> None:
                self.cancelled = True

        new = pb.OpenAuction(case_id="case-new", round=2, debtor_type="consumer", closes_at=CLOSES)
        self.stream = Stream([*self.listed(caller.tenant_id if caller else None), new])
        return self.stream

    def listed(self, tenant: str | None) -> list[Any]:
        if tenant != self.eligible:
            return []
        return [
            pb.OpenAuction(
                case_id=self.open_case,
                round=1,
                amount_band="1000-5000 EUR",
                days_overdue=54,
                segment="good-faith-difficulty",
                trustscore=72,
                reason_codes=["PAID_LATE_BEFORE"],
                region="FR-IDF",
                debtor_type="business",
                closes_at=CLOSES,
            )
        ]

    async def _bid(self, rpc: str, request: Any) -> Any:
        caller = caller_var.get()
        self.approved_provider(caller.tenant_id or "" if caller is not None else "")
        reply = pb.BidReply(
            case_id=request.case_id,
            round=1,
            fee=request.fee,
            fixed_fee=Money(currency="EUR", minor_units=request.fixed_fee.minor_units),
            closes_at=CLOSES,
            fee_base=request.fee_base or "collected",
        )
        return await self._answer(rpc, request, reply)

    async def PlaceBid(self, request: Any) -> Any:
        return await self._bid("PlaceBid", request)

    async def ReplaceBid(self, request: Any) -> Any:
        return await self._bid("ReplaceBid", request)

    async def WithdrawBid(self, request: Any) -> Any:
        return await self._answer(
            "WithdrawBid", request, pb.WithdrawBidReply(case_id=request.case_id)
        )

    async def SetAutoBidRule(self, request: Any) -> Any:
        caller = caller_var.get()
        provider_id = caller.tenant_id or "" if caller is not None else ""
        self.approved_provider(provider_id)
        reply = await self._answer(
            "SetAutoBidRule", request, pb.SetAutoBidRuleReply(name=request.name)
        )
        self.rules[(provider_id, request.name)] = pb.AutoBidRule(
            name=request.name,
            fee=request.fee,
            fixed_fee_minor=request.fixed_fee_minor,
            segments=request.segments,
            min_trustscore=request.min_trustscore,
            min_amount_minor=request.min_amount_minor,
            max_amount_minor=request.max_amount_minor,
            debtor_types=request.debtor_types,
        )
        return reply

    async def GetOwnRecord(self, request: Any) -> Any:
        provider_id = self._called("GetOwnRecord", request)
        return pb.GetOwnRecordReply(records=self.records.get(provider_id, []))

    async def ListAutoBidRules(self, request: Any) -> Any:
        provider_id = self._called("ListAutoBidRules", request)
        mine = sorted((n, r) for (p, n), r in self.rules.items() if p == provider_id)
        return pb.ListAutoBidRulesReply(rules=[r for _, r in mine])

    async def DeleteAutoBidRule(self, request: Any) -> Any:
        provider_id = self._called("DeleteAutoBidRule", request)
        if self.rules.pop((provider_id, request.name), None) is None:
            raise status_for(NotFound(f"name: no auto-bid rule named {request.name!r}"))
        return pb.DeleteAutoBidRuleReply(name=request.name)

    async def _assignment(self, rpc: str, request: Any, status: str) -> Any:
        reply = pb.AssignmentReply(case_id=request.case_id, round=1, status=status)
        if status == "assigned":
            reply.window_ends_at.CopyFrom(CLOSES)
        return await self._answer(rpc, request, reply)

    async def AcceptAssignment(self, request: Any) -> Any:
        return await self._assignment("AcceptAssignment", request, "assigned")

    async def DeclineAssignment(self, request: Any) -> Any:
        return await self._assignment("DeclineAssignment", request, "quoted")

    async def ReportPromiseToPay(self, request: Any) -> Any:
        return await self._assignment("ReportPromiseToPay", request, "assigned")

    async def ReleaseCase(self, request: Any) -> Any:
        return await self._assignment("ReleaseCase", request, "bidding")

    # QuoteService
    async def ListProviderResults(self, request: Any) -> Any:
        creditor_id = self._called("ListProviderResults", request)
        return pb.ListProviderResultsReply(results=self.results.get(creditor_id, []))

    async def GetQuote(self, request: Any) -> Any:
        return await self._answer("GetQuote", request, self.quote)

    async def AcceptQuote(self, request: Any) -> Any:
        reply = pb.QuoteReply()
        reply.CopyFrom(self.quote)
        reply.status = "offered"
        return await self._answer("AcceptQuote", request, reply)

    async def DeclineQuote(self, request: Any) -> Any:
        return await self._answer("DeclineQuote", request, pb.QuoteReply(status="bidding"))

    async def SetCreditorPolicy(self, request: Any) -> Any:
        return await self._answer("SetCreditorPolicy", request, pb.SetCreditorPolicyReply())

    def _creditors(self, case_id: str, tenant: str) -> Any:
        if self.creditors.get(case_id) != tenant or case_id not in self.activity:
            raise status_for(NotFound("case: no such case"))
        return self.activity[case_id]

    async def GetCaseActivity(self, request: Any) -> Any:
        tenant = self._called("GetCaseActivity", request)
        activity = pb.CaseActivity()
        activity.CopyFrom(self._creditors(request.case_id, tenant))
        activity.claims.extend(
            c for i, c in self.claims.items() if self.claim_cases[i] == request.case_id
        )
        return activity

    # Cases held, and what their holders report
    def hold(
        self,
        case_id: str,
        creditor_id: str,
        provider_id: str,
        since: date = CLOSES_DAY,
        amount_minor: int = 125_000,
    ) -> None:
        """The creditor's case, 1250.00 EUR, assigned to the provider in round 1 from `since`."""
        self.creditors[case_id] = creditor_id
        self.holders[case_id] = provider_id
        self.ever_held[case_id] = [provider_id]
        self.window_starts[case_id] = since
        self.amounts[case_id] = amount_minor
        self.activity[case_id] = pb.CaseActivity(
            case_id=case_id,
            status="assigned",
            round=1,
            recovered=Money(currency="EUR", minor_units=0),
        )

    def rotate(self, case_id: str, provider_id: str, since: date) -> None:
        """The holder's window lapsed: the case is now another provider's, from `since`."""
        self.holders[case_id] = provider_id
        self.ever_held[case_id].append(provider_id)
        self.window_starts[case_id] = since
        self.activity[case_id].round += 1

    def offer(self, case_id: str, creditor_id: str, provider_id: str) -> None:
        """The creditor's case, offered to the provider, who has not answered yet."""
        self.creditors[case_id] = creditor_id
        self.offers[case_id] = provider_id

    def _held_by(self, case_id: str, tenant: str) -> Any:
        if self.holders.get(case_id) != tenant:
            raise status_for(NotFound("case: not held by you"))
        return self.activity[case_id]

    async def _once(self, rpc: str, act: Any) -> Any:
        key = idempotency_key_var.get()
        if not key:
            return await act()
        seen = (rpc, caller_var.get(), key)
        if seen not in self.answers:
            self.answers[seen] = await act()
        else:
            self.keys.append((rpc, key))
        return self.answers[seen]

    async def ReportAction(self, request: Any) -> Any:
        return await self._once("ReportAction", lambda: self._report_action(request))

    async def _report_action(self, request: Any) -> Any:
        tenant = self._called("ReportAction", request)
        activity = self._held_by(request.case_id, tenant)
        action = pb.CaseAction(
            action_id=f"action-{len(activity.actions) + 1}",
            round=1,
            provider_id=tenant,
            kind=request.kind,
            occurred_at=request.occurred_at if request.HasField("occurred_at") else CLOSES,
            note=request.note,
            promised_on=request.promised_on,
        )
        if request.HasField("promised_amount"):
            action.promised_amount.CopyFrom(request.promised_amount)
        activity.actions.append(action)
        return pb.ReportActionReply(
            case_id=request.case_id, action_id=action.action_id, round=1, window_ends_at=CLOSES
        )

    async def ReportPayment(self, request: Any) -> Any:
        """A claim, as matching keeps it: only the current holder, within its window."""
        tenant = self._called("ReportPayment", request)
        case_id = request.case_id
        claim_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{case_id}/{tenant}/{request.reference}"))
        known = self.claims.get(claim_id)
        same = known is not None and (
            known.amount.minor_units,
            known.paid_on,
            known.settles_in_full,
        ) == (request.amount.minor_units, request.paid_on, request.settles_in_full)
        if not same:
            activity = self._held_by(case_id, tenant)
            if known is not None:
                raise status_for(InvalidField("reference", "already used for a different payment"))
            if date.fromisoformat(request.paid_on) < self.window_starts[case_id]:
                raise status_for(InvalidField("paid_on", "must fall within your current window"))
            owed = self.amounts[case_id] - activity.recovered.minor_units
            if request.amount.minor_units > owed:
                raise status_for(InvalidField("amount.minor_units", f"must not exceed {owed}"))
            known = pb.PaymentClaim(
                claim_id=claim_id,
                reference=request.reference,
                provider_id=tenant,
                round=activity.round,
                amount=request.amount,
                paid_on=request.paid_on,
                settles_in_full=request.settles_in_full,
                state="claimed",
                claimed_at=CLOSES,
            )
            self.claims[claim_id] = known
            self.claim_cases[claim_id] = case_id
        return pb.ReportPaymentReply(
            case_id=case_id,
            payment_id=known.claim_id,
            attributed_to=known.provider_id,
            status=self.activity[case_id].status,
            claim_state=known.state,
        )

    async def ListPaymentClaims(self, request: Any) -> Any:
        tenant = self._called("ListPaymentClaims", request)
        if tenant not in self.ever_held.get(request.case_id, []):
            raise status_for(NotFound("case: no such case"))
        mine = [
            c
            for i, c in self.claims.items()
            if self.claim_cases[i] == request.case_id and c.provider_id == tenant
        ]
        return pb.ListPaymentClaimsResponse(claims=mine)

    def _claim(self, case_id: str, claim_id: str, tenant: str) -> tuple[Any, Any]:
        activity = self._creditors(case_id, tenant)
        if self.claim_cases.get(claim_id) != case_id:
            raise status_for(NotFound("claim_id: no such payment claim on this case"))
        return activity, self.claims[claim_id]

    def _claim_reply(self, case_id: str, claim: Any) -> Any:
        activity = self.activity[case_id]
        return pb.PaymentClaimReply(
            case_id=case_id, status=activity.status, claim=claim, recovered=activity.recovered
        )

    async def ConfirmPayment(self, request: Any) -> Any:
        """The claim becomes a payment of its claimant; one in full closes the case."""
        tenant = self._called("ConfirmPayment", request)
        activity, claim = self._claim(request.case_id, request.claim_id, tenant)
        if claim.state != "confirmed":
            claim.state, claim.decided_by = "confirmed", "creditor"
            claim.decided_at.CopyFrom(CLOSES)
            activity.payments.add(
                payment_id=claim.claim_id,
                amount=claim.amount,
                paid_on=claim.paid_on,
                source="provider",
                provider_id=claim.provider_id,
                round=claim.round,
            )
            activity.recovered.minor_units += claim.amount.minor_units
            if (
                claim.settles_in_full
                or activity.recovered.minor_units >= self.amounts[request.case_id]
            ):
                activity.status = "closed"
                self.holders.pop(request.case_id, None)
        return self._claim_reply(request.case_id, claim)

    async def DisputePayment(self, request: Any) -> Any:
        """The claim counts nowhere and shows the creditor's reason."""
        tenant = self._called("DisputePayment", request)
        _, claim = self._claim(request.case_id, request.claim_id, tenant)
        if not request.reason.strip():
            raise status_for(InvalidField("reason", "is required"))
        if claim.state == "confirmed":
            raise status_for(StateConflict("claim: already confirmed"))
        if claim.state == "claimed":
            claim.state, claim.decided_by = "disputed", "creditor"
            claim.dispute_reason = request.reason.strip()
            claim.decided_at.CopyFrom(CLOSES)
        return self._claim_reply(request.case_id, claim)

    async def ListAssignments(self, request: Any) -> Any:
        tenant = self._called("ListAssignments", request)
        amount = Money(currency="EUR", minor_units=125_000)
        cases = [
            pb.HeldCase(
                case_id=case_id,
                round=1,
                status="offered",
                accept_by=CLOSES,
                fee=Percentage(basis_points=950),
                amount=amount,
            )
            for case_id, provider_id in self.offers.items()
            if provider_id == tenant
        ] + [
            pb.HeldCase(
                case_id=case_id,
                round=1,
                status="assigned",
                window_ends_at=CLOSES,
                fee=Percentage(basis_points=950),
                amount=amount,
                recovered=self.activity[case_id].recovered,
            )
            for case_id, provider_id in self.holders.items()
            if provider_id == tenant
        ]
        return pb.ListAssignmentsResponse(cases=cases)


class FakeCases:
    """Intake's GetCase over cases owned by creditors: another creditor's case is NOT_FOUND,
    exactly like a missing one; a partner names the creditor it acts for."""

    def __init__(self) -> None:
        self.creditors: dict[str, str] = {}
        self.callers: list[Caller | None] = []

    async def GetCase(self, request: Any) -> Any:
        caller = caller_var.get()
        self.callers.append(caller)
        scope = ""
        if caller is not None and caller.kind == "partner":
            scope = request.creditor_id
        elif caller is not None and caller.kind == "creditor":
            scope = caller.tenant_id or ""
            if request.creditor_id and request.creditor_id != scope:
                scope = ""
        if not scope or self.creditors.get(request.case_id) != scope:
            raise status_for(NotFound("case: no such case"))
        return intake_pb2.Case(case_id=request.case_id, creditor_id=scope)


def _caller_of(metadata: Any) -> Caller | None:
    """The caller a call was started as, whom the client interceptor signs a token for (the
    gateway sends no caller metadata of its own)."""
    assert not any(k.startswith("x-caller") for k, _ in metadata or ()), metadata
    return caller_var.get()


_SNIFFED = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


class FakeVault:
    """Answers like the vault's VaultService: the owning creditor reads and erases, the provider
    `grants` names for a case reads and adds, the portal's debtor adds proof to its own case and
    reads its shareable documents; anyone else gets NOT_FOUND, like a missing id.

    Records each call with its caller and the size of every chunk it received; `corrupted`
    documents fail their integrity check (DATA_LOSS) before their last chunk, as the real vault
    does; `errors` maps an RPC name to the error it raises next.
    """

    def __init__(self) -> None:
        self.documents: dict[str, vault_pb2.Document] = {}
        self.contents: dict[str, bytes] = {}
        self.grants: dict[str, str] = {}
        self.owners: dict[str, str] = {}
        self.corrupted: set[str] = set()
        self.errors: dict[str, Any] = {}
        self.calls: list[tuple[str, Caller | None, Any]] = []
        self.chunk_sizes: list[int] = []
        self.read_chunk = 256 * 1024

    def _called(self, rpc: str, caller: Caller | None, request: Any) -> Caller | None:
        self.calls.append((rpc, caller, request))
        if rpc in self.errors:
            raise self.errors.pop(rpc)
        return caller

    def called(self, rpc: str) -> list[tuple[Caller | None, Any]]:
        return [(caller, request) for name, caller, request in self.calls if name == rpc]

    def _readable(self, caller: Caller | None, document: vault_pb2.Document) -> bool:
        if caller is None:
            return False
        if caller.kind == "creditor":
            return caller.tenant_id == document.tenant_id
        if caller.kind == "provider":
            return self.grants.get(document.case_id) == caller.tenant_id
        if caller.kind == "debtor":  # the portal: shared documents of its own case only
            return (
                document.shareable
                and caller.subject == document.case_id
                and caller.tenant_id == document.tenant_id
            )
        return False

    def _visible(self, caller: Caller | None, document_id: str) -> vault_pb2.Document:
        document = self.documents.get(document_id)
        if document is None or not self._readable(caller, document):
            raise status_for(NotFound("document_id: no such document"))
        return document

    def PutDocument(self, requests: Any, metadata: Any = (), **_: Any) -> Any:
        return self._put(requests, _caller_of(metadata))

    async def _put(self, requests: Any, started_as: Caller | None) -> Any:
        parts = aiter(requests)
        first = await anext(parts)
        caller = self._called("PutDocument", started_as, first.metadata)
        case_id = first.metadata.case_id
        tenant = None
        if caller is not None and caller.kind == "creditor":
            tenant = caller.tenant_id
        elif (
            caller is not None
            and caller.kind == "provider"
            and self.grants.get(case_id) == caller.tenant_id
        ):
            tenant = self.owners.get(case_id)
        elif caller is not None and caller.kind == "debtor" and caller.subject == case_id:
            tenant = caller.tenant_id  # the portal: proof on its own case, under its creditor
        if not tenant:
            raise status_for(NotFound("case_id: no such case"))
        hasher = hashlib.sha256()
        content = bytearray()
        async for part in parts:
            self.chunk_sizes.append(len(part.chunk))
            hasher.update(part.chunk)
            content += part.chunk
        content_type = next((kind for magic, kind in _SNIFFED if content.startswith(magic)), None)
        if content_type is None:
            raise status_for(
                InvalidField("content", "only PDF, PNG, JPEG and XML documents are accepted")
            )
        if first.metadata.sha256_hex and first.metadata.sha256_hex != hasher.hexdigest():
            raise status_for(
                InvalidField("metadata.sha256_hex", "the received content hashes differently")
            )
        document = vault_pb2.Document(
            document_id=str(uuid.uuid4()),
            case_id=case_id,
            tenant_id=tenant,
            kind=first.metadata.kind,
            content_type=content_type,
            size_bytes=len(content),
            sha256_hex=hasher.hexdigest(),
            version=1,
            shareable=first.metadata.shareable,
            filename=first.metadata.filename,
            created_at=CLOSES,
        )
        self.documents[document.document_id] = document
        self.contents[document.document_id] = bytes(content)
        return document

    def GetDocument(self, request: Any, metadata: Any = (), timeout: float = 0) -> Any:
        vault = self
        started_as = _caller_of(metadata)

        class Stream:
            cancelled = False

            def __aiter__(self) -> Any:
                return self._each()

            async def _each(self) -> Any:
                caller = vault._called("GetDocument", started_as, request)
                document = vault._visible(caller, request.document_id)
                if document.HasField("shredded_at"):
                    raise status_for(
                        Gone(
                            "the document was erased (crypto-shredded) on "
                            "2026-11-23; its content cannot be recovered"
                        )
                    )
                yield vault_pb2.GetDocumentResponse(document=document)
                content = vault.contents[document.document_id]
                pieces = [
                    content[start : start + vault.read_chunk]
                    for start in range(0, len(content), vault.read_chunk)
                ]
                for index, piece in enumerate(pieces):
                    last = index == len(pieces) - 1
                    if last and document.document_id in vault.corrupted:
                        raise status_for(
                            DataLoss("content does not match the SHA-256 recorded at upload")
                        )
                    yield vault_pb2.GetDocumentResponse(chunk=piece)

            def cancel(self) -> None:
                self.cancelled = True

        self.stream = Stream()
        return self.stream

    async def ListDocuments(self, request: Any) -> Any:
        caller = self._called("ListDocuments", _caller_of(()), request)
        return vault_pb2.ListDocumentsResponse(
            documents=[
                d
                for d in self.documents.values()
                if d.case_id == request.case_id and self._readable(caller, d)
            ]
        )

    async def ShredDocument(self, request: Any) -> Any:
        caller = self._called("ShredDocument", _caller_of(()), request)
        document = self._visible(caller, request.document_id)
        if caller is None or caller.kind != "creditor":
            raise status_for(
                PermissionDenied("document_id: only the owning creditor may erase a document")
            )
        if not document.HasField("shredded_at"):
            document.shredded_at.CopyFrom(CLOSES)
            self.contents[document.document_id] = b""
        return document


def marketplace_services(
    store: FakeStore, passwords: Passwords, tokens: Tokens, matching: FakeMatching
) -> GatewayServices:
    """The gateway wired to the fake store and to the fake matching for all three services."""
    return GatewayServices(
        unit_of_work=store.unit_of_work,
        passwords=passwords,
        tokens=tokens,
        login_policy=LoginPolicy(max_failures=3, window_seconds=60),
        fingerprint_secret=b"unit",
        bidding=BiddingClient(matching),
        quotes=QuoteClient(matching),
        providers=ProviderDirectoryClient(matching),
    )


@contextlib.asynccontextmanager
async def http_client(services: GatewayServices) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the gateway app in this process: no network."""
    transport = httpx.ASGITransport(app=create_app(services, {}), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def token(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    login = await client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def approve(client: httpx.AsyncClient, provider_id: str) -> None:
    """An operator approved this provider: its account, as the gateway records the decision."""
    # The app this in-process client calls, and the services it was wired with.
    services: GatewayServices = client._transport.app.state.services  # type: ignore[attr-defined]
    async with services.unit_of_work() as uow:
        await uow.accounts.set_vetting(provider_id, Vetting.APPROVED)
        await uow.commit()
    # And matching was told, as the operator route tells it.
    matching = getattr(services.bidding, "stub", None)
    if isinstance(matching, FakeMatching):
        matching.approved[provider_id] = True


async def sign_up_provider(
    client: httpx.AsyncClient,
    email: str,
    siren: str = "443061841",
    *,
    approved: bool = True,
    **profile: Any,
) -> tuple[str, dict[str, str]]:
    """A provider signed up and logged in, approved by an operator unless told otherwise."""
    body = {
        "organisation_name": "Etude Lambert",
        "siren": siren,
        "email": email,
        "password": PASSWORD,
        "profile": PROFILE | profile,
    }
    signed = await client.post("/v1/provider/accounts", json=body, headers=key(email))
    assert signed.status_code == 201, signed.text
    if approved:
        await approve(client, signed.json()["id"])
    return signed.json()["id"], await token(client, email)


# A valid SIREN (a company creditor gives one before its first case).
CREDITOR_SIREN = "732829320"


async def sign_up(
    client: httpx.AsyncClient,
    email: str,
    kind: str = "creditor",
    siren: str | None = CREDITOR_SIREN,
) -> dict[str, str]:
    body = {"organisation_name": email, "kind": kind, "email": email, "password": PASSWORD}
    if siren is not None:
        body["siren"] = siren
    signed = await client.post("/v1/accounts", json=body, headers=key(email))
    assert signed.status_code == 201, signed.text
    return await token(client, email)


def fields_of(response: httpx.Response) -> dict[str, str]:
    assert response.headers["content-type"] == PROBLEM, response.text
    return {e["field"]: e["rule"] for e in response.json()["errors"]}
