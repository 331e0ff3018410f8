"""Reads and writes matching's state inside one unit of work."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from matching.adapters.orm import (
    auto_bid_rules,
    case_actions,
    case_facts,
    case_matchings,
    creditor_policies,
    provider_performance,
    providers,
    timers,
)
from matching.domain import events
from matching.domain.activity import ProviderRecord
from matching.domain.auction import AutoBidRule, Performance
from matching.domain.matching import HELD, CaseMatching, Status
from matching.domain.providers import CreditorPolicy, Provider, ProviderKind

_STATE = TypeAdapter(CaseMatching)


def as_entered(stored: Decimal) -> Decimal:
    """A percentage without the zeros NUMERIC(5,2) pads it with: 12.00 reads back as 12."""
    value = Decimal(stored)
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


_HELD = [s.value for s in HELD]


def _provider(row: Any) -> Provider:
    return Provider(
        provider_id=row.provider_id,
        name=row.name,
        kind=ProviderKind(row.kind),
        siren=row.siren,
        regions=frozenset(row.regions),
        serves_business=row.serves_business,
        serves_consumer=row.serves_consumer,
        min_amount_minor=row.min_amount_minor,
        max_amount_minor=row.max_amount_minor,
        judicial=row.judicial,
        capacity=row.capacity,
        active=row.active,
    )


class MatchingRepository:
    """Providers, policies, rules, performance and case matchings of matching's database."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- providers ---------------------------------------------------------------------------

    async def provider(self, provider_id: str) -> Provider | None:
        """One provider, or None."""
        row = (
            await self.session.execute(
                select(providers).where(providers.c.provider_id == provider_id)
            )
        ).first()
        return None if row is None else _provider(row)

    async def provider_with_siren(self, siren: str) -> Provider | None:
        """The provider registered under a SIREN, or None."""
        row = (
            await self.session.execute(select(providers).where(providers.c.siren == siren))
        ).first()
        return None if row is None else _provider(row)

    async def save_provider(self, provider: Provider) -> None:
        """Register a provider or update its profile."""
        values = {
            "provider_id": provider.provider_id,
            "name": provider.name,
            "kind": provider.kind.value,
            "siren": provider.siren,
            "regions": sorted(provider.regions),
            "serves_business": provider.serves_business,
            "serves_consumer": provider.serves_consumer,
            "min_amount_minor": provider.min_amount_minor,
            "max_amount_minor": provider.max_amount_minor,
            "judicial": provider.judicial,
            "capacity": provider.capacity,
            "active": provider.active,
        }
        stmt = insert(providers).values(**values)
        await self.session.execute(
            stmt.on_conflict_do_update(index_elements=[providers.c.provider_id], set_=values)
        )

    async def lock_provider(self, provider_id: str) -> Provider | None:
        """A provider, locked so that two cases cannot take its last free slot at once."""
        row = (
            await self.session.execute(
                select(providers).where(providers.c.provider_id == provider_id).with_for_update()
            )
        ).first()
        return None if row is None else _provider(row)

    async def active_providers(self) -> list[Provider]:
        """Every provider that takes cases, in id order."""
        rows = await self.session.execute(
            select(providers).where(providers.c.active).order_by(providers.c.provider_id)
        )
        return [_provider(r) for r in rows]

    async def cases_held(self) -> dict[str, int]:
        """How many cases each provider holds or is being offered right now."""
        rows = await self.session.execute(
            select(case_matchings.c.holder_provider_id, func.count())
            .where(case_matchings.c.status.in_(_HELD))
            .group_by(case_matchings.c.holder_provider_id)
        )
        return {provider_id: count for provider_id, count in rows if provider_id}

    # --- policies and rules ------------------------------------------------------------------

    async def policy(self, creditor_id: str, default_window_days: int) -> CreditorPolicy:
        """The creditor's policy, or the platform defaults."""
        row = (
            await self.session.execute(
                select(creditor_policies).where(creditor_policies.c.creditor_id == creditor_id)
            )
        ).first()
        if row is None:
            return CreditorPolicy(creditor_id, window_days=default_window_days)
        return CreditorPolicy(
            creditor_id=creditor_id,
            max_fee_percent=None
            if row.max_fee_percent is None
            else as_entered(row.max_fee_percent),
            auto_accept_below_percent=row.auto_accept_below_percent,
            window_days=row.window_days,
            excluded_providers=frozenset(row.excluded_providers),
        )

    async def save_policy(self, policy: CreditorPolicy) -> None:
        """Store a creditor's policy."""
        values = {
            "creditor_id": policy.creditor_id,
            "max_fee_percent": policy.max_fee_percent,
            "auto_accept_below_percent": policy.auto_accept_below_percent,
            "window_days": policy.window_days,
            "excluded_providers": sorted(policy.excluded_providers),
        }
        await self.session.execute(
            insert(creditor_policies)
            .values(**values)
            .on_conflict_do_update(index_elements=[creditor_policies.c.creditor_id], set_=values)
        )

    async def save_auto_bid_rule(self, name: str, rule: AutoBidRule, now: datetime) -> None:
        """Store a provider's rule under its name (same name replaces)."""
        values = {
            "provider_id": rule.provider_id,
            "name": name,
            "fee_percent": rule.fee_percent,
            "fixed_fee_minor": rule.fixed_fee_minor,
            "criteria": {
                "segments": sorted(rule.segments),
                "min_trustscore": rule.min_trustscore,
                "min_amount_minor": rule.min_amount_minor,
                "max_amount_minor": rule.max_amount_minor,
                "debtor_types": sorted(rule.debtor_types),
            },
            "updated_at": now,
        }
        await self.session.execute(
            insert(auto_bid_rules)
            .values(**values)
            .on_conflict_do_update(
                index_elements=[auto_bid_rules.c.provider_id, auto_bid_rules.c.name], set_=values
            )
        )

    async def auto_bid_rules(self, provider_ids: Iterable[str]) -> dict[str, list[AutoBidRule]]:
        """The standing rules of the given providers."""
        rows = await self.session.execute(
            select(auto_bid_rules)
            .where(auto_bid_rules.c.provider_id.in_(list(provider_ids)))
            .order_by(auto_bid_rules.c.provider_id, auto_bid_rules.c.name)
        )
        rules: dict[str, list[AutoBidRule]] = {}
        for row in rows:
            c = row.criteria
            rules.setdefault(row.provider_id, []).append(
                AutoBidRule(
                    provider_id=row.provider_id,
                    fee_percent=as_entered(row.fee_percent),
                    fixed_fee_minor=row.fixed_fee_minor,
                    segments=frozenset(c["segments"]),
                    min_trustscore=c["min_trustscore"],
                    min_amount_minor=c["min_amount_minor"],
                    max_amount_minor=c["max_amount_minor"],
                    debtor_types=frozenset(c["debtor_types"]),
                )
            )
        return rules

    # --- performance -------------------------------------------------------------------------

    async def performance(self, segment: str) -> tuple[dict[str, Performance], Performance]:
        """Each provider's outcomes in a segment, and the platform's over all providers."""
        rows = await self.session.execute(
            select(provider_performance).where(provider_performance.c.segment == segment)
        )
        own = {r.provider_id: Performance(r.finished, r.recovered) for r in rows}
        platform = Performance(
            sum(p.finished for p in own.values()), sum(p.recovered for p in own.values())
        )
        return own, platform

    async def provider_record(self, provider_id: str, segment: str) -> ProviderRecord:
        """A provider's measured record in one segment (empty before its first case there)."""
        row = (
            await self.session.execute(
                select(provider_performance).where(
                    provider_performance.c.provider_id == provider_id,
                    provider_performance.c.segment == segment,
                )
            )
        ).first()
        if row is None:
            return ProviderRecord(segment)
        return ProviderRecord(
            segment,
            row.finished,
            row.recovered,
            Decimal(row.amount_share_sum),
            row.days_to_recover_sum,
            row.offers,
            row.offers_in_time,
        )

    async def add_outcome(self, outcome: events.ProviderOutcome) -> None:
        """Add what one step of a case taught about a provider to its record in the segment."""
        gains = {
            "finished": outcome.finished,
            "recovered": outcome.recovered,
            "amount_share_sum": outcome.amount_share.quantize(Decimal("0.000001")),
            "days_to_recover_sum": outcome.days_to_recover,
            "offers": outcome.offers,
            "offers_in_time": outcome.offers_in_time,
        }
        stmt = insert(provider_performance).values(
            provider_id=outcome.provider_id, segment=outcome.segment, **gains
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[provider_performance.c.provider_id, provider_performance.c.segment],
                set_={name: provider_performance.c[name] + gain for name, gain in gains.items()},
            )
        )

    # --- actions -----------------------------------------------------------------------------

    async def save_action(self, action: events.ActionReported, reported_at: datetime) -> None:
        """Keep a reported action for the creditor's view of the case."""
        await self.session.execute(
            insert(case_actions).values(
                action_id=action.action_id,
                case_id=action.case_id,
                round=action.round,
                provider_id=action.provider_id,
                kind=action.kind,
                occurred_at=action.occurred_at,
                note=action.note,
                promised_amount_minor=action.promised_amount_minor,
                promised_on=action.promised_on,
                reported_at=reported_at,
            )
        )

    async def actions(self, case_id: str) -> list[events.ActionReported]:
        """Every action reported on a case, in the order they happened."""
        rows = await self.session.execute(
            select(case_actions)
            .where(case_actions.c.case_id == case_id)
            .order_by(case_actions.c.occurred_at, case_actions.c.reported_at)
        )
        return [
            events.ActionReported(
                r.case_id,
                r.round,
                r.provider_id,
                r.action_id,
                r.kind,
                r.occurred_at,
                r.note,
                r.promised_amount_minor,
                r.promised_on,
            )
            for r in rows
        ]

    # --- case facts and matchings ------------------------------------------------------------

    async def case_facts(self, case_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """What case-submitted and case-scored said of a case (locked until commit)."""
        row = (
            await self.session.execute(
                select(case_facts).where(case_facts.c.case_id == case_id).with_for_update()
            )
        ).first()
        return (None, None) if row is None else (row.submitted, row.scored)

    async def before_auction(self, case_id: str) -> dict[str, Any]:
        """What happened to a case before its auction opened (locked until commit)."""
        row = (
            await self.session.execute(
                select(case_facts.c.before_auction)
                .where(case_facts.c.case_id == case_id)
                .with_for_update()
            )
        ).first()
        found = None if row is None else row.before_auction
        return dict(found or {"withdrawn": False, "payments": []})

    async def save_case_fact(
        self, case_id: str, creditor_id: str, kind: str, facts: dict[str, Any]
    ) -> None:
        """Store what one of the two topics said of a case."""
        values = {"case_id": case_id, "creditor_id": creditor_id, kind: facts}
        update = {kind: facts} if kind == "scored" else {kind: facts, "creditor_id": creditor_id}
        await self.session.execute(
            insert(case_facts)
            .values(**values)
            .on_conflict_do_update(index_elements=[case_facts.c.case_id], set_=update)
        )

    async def get(self, case_id: str) -> CaseMatching | None:
        """A case's matching, locked until the unit of work ends."""
        row = (
            await self.session.execute(
                select(case_matchings.c.state)
                .where(case_matchings.c.case_id == case_id)
                .with_for_update()
            )
        ).first()
        return None if row is None else _STATE.validate_python(row.state)

    async def save(self, matching: CaseMatching, now: datetime) -> None:
        """Store a case's matching and (re)arm its timer at its next deadline."""
        state = _STATE.dump_python(matching, mode="json")
        state.pop("pending", None)
        state.pop("outcomes", None)
        values = {
            "case_id": matching.case.case_id,
            "creditor_id": matching.case.creditor_id,
            "status": matching.status.value,
            "round": matching.round,
            "holder_provider_id": matching.holder,
            "state": state,
            "updated_at": now,
        }
        await self.session.execute(
            insert(case_matchings)
            .values(**values)
            .on_conflict_do_update(index_elements=[case_matchings.c.case_id], set_=values)
        )
        deadline = matching.next_deadline()
        if deadline is None:
            await self.session.execute(delete(timers).where(timers.c.case_id == values["case_id"]))
        else:
            await self.session.execute(
                insert(timers)
                .values(case_id=values["case_id"], due_at=deadline)
                .on_conflict_do_update(index_elements=[timers.c.case_id], set_={"due_at": deadline})
            )

    async def held_by(self, provider_id: str) -> list[CaseMatching]:
        """The cases a provider holds or is being asked to accept."""
        rows = await self.session.execute(
            select(case_matchings.c.state)
            .where(
                case_matchings.c.holder_provider_id == provider_id,
                case_matchings.c.status.in_(_HELD),
            )
            .order_by(case_matchings.c.case_id)
        )
        return [_STATE.validate_python(r.state) for r in rows]

    async def open_auction_keys(self) -> set[tuple[str, int]]:
        """(case id, round) of every case in a bidding round, without loading their state."""
        rows = await self.session.execute(
            select(case_matchings.c.case_id, case_matchings.c.round).where(
                case_matchings.c.status == Status.BIDDING.value
            )
        )
        return {(r.case_id, r.round) for r in rows}

    async def matchings(self, case_ids: Iterable[str]) -> list[CaseMatching]:
        """Some cases' matchings, unlocked, by case id."""
        rows = await self.session.execute(
            select(case_matchings.c.state)
            .where(case_matchings.c.case_id.in_(list(case_ids)))
            .order_by(case_matchings.c.case_id)
        )
        return [_STATE.validate_python(r.state) for r in rows]

    async def open_auctions(self) -> list[CaseMatching]:
        """Every case in a bidding round."""
        rows = await self.session.execute(
            select(case_matchings.c.state)
            .where(case_matchings.c.status == Status.BIDDING.value)
            .order_by(case_matchings.c.case_id)
        )
        return [_STATE.validate_python(r.state) for r in rows]

    async def due_cases(self, now: datetime, limit: int) -> list[str]:
        """Cases whose timer has passed, oldest first."""
        rows = await self.session.execute(
            select(timers.c.case_id)
            .where(timers.c.due_at <= now)
            .order_by(timers.c.due_at)
            .limit(limit)
        )
        return [r.case_id for r in rows]

    async def claim_timer(self, case_id: str, now: datetime) -> bool:
        """Lock a due timer so that one worker fires it; False when gone, not due or taken."""
        row = (
            await self.session.execute(
                select(timers.c.case_id)
                .where(timers.c.case_id == case_id, timers.c.due_at <= now)
                .with_for_update(skip_locked=True)
            )
        ).first()
        return row is not None
