"""An in-process matching (gRPC APIs, handlers, timer loop) on a real database and a test clock."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from google.protobuf.message import Message
from sqlalchemy import select
from stdnum import luhn

from matching.adapters.unit_of_work import SqlMatchingUnitOfWork, unit_of_work_factory
from matching.domain.rules import MatchingConfig, MatchingRules
from matching.entrypoints.bidding_api import BiddingApi
from matching.entrypoints.case_fact_consumers import CaseFactConsumers
from matching.entrypoints.provider_directory_api import ProviderDirectoryApi
from matching.entrypoints.quote_api import QuoteApi
from matching.entrypoints.timer_loop import TimerLoop
from recouvra.common.v1.money_pb2 import Money
from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn, PaymentDeclared
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra.matching.v1 import bidding_pb2_grpc as pb_grpc
from recouvra_shared.db import Database, outbox
from recouvra_shared.events import new_event
from recouvra_shared.grpc import GrpcServer
from recouvra_shared.percentages import to_percentage
from services.matching.tests.unit.fakes import ManualClock
from tests.support.identity import CallAs, as_person, as_service, identity_keys
from tests.support.pki import platform_pki

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CONFIG = MatchingConfig()
SERVICES = [s.full_name for s in pb.DESCRIPTOR.services_by_name.values()]


def pct(text: str) -> Percentage:
    """A percentage as the contract carries it, from the way a person writes it."""
    return to_percentage(Decimal(text))


def siren(n: int) -> str:
    """A valid SIREN (Luhn) built from a small number."""
    body = f"{n:08d}"
    return body + luhn.calc_check_digit(body)


def as_provider(provider_id: str) -> CallAs:
    return as_person("matching", "provider", provider_id, provider_id)


# The gateway onboarding a provider as itself: the one service matching lets do it.
AS_GATEWAY = as_service("matching", "gateway")
# An operator approving providers, through the gateway.
AS_OPERATOR = as_person("matching", "operator", "", "user:operator")


def as_creditor(creditor_id: str) -> CallAs:
    return as_person("matching", "creditor", creditor_id, creditor_id)


@dataclass
class Harness:
    """Matching wired as bootstrap wires it, but on a clock the test moves."""

    url: str
    database: Database
    clock: ManualClock
    consumers: CaseFactConsumers
    timers: TimerLoop
    bidding: pb_grpc.BiddingServiceStub
    quotes: pb_grpc.QuoteServiceStub
    directory: pb_grpc.ProviderDirectoryServiceStub

    async def register(self, provider_id: str, n: int, **overrides: object) -> None:
        request = pb.RegisterProviderRequest(
            provider_id=provider_id,
            name=f"Cabinet {provider_id}",
            kind="commissaire",
            siren=siren(n),
            regions=["FR"],
            serves_business=True,
            serves_consumer=True,
            min_amount_minor=10_000,
            max_amount_minor=100_000_000,
            judicial=True,
            capacity=10,
        )
        for key, value in overrides.items():
            if isinstance(value, list):
                getattr(request, key)[:] = value
            else:
                setattr(request, key, value)
        await self.directory.RegisterProvider(request, metadata=AS_GATEWAY)
        # Signed up through the gateway, a provider waits for an operator's approval.
        await self.directory.SetProviderApproval(
            pb.SetProviderApprovalRequest(provider_id=provider_id, approved=True),
            metadata=AS_OPERATOR,
        )

    async def auto_rule(self, provider_id: str, fee: str, **criteria: object) -> None:
        request = pb.SetAutoBidRuleRequest(name="default", fee=pct(fee))
        for key, value in criteria.items():
            if isinstance(value, list):
                getattr(request, key)[:] = value
            else:
                setattr(request, key, value)
        await self.bidding.SetAutoBidRule(request, metadata=as_provider(provider_id))

    async def deliver(self, handler: str, payload: Message, case_id: str, creditor: str) -> None:
        """Hand an event to a consumer handler as the platform's inbox consumer would."""
        producer, event_type = {
            CaseSubmitted: ("intake", "case-submitted"),
            CaseScored: ("scoring", "case-scored"),
            PaymentDeclared: ("intake", "payment-declared"),
            CaseWithdrawn: ("intake", "case-withdrawn"),
        }[type(payload)]
        envelope = new_event(
            producer=producer,
            event_type=event_type,
            version=1,
            case_id=case_id,
            tenant_id=creditor,
            payload=payload,
        ).envelope
        async with SqlMatchingUnitOfWork(self.database.sessions) as uow:
            await getattr(self.consumers, handler)(payload, envelope, uow)
            await uow.commit()

    async def submit_scored_case(
        self,
        case_id: str,
        creditor: str,
        *,
        amount_minor: int = 480_000,
        probability: str = "0.62",
        business: bool = True,
    ) -> None:
        await self.deliver(
            "on_case_submitted",
            CaseSubmitted(
                case_id=case_id,
                creditor_id=creditor,
                debtor_is_business=business,
                amount=Money(currency="EUR", minor_units=amount_minor),
                issue_date="2026-08-01",
                due_date="2026-09-01",
            ),
            case_id,
            creditor,
        )
        await self.deliver(
            "on_case_scored",
            CaseScored(
                case_id=case_id,
                trustscore=64,
                recovery_probability=probability,
                segment="good-faith",
                strategy="amicable",
                reason_codes=["LATE_90", "B2B"],
            ),
            case_id,
            creditor,
        )

    async def declare_payment(
        self, case_id: str, creditor: str, minor: int, *, full: bool, paid_on: str = "2026-12-01"
    ) -> None:
        await self.deliver(
            "on_payment_declared",
            PaymentDeclared(
                case_id=case_id,
                amount=Money(currency="EUR", minor_units=minor),
                paid_on=paid_on,
                settles_in_full=full,
            ),
            case_id,
            creditor,
        )

    async def assign(self, case_id: str, creditor: str, provider_id: str) -> None:
        """Close bidding, accept the quote and have the quoted provider take the case."""
        self.clock.advance(MatchingRules().bidding_period)
        await self.timers.tick()
        quote = await self.quotes.AcceptQuote(
            pb.CaseRef(case_id=case_id), metadata=as_creditor(creditor)
        )
        assert quote.provider_id == provider_id
        await self.bidding.AcceptAssignment(
            pb.CaseRef(case_id=case_id), metadata=as_provider(provider_id)
        )

    async def events(self) -> list[tuple[str, EventEnvelope]]:
        """Every event matching wrote to its outbox, oldest first."""
        async with self.database.unit_of_work() as uow:
            rows = await uow.session.execute(
                select(outbox.c.topic, outbox.c.payload).order_by(outbox.c.id)
            )
            found = []
            for topic, payload in rows:
                envelope = EventEnvelope()
                envelope.ParseFromString(payload)
                found.append((topic, envelope))
            return found

    async def event_counts(self) -> Counter[str]:
        return Counter(topic for topic, _ in await self.events())

    async def payloads(self, topic: str, message_type: type[Message]) -> list[Message]:
        found = []
        for t, envelope in await self.events():
            if t == topic:
                message = message_type()
                envelope.payload.Unpack(message)
                found.append(message)
        return found


@asynccontextmanager
async def running_matching(
    url: str, clock: ManualClock | None = None, config: MatchingConfig = CONFIG
) -> AsyncIterator[Harness]:
    """Serve matching's gRPC APIs on a free local port against the given database."""
    clock = clock or ManualClock(START)
    database = Database.connect(url, pool_size=4)
    units = unit_of_work_factory(database)
    server = GrpcServer(
        "127.0.0.1:0",
        SERVICES,
        tls=platform_pki().material("matching"),
        verifier=identity_keys().verifier("matching"),
    )
    pb_grpc.add_BiddingServiceServicer_to_server(
        BiddingApi(units, clock, config, watch_poll_seconds=0.05), server.server
    )
    pb_grpc.add_QuoteServiceServicer_to_server(QuoteApi(units, clock, config), server.server)
    pb_grpc.add_ProviderDirectoryServiceServicer_to_server(
        ProviderDirectoryApi(units, clock), server.server
    )
    await server.start()
    channel = platform_pki().channel(f"127.0.0.1:{server.port}", "matching")
    try:
        yield Harness(
            url=url,
            database=database,
            clock=clock,
            consumers=CaseFactConsumers(clock, config),
            timers=TimerLoop(units, clock, config, poll_seconds=0.05),
            bidding=pb_grpc.BiddingServiceStub(channel),
            quotes=pb_grpc.QuoteServiceStub(channel),
            directory=pb_grpc.ProviderDirectoryServiceStub(channel),
        )
    finally:
        await channel.close()
        await server.stop(0)
        await database.dispose()
