"""What a creditor does: reads the quote on its case, accepts or declines it, sets its policy
and follows what the holders report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from matching.domain import events
from matching.domain.case_matching import CaseMatching
from matching.domain.clock import Clock
from matching.domain.commands import AnswerQuote, SetCreditorPolicy
from matching.domain.errors import NO_SUCH_CASE, NotFound, StateConflict
from matching.domain.provider_records import ProviderRecord, ProviderResult, results_by_provider
from matching.domain.providers import CreditorPolicy, Provider, new_creditor_policy
from matching.domain.rules import MatchingConfig
from matching.domain.status import Status
from matching.service_layer import awaiting_provider
from matching.service_layer.auction_rounds import save_and_publish
from matching.service_layer.unit_of_work import MatchingUnitOfWork


@dataclass(frozen=True)
class QuoteView:
    """The case's matching with who is quoted and that provider's record in the segment."""

    matching: CaseMatching
    provider: Provider | None
    record: ProviderRecord | None


async def _creditors_case(uow: MatchingUnitOfWork, creditor_id: str, case_id: str) -> CaseMatching:
    matching = await uow.cases.get(case_id)
    if matching is None or matching.case.creditor_id != creditor_id:
        raise NotFound(NO_SUCH_CASE)
    return matching


async def _quote_view(uow: MatchingUnitOfWork, matching: CaseMatching) -> QuoteView:
    quote = matching.quote
    if quote is None:
        return QuoteView(matching, None, None)
    return QuoteView(
        matching,
        await uow.providers.get(quote.provider_id),
        await uow.records.record(quote.provider_id, matching.case.segment),
    )


async def quote(creditor_id: str, case_id: str, uow: MatchingUnitOfWork) -> QuoteView:
    """The case's matching as its creditor sees it, with the quoted provider's record."""
    return await _quote_view(uow, await _creditors_case(uow, creditor_id, case_id))


# A creditor's dashboard reads at most this many of its cases (the newest ids are not favoured:
# case ids are random; a creditor with more sees a sample, said by `cases_read`).
PROVIDER_RESULTS_CASES = 5_000


async def provider_results(
    creditor_id: str, uow: MatchingUnitOfWork
) -> tuple[list[tuple[ProviderResult, str]], int]:
    """Per provider that held one of the creditor's cases: what it did on them, with the
    provider's name; and how many of the creditor's cases were read."""
    matchings = await uow.cases.of_creditor(creditor_id, PROVIDER_RESULTS_CASES)
    # Money is summed in euros: a case in another currency is left out of the sums.
    results = results_by_provider(
        [h for m in matchings if m.case.currency == "EUR" for h in m.holdings]
    )
    named: list[tuple[ProviderResult, str]] = []
    for result in results:
        provider = await uow.providers.get(result.provider_id)
        named.append((result, provider.name if provider is not None else result.provider_id))
    return named, len(matchings)


async def answer_quote(
    command: AnswerQuote, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> QuoteView:
    """The creditor accepts (the provider is asked next) or declines the quote."""
    matching = await _creditors_case(uow, command.creditor_id, command.case_id)
    if matching.quote is None:
        raise StateConflict("quote: no quote waiting for an answer")
    now = clock.now()
    if not command.accept:
        matching.decline_quote()
    else:
        answered = matching.quote
        await _pass_over_unavailable(uow, matching, now, config)
        # When another offer had to be quoted instead, the creditor answers that one afresh.
        if matching.quote is answered:
            matching.accept_quote(now, config.rules)
    await save_and_publish(uow, matching, now, config)
    return await _quote_view(uow, matching)


async def _pass_over_unavailable(
    uow: MatchingUnitOfWork, matching: CaseMatching, now: datetime, config: MatchingConfig
) -> None:
    """Capacity is checked again, under a lock, at the moment a provider would hold the case."""
    while matching.status is Status.QUOTED and matching.quote is not None:
        provider = await uow.providers.lock(matching.quote.provider_id)
        held = (await uow.cases.held_counts()).get(matching.quote.provider_id, 0)
        if provider is not None and provider.active and held < provider.capacity:
            return
        matching.pass_over_quoted(now, config.rules)


async def set_policy(
    command: SetCreditorPolicy, uow: MatchingUnitOfWork, *, clock: Clock, config: MatchingConfig
) -> CreditorPolicy:
    """Store the creditor's maximum fee, auto-accept fee, window and exclusions; its cases
    waiting for a provider are looked at again (it may have stopped excluding one)."""
    policy = new_creditor_policy(
        creditor_id=command.creditor_id,
        max_fee_percent=command.max_fee_percent,
        auto_accept_below_percent=command.auto_accept_below_percent,
        window_days=command.window_days,
        excluded_providers=command.excluded_providers,
        bounds=config.bounds,
        default_window_days=config.default_window_days,
    )
    await uow.policies.save(policy)
    await awaiting_provider.policy_changed(command.creditor_id, uow, clock.now())
    return policy


async def case_activity(
    creditor_id: str, case_id: str, uow: MatchingUnitOfWork
) -> tuple[CaseMatching, list[events.ActionReported]]:
    """The creditor's case with every action reported on it."""
    matching = await _creditors_case(uow, creditor_id, case_id)
    return matching, await uow.actions.of_case(case_id)
