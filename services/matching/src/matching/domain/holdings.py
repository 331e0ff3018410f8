"""Who holds a case: the offer to the quoted provider, its exclusive window, the actions it
reports, extensions, and the recall when the window ends or it gives the case back."""

from __future__ import annotations

from contextlib import suppress
from datetime import date, datetime, timedelta

from matching.domain import events
from matching.domain.activity import ActionKind, ActionReport
from matching.domain.case_state import Assignment, Holding
from matching.domain.errors import NO_SUCH_CASE, NotFound, StateConflict
from matching.domain.rounds import AuctionRounds
from matching.domain.rules import MatchingRules
from matching.domain.status import HELD, Status


class Holdings(AuctionRounds):
    """The aggregate's holdings: what the offered provider and the holder change.

    Built on the rounds: a decline quotes the next offer, a recall ends the round.
    """

    def _offered_to(self, provider_id: str) -> Assignment:
        if self.status is not Status.OFFERED or self.assignment is None:
            raise NotFound(NO_SUCH_CASE)
        if self.assignment.provider_id != provider_id:
            raise NotFound(NO_SUCH_CASE)
        return self.assignment

    def provider_accepts(self, provider_id: str, now: datetime) -> None:
        """The provider takes the case: its exclusive window starts now."""
        assignment = self._offered_to(provider_id)
        assignment.started_at = now
        assignment.window_ends_at = now + timedelta(days=self.window_days)
        self.status = Status.ASSIGNED
        self.past_holders.append(provider_id)
        self.holdings.append(
            Holding(
                self.round,
                provider_id,
                assignment.fee_percent,
                assignment.fixed_fee_minor,
                now,
                fee_base=assignment.fee_base,
            )
        )
        self._outcome(provider_id, offers=1, offers_in_time=1)
        self.pending.append(
            events.CaseAssigned(
                self.case.case_id,
                self.round,
                provider_id,
                assignment.fee_percent,
                assignment.fixed_fee_minor,
                now,
                assignment.window_ends_at,
                assignment.fee_base,
            )
        )

    def provider_declines(
        self,
        provider_id: str,
        now: datetime,
        rules: MatchingRules,
        *,
        in_time: bool = True,
    ) -> None:
        """The provider turns the case down (or let the deadline pass): the next offer is quoted."""
        self._offered_to(provider_id)
        self._outcome(provider_id, offers=1, offers_in_time=int(in_time))
        self.passed.append(provider_id)
        self.released.append(provider_id)
        self.assignment = None
        self._quote_next(now, rules)

    def extend_window(self, provider_id: str, now: datetime, rules: MatchingRules) -> datetime:
        """A promise to pay or a partial payment buys more time, up to the platform's cap."""
        assignment = self._held_by(provider_id)
        assert assignment.window_ends_at is not None
        room = rules.max_extension - assignment.extended_by
        if room <= timedelta(0):
            raise StateConflict("window: already extended to the maximum")
        step = min(rules.extension, room)
        assignment.extended_by += step
        assignment.window_ends_at += step
        self.pending.append(
            events.WindowExtended(
                self.case.case_id, assignment.round, provider_id, assignment.window_ends_at
            )
        )
        return assignment.window_ends_at

    def held_by(self, provider_id: str) -> Assignment:
        """The assignment this provider holds now; NotFound for anyone else."""
        return self._held_by(provider_id)

    def _held_by(self, provider_id: str) -> Assignment:
        if self.status is not Status.ASSIGNED or self.assignment is None:
            raise NotFound(NO_SUCH_CASE)
        if self.assignment.provider_id != provider_id:
            raise NotFound(NO_SUCH_CASE)
        return self.assignment

    def release(self, provider_id: str, now: datetime, rules: MatchingRules) -> None:
        """The provider gives the case back early: recalled and rotated like an expiry."""
        self._held_by(provider_id)
        self._recall(now, rules, reason="released by provider")

    def report_action(
        self,
        provider_id: str,
        action_id: str,
        report: ActionReport,
        now: datetime,
        rules: MatchingRules,
    ) -> None:
        """Record what the holder did; a promise to pay also extends the window while it can."""
        assignment = self._held_by(provider_id)
        self._record_action(assignment, action_id, report)
        if report.kind is ActionKind.PROMISE_TO_PAY:
            with suppress(StateConflict):
                self.extend_window(provider_id, now, rules)

    def promise_to_pay(
        self, provider_id: str, action_id: str, now: datetime, rules: MatchingRules
    ) -> None:
        """The short form of a reported promise: refused once the window is at its cap."""
        self.extend_window(provider_id, now, rules)
        assignment = self._held_by(provider_id)
        self._record_action(assignment, action_id, ActionReport(ActionKind.PROMISE_TO_PAY, now, ""))

    def _record_action(self, assignment: Assignment, action_id: str, report: ActionReport) -> None:
        self.pending.append(
            events.ActionReported(
                self.case.case_id,
                assignment.round,
                assignment.provider_id,
                action_id,
                report.kind.value,
                report.occurred_at,
                report.note,
                report.promised_amount_minor,
                report.promised_on,
            )
        )

    def holding_on(self, day: date, prefer: str | None = None) -> Holding | None:
        """Who held the case that day; on a handover day the outgoing holder, unless preferred."""
        covering = [h for h in self.holdings if h.covers(day)]
        for holding in covering:
            if holding.provider_id == prefer:
                return holding
        return covering[0] if covering else None

    def ever_held_by(self, provider_id: str) -> bool:
        """True when the provider held the case in some round (now or before)."""
        return any(h.provider_id == provider_id for h in self.holdings)

    def _current_holding(self) -> Holding | None:
        if self.holdings and self.holdings[-1].ended_at is None:
            return self.holdings[-1]
        return None

    def accept_deadline_passed(self, now: datetime, rules: MatchingRules) -> None:
        """The offered provider let its deadline pass: a decline that counts as late."""
        assignment = self.assignment
        if self.status is Status.OFFERED and assignment is not None and now >= assignment.accept_by:
            self.provider_declines(assignment.provider_id, now, rules, in_time=False)

    def window_ended(self, now: datetime, rules: MatchingRules) -> None:
        """The holder's window is over: the case is recalled and rotates."""
        if self.status is Status.ASSIGNED and self.assignment is not None:
            assert self.assignment.window_ends_at is not None
            if now >= self.assignment.window_ends_at:
                self._recall(now, rules, reason="window expired")

    def _recall(self, now: datetime, rules: MatchingRules, *, reason: str) -> None:
        assert self.assignment is not None
        provider_id = self.assignment.provider_id
        self.released.append(provider_id)
        current = self._current_holding()
        if current is not None:
            self._end_holding(current, now, recovered=False)
        self.pending.append(events.CaseRecalled(self.case.case_id, self.round, provider_id, reason))
        self.pending.append(events.CaseRotated(self.case.case_id, self.round, provider_id))
        self._end_round_without_holder(now, rules, reason=reason)

    def _close(self, reason: str, now: datetime) -> None:
        """Matching stops for the case; whoever held it loses it, uncounted."""
        if self.status in (Status.CLOSED, Status.EXHAUSTED, Status.DECLINED):
            return
        if self.status in HELD and self.assignment is not None:
            self.released.append(self.assignment.provider_id)
        # A holder that did not bring the case to an end is neither praised nor blamed for it.
        current = self._current_holding()
        if current is not None:
            current.ended_at = now
        self.status = Status.CLOSED
        self.closed_by = reason
        self.awaiting = None
        self.pending.append(events.CaseClosed(self.case.case_id, reason))
