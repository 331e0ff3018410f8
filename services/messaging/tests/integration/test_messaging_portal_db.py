"""The debtor portal on the real stack: PortalService and DebtorActionService served over mutual
TLS on messaging's PostgreSQL, reading the claim from intake and how to pay from settlement (both
served in-process); a link locks after five wrong answers even when guessed at once; a session
opens one case only; the facts land in the outbox in the same transaction as the plan."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import grpc
import pytest
from sqlalchemy import select

from messaging.domain import portal_links
from messaging.domain.instalments import Period, PlanState, Proposal
from messaging.entrypoints import debtor_action_api, portal_api
from messaging.service_layer import debtor_actions, plan_lifecycle
from messaging.service_layer.portal import PortalSources
from recouvra.intake.v1 import intake_pb2
from recouvra.messaging.v1 import portal_pb2 as pb
from recouvra.messaging.v1 import portal_pb2_grpc
from recouvra_shared.db import outbox
from recouvra_shared.errors import StateConflict
from recouvra_shared.grpc import GrpcServer
from services.intake.tests.integration.intake_harness import company, invoice
from tests.support.identity import as_person, as_service, identity_keys
from tests.support.pki import platform_pki
from tests.support.stack import Stack

from .messaging_harness import Platform, grpc_code, running_platform

pytestmark = pytest.mark.integration

SECRET = b"portal-secret-for-tests-0123456789"
GATEWAY = as_service("messaging", "gateway")


class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Portal:
    platform: Platform
    debtor: portal_pb2_grpc.PortalServiceStub
    parties: portal_pb2_grpc.DebtorActionServiceStub


@pytest.fixture
async def portal(
    stack: Stack, make_database: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[Portal]:
    async with running_platform(stack, make_database, tmp_path) as platform:
        sources = platform.dispatcher.sources
        server = GrpcServer(
            "127.0.0.1:0",
            [portal_api.SERVICE_NAME, debtor_action_api.SERVICE_NAME],
            tls=platform_pki().material("messaging"),
            verifier=identity_keys().verifier("messaging"),
        )
        portal_sources = PortalSources(
            cases=sources.cases, payments=sources.payments, documents=platform.documents
        )
        portal_api.register(
            portal_api.PortalApi(platform.units, portal_sources, WallClock(), lambda: SECRET)
        )(server.server)
        debtor_action_api.register(
            debtor_action_api.DebtorActionApi(platform.units, WallClock(), portal_sources)
        )(server.server)
        await server.start()
        channel = platform_pki().channel(f"127.0.0.1:{server.port}", "messaging")
        try:
            yield Portal(
                platform,
                portal_pb2_grpc.PortalServiceStub(channel),
                portal_pb2_grpc.DebtorActionServiceStub(channel),
            )
        finally:
            await channel.close()
            await server.stop(0)


async def submitted(portal: Portal, number: str, creditor: str = "creditor-1") -> str:
    """A case submitted to intake, and messaging told of it as its consumer would."""
    reply = await portal.platform.intake.SubmitCase(
        intake_pb2.SubmitCaseRequest(
            creditor_id=creditor,
            debtor=company(email=f"{number.lower()}@debtor.example"),
            invoices=[invoice(number, "1200.00")],
        ),
        metadata=as_person("intake", "creditor", creditor),
    )
    async with portal.platform.units() as uow:
        await plan_lifecycle.case_submitted(
            uow, case_id=reply.case_id, creditor_id=creditor, debtor_key=number, region="FR-IDF"
        )
        await uow.commit()
    return str(reply.case_id)


def link(case_id: str) -> str:
    return portal_links.sign(case_id, datetime.now(UTC) + timedelta(days=30), SECRET)


async def opened(portal: Portal, case_id: str, answer: str, token: str = "") -> str:
    reply = await portal.debtor.OpenPortal(
        pb.OpenPortalRequest(token=token or link(case_id), second_factor=answer),
        metadata=GATEWAY,
    )
    return str(reply.session)


async def test_the_debtor_sees_intakes_amounts_and_settlements_way_to_pay(portal: Portal) -> None:
    number = f"F-{uuid.uuid4().hex[:6]}"
    case_id = await submitted(portal, number)
    with pytest.raises(grpc.aio.AioRpcError) as wrong:
        await opened(portal, case_id, "99999")
    assert grpc_code(wrong.value) is grpc.StatusCode.PERMISSION_DENIED
    session = await opened(portal, case_id, "75002")  # the debtor's postal code
    claim = await portal.debtor.GetClaim(pb.GetClaimRequest(session=session), metadata=GATEWAY)
    assert [i.number for i in claim.invoices] == [number]
    assert claim.principal.minor_units == 120_000
    assert claim.other_sums.minor_units == 4_000  # the recovery indemnity
    assert claim.total.minor_units == 124_000 + claim.interest.minor_units
    assert claim.how_to_pay.iban == "FR7630006000011234567890189"
    assert claim.how_to_pay.reference.startswith("RF")
    assert claim.how_to_pay.amount.minor_units == claim.total.minor_units
    assert claim.how_to_pay.epc_qr_payload.startswith("BCD\n")


async def test_a_call_not_from_the_gateway_is_refused(portal: Portal) -> None:
    case_id = await submitted(portal, f"F-{uuid.uuid4().hex[:6]}")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await portal.debtor.OpenPortal(
            pb.OpenPortalRequest(token=link(case_id), second_factor="75002"),
            metadata=as_service("messaging", "matching"),
        )
    assert grpc_code(refused.value) is grpc.StatusCode.PERMISSION_DENIED


async def test_guesses_made_at_once_still_lock_the_link_after_five(portal: Portal) -> None:
    case_id = await submitted(portal, f"F-{uuid.uuid4().hex[:6]}")
    token = link(case_id)
    guesses = await asyncio.gather(
        *(opened(portal, case_id, f"0{n:04d}", token) for n in range(8)), return_exceptions=True
    )
    assert all(grpc_code(g) is grpc.StatusCode.PERMISSION_DENIED for g in guesses)
    with pytest.raises(grpc.aio.AioRpcError) as locked:
        await opened(portal, case_id, "75002", token)
    assert "locked" in str(locked.value.details())
    # A new letter carries a new link, which opens with the right answer.
    await asyncio.sleep(1.1)  # a link's expiry is in seconds: the next one differs
    assert await opened(portal, case_id, "75002")


async def test_a_session_for_one_case_opens_nothing_of_another(portal: Portal) -> None:
    first, second = f"A-{uuid.uuid4().hex[:6]}", f"B-{uuid.uuid4().hex[:6]}"
    case_a = await submitted(portal, first)
    case_b = await submitted(portal, second, creditor="creditor-2")
    with pytest.raises(grpc.aio.AioRpcError):  # B's invoice does not open A's link
        await opened(portal, case_a, second)
    session_a = await opened(portal, case_a, first)
    today = datetime.now(UTC).date()
    plan = await portal.debtor.ProposePlan(
        pb.ProposePlanRequest(
            session=session_a,
            count=3,
            first_due_on=(today + timedelta(days=10)).isoformat(),
            period="monthly",
        ),
        metadata=GATEWAY,
    )
    assert plan.state == "agreed"
    assert sum(i.amount.minor_units for i in plan.instalments) == plan.total.minor_units
    for forged in (session_a.replace(case_a, case_b), link(case_b)):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await portal.debtor.GetClaim(pb.GetClaimRequest(session=forged), metadata=GATEWAY)
        assert grpc_code(refused.value) is grpc.StatusCode.PERMISSION_DENIED
    session_b = await opened(portal, case_b, second)
    claim_b = await portal.debtor.GetClaim(pb.GetClaimRequest(session=session_b), metadata=GATEWAY)
    assert (claim_b.case_id, list(claim_b.plans)) == (case_b, [])
    # The creditor of B sees no plan of A; A's creditor sees it.
    with pytest.raises(grpc.aio.AioRpcError) as foreign:
        await portal.parties.ListDebtorActions(
            pb.ListDebtorActionsRequest(case_id=case_a),
            metadata=as_person("messaging", "creditor", "creditor-2"),
        )
    assert grpc_code(foreign.value) is grpc.StatusCode.NOT_FOUND
    mine = await portal.parties.ListDebtorActions(
        pb.ListDebtorActionsRequest(case_id=case_a),
        metadata=as_person("messaging", "creditor", "creditor-1"),
    )
    assert [p.plan_id for p in mine.plans] == [plan.plan_id]


async def test_plans_payments_and_their_facts_on_postgresql(portal: Portal) -> None:
    units = portal.platform.units
    now = datetime.now(UTC)
    proposal = Proposal(90_000, "EUR", 3, now.date() + timedelta(days=1), Period.MONTHLY)
    async with units() as uow:
        plan = await debtor_actions.propose_plan(
            uow,
            case_id="case-db",
            creditor_id="creditor-1",
            proposal=proposal,
            proposed_by="debtor",
            now=now,
        )
    async with units() as uow:
        with pytest.raises(StateConflict):  # the unique index, even past the use case's check
            await uow.instalments.add(replace(plan, plan_id=str(uuid.uuid4())))
    for payment in ("pay-1", "pay-1", "pay-2"):
        async with units() as uow:
            await debtor_actions.payment_towards_plan(
                uow, case_id="case-db", payment_id=payment, amount_minor=30_000, now=now
            )
            await uow.commit()
    async with units() as uow:
        (stored,) = await uow.instalments.of_case("case-db")
        topics = list(
            await uow.session.scalars(
                select(outbox.c.topic).where(outbox.c.key == "case-db").order_by(outbox.c.id)
            )
        )
    assert stored.state is PlanState.AGREED
    assert stored.paid_minor == 60_000  # pay-1 redelivered counts once
    assert stored.instalments == plan.instalments
    # Two instalments covered: the third is judged the day after its grace (5 days) ends.
    third = stored.instalments[2].due_on
    assert stored.check_at == datetime.combine(third + timedelta(days=6), time(), UTC)
    assert topics == ["messaging.plan-proposed.v1", "messaging.plan-agreed.v1"]
    async with units() as uow:
        due = await uow.instalments.next_due(stored.check_at or now)
    assert due is not None
    assert due.plan_id == plan.plan_id
