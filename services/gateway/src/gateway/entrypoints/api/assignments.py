"""The cases a provider holds: its answers to offers, the actions and payments it reports, over
matching's BiddingService, always as the provider."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from gateway.adapters.matching import BiddingClient
from gateway.entrypoints.api.deps import Bidding, CaseId, CurrentProvider, Intake
from gateway.entrypoints.api.idempotency import Idempotent
from gateway.entrypoints.api.problems import problem_responses
from gateway.schemas.assignments import (
    ActionIn,
    ActionReported,
    AssignmentView,
    HeldCaseList,
    PaymentIn,
    PaymentReported,
)
from gateway.schemas.case_file import CaseFileView
from gateway.schemas.payment_claims import PaymentClaimList
from recouvra_shared.context import Caller

router = APIRouter(
    prefix="/v1/provider/assignments", tags=["assignments"], responses=problem_responses(422)
)

PROVIDER_ERRORS = problem_responses(401, 403, 404, 409, 422, 503)
AssignmentAnswer = Callable[[BiddingClient, Caller, str], Awaitable[AssignmentView]]


def _assignment_route(
    path: str, name: str, answer: AssignmentAnswer, summary: str, doc: str
) -> None:
    async def route(
        case_id: CaseId, provider: CurrentProvider, bidding: Bidding, once: Idempotent
    ) -> JSONResponse:
        return await once.relay_keyed(
            provider.provider_id,
            {},
            status.HTTP_200_OK,
            lambda: answer(bidding, provider.caller, case_id),
        )

    route.__doc__ = doc
    route.__name__ = name
    router.add_api_route(
        f"/{{case_id}}/{path}",
        route,
        methods=["POST"],
        summary=summary,
        response_model=AssignmentView,
        responses=PROVIDER_ERRORS,
    )


_assignment_route(
    "acceptance",
    "assignment_AcceptAssignment",
    BiddingClient.accept_assignment,
    "Accept the case offered to you: your exclusive window starts",
    "Answer within the agreed time, or the next offer is quoted.",
)
_assignment_route(
    "decline",
    "assignment_DeclineAssignment",
    BiddingClient.decline_assignment,
    "Decline the case offered to you: the next offer is quoted",
    "Declining costs nothing but the case.",
)
_assignment_route(
    "promise-to-pay",
    "assignment_ReportPromiseToPay",
    BiddingClient.report_promise_to_pay,
    "Report a promise to pay or a partial payment: your window is extended",
    "Extended up to the platform's cap; 409 once the cap is reached.",
)
_assignment_route(
    "release",
    "assignment_ReleaseCase",
    BiddingClient.release_case,
    "Give the case back early: it is recalled and rotates to another provider",
    "Your access to the case's data ends at once.",
)


@router.get(
    "",
    summary="The cases you hold, and those you are asked to accept now",
    response_model=HeldCaseList,
    responses=problem_responses(401, 403, 404, 503),
)
async def list_assignments(provider: CurrentProvider, bidding: Bidding) -> HeldCaseList:
    """An offered case shows when to answer by (accept_by); an assigned one, when your window
    ends and how much was recovered so far."""
    return await bidding.assignments(provider.caller)


@router.get(
    "/{case_id}/case-file",
    summary="The full case file of a case you hold: whom to collect from, and what",
    response_model=CaseFileView,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_case_file(case_id: CaseId, provider: CurrentProvider, intake: Intake) -> CaseFileView:
    """The debtor's name, address, e-mail, phone and SIREN, the invoice lines and what is owed
    today, while you hold the case (from your acceptance until it is recalled, rotates or
    closes). Each read is recorded and shown to the creditor. 404 for a case you do not hold
    now, exactly like a case that does not exist."""
    return await intake.case_file(provider.caller, case_id)


@router.post(
    "/{case_id}/actions",
    summary="Report what you did on a case you hold: a letter, a call, a promise to pay...",
    status_code=status.HTTP_201_CREATED,
    response_model=ActionReported,
    responses=PROVIDER_ERRORS,
)
async def report_action(
    case_id: CaseId, body: ActionIn, provider: CurrentProvider, bidding: Bidding, once: Idempotent
) -> JSONResponse:
    """The creditor sees it on the case. A promise-to-pay also extends your window, up to the
    platform's cap. 404 for a case you do not hold, exactly like a case that does not exist."""
    action = body.checked()
    return await once.relay_keyed(
        provider.provider_id,
        body.model_dump(mode="json"),
        status.HTTP_201_CREATED,
        lambda: bidding.report_action(provider.caller, case_id, action),
    )


@router.post(
    "/{case_id}/payments",
    summary="Report money the debtor paid you on a case you hold: a claim until confirmed",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentReported,
    responses=PROVIDER_ERRORS,
)
async def report_payment(
    case_id: CaseId,
    body: PaymentIn,
    provider: CurrentProvider,
    bidding: Bidding,
    once: Idempotent,
) -> JSONResponse:
    """A claim (state "claimed"): it counts nowhere (not in what was recovered, not in the case's
    status, not in your record) until the creditor confirms it; one that settles in full then
    closes the case. Only while you hold the case, for a day within your current window: 404 for
    a case you do not hold now, exactly like a case that does not exist. The same reference twice
    is the same claim."""
    return await once.relay_keyed(
        provider.provider_id,
        body.model_dump(mode="json"),
        status.HTTP_201_CREATED,
        lambda: bidding.report_payment(provider.caller, case_id, body),
    )


@router.get(
    "/{case_id}/payments",
    summary="The payments you reported on a case, and the creditor's answer to each",
    response_model=PaymentClaimList,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def list_payment_claims(
    case_id: CaseId, provider: CurrentProvider, bidding: Bidding
) -> PaymentClaimList:
    """Each claim is claimed (waiting), confirmed (a payment now, credited to you) or disputed
    (with the creditor's reason). Also after the case left you; 404 for a case you never held."""
    return await bidding.payment_claims(provider.caller, case_id)
