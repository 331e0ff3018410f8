"""The answer to a provider's payment claim: the creditor confirms or disputes it; settlement
will confirm the claims it matches to money received (its consumer is not wired yet: it calls
`confirm_payment` with `ConfirmedBy.SETTLEMENT`)."""

from __future__ import annotations

from matching.domain.case_matching import CaseMatching
from matching.domain.case_state import ConfirmedBy, PaymentClaim
from matching.domain.clock import Clock
from matching.domain.commands import ConfirmPayment, DisputePayment
from matching.domain.errors import NO_SUCH_CASE, NotFound
from matching.domain.rules import MatchingConfig
from matching.service_layer.auction_rounds import save_and_publish
from matching.service_layer.unit_of_work import MatchingUnitOfWork


async def _case_of(uow: MatchingUnitOfWork, case_id: str, creditor_id: str | None) -> CaseMatching:
    """The case; for a creditor, only its own (another's answers like a missing one)."""
    matching = await uow.cases.get(case_id)
    if matching is None or (creditor_id is not None and matching.case.creditor_id != creditor_id):
        raise NotFound(NO_SUCH_CASE)
    return matching


async def confirm_payment(
    command: ConfirmPayment, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> tuple[CaseMatching, PaymentClaim]:
    """The claim becomes a payment credited to its holder; one settling in full closes the case."""
    creditor = command.creditor_id if command.by is ConfirmedBy.CREDITOR else None
    matching = await _case_of(uow, command.case_id, creditor)
    now = clock.now()
    claim = matching.confirm_claim(command.claim_id, now, config.rules, by=command.by)
    await save_and_publish(uow, matching, now, config)
    return matching, claim


async def dispute_payment(
    command: DisputePayment, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> tuple[CaseMatching, PaymentClaim]:
    """The creditor disputes the claim: it counts nowhere and shows the creditor's reason."""
    matching = await _case_of(uow, command.case_id, command.creditor_id)
    now = clock.now()
    claim = matching.dispute_claim(command.claim_id, command.reason, now)
    await save_and_publish(uow, matching, now, config)
    return matching, claim
