"""SQL for providers and creditors: profiles, standing bids, policies and measured records.

What every auction reads of the marketplace (the active providers, their rules, a creditor's
policy, a segment's records) is read once per unit of work and kept for its length, changed by
its own writes: a consumer handles a whole batch of cases in one transaction, and each case
used to read the same rows again. Another transaction's change is seen from the next unit of
work on, as if this one had begun a moment earlier.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from matching.adapters.orm import (
    auto_bid_rules,
    creditor_policies,
    provider_performance,
    providers,
)
from matching.domain import events
from matching.domain.auction import AutoBidRule, Performance
from matching.domain.provider_records import ProviderRecord
from matching.domain.providers import CreditorPolicy, Provider, ProviderKind


def as_entered(stored: Decimal) -> Decimal:
    """A percentage without the zeros NUMERIC(5,2) pads it with: 12.00 reads back as 12."""
    value = Decimal(stored)
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


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


class SqlProviders:
    """Provider profiles, one row each."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._active: list[Provider] | None = None

    async def get(self, provider_id: str) -> Provider | None:
        """One provider, or None."""
        row = (
            await self.session.execute(
                select(providers).where(providers.c.provider_id == provider_id)
            )
        ).first()
        return None if row is None else _provider(row)

    async def with_siren(self, siren: str) -> Provider | None:
        """The provider registered under a SIREN, or None."""
        row = (
            await self.session.execute(select(providers).where(providers.c.siren == siren))
        ).first()
        return None if row is None else _provider(row)

    async def save(self, provider: Provider) -> None:
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
        self._active = None
        await self.session.execute(
            stmt.on_conflict_do_update(index_elements=[providers.c.provider_id], set_=values)
        )

    async def lock(self, provider_id: str) -> Provider | None:
        """A provider, locked so that two cases cannot take its last free slot at once."""
        row = (
            await self.session.execute(
                select(providers).where(providers.c.provider_id == provider_id).with_for_update()
            )
        ).first()
        return None if row is None else _provider(row)

    async def active(self) -> list[Provider]:
        """Every provider that takes cases, in id order (read once per unit of work)."""
        if self._active is None:
            rows = await self.session.execute(
                select(providers).where(providers.c.active).order_by(providers.c.provider_id)
            )
            self._active = [_provider(r) for r in rows]
        return list(self._active)


class SqlCreditorPolicies:
    """Creditor policies, one row each."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._read: dict[tuple[str, int], CreditorPolicy] = {}

    async def get(self, creditor_id: str, default_window_days: int) -> CreditorPolicy:
        """The creditor's policy, or the platform defaults (read once per unit of work)."""
        key = (creditor_id, default_window_days)
        if key not in self._read:
            self._read[key] = await self._get(creditor_id, default_window_days)
        return self._read[key]

    async def _get(self, creditor_id: str, default_window_days: int) -> CreditorPolicy:
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

    async def save(self, policy: CreditorPolicy) -> None:
        """Store a creditor's policy."""
        values = {
            "creditor_id": policy.creditor_id,
            "max_fee_percent": policy.max_fee_percent,
            "auto_accept_below_percent": policy.auto_accept_below_percent,
            "window_days": policy.window_days,
            "excluded_providers": sorted(policy.excluded_providers),
        }
        self._read.clear()
        await self.session.execute(
            insert(creditor_policies)
            .values(**values)
            .on_conflict_do_update(index_elements=[creditor_policies.c.creditor_id], set_=values)
        )


class SqlAutoBidRules:
    """Auto-bid rules, one row per provider and rule name, criteria as JSON."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._all: dict[str, list[AutoBidRule]] | None = None

    async def save(self, name: str, rule: AutoBidRule, now: datetime) -> None:
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
        self._all = None
        await self.session.execute(
            insert(auto_bid_rules)
            .values(**values)
            .on_conflict_do_update(
                index_elements=[auto_bid_rules.c.provider_id, auto_bid_rules.c.name], set_=values
            )
        )

    async def of_providers(self, provider_ids: Iterable[str]) -> dict[str, list[AutoBidRule]]:
        """The standing rules of the given providers (every active provider's rules are read
        once per unit of work)."""
        if self._all is None:
            # Every active provider, with its rules if it has any (an outer join: a provider
            # without rules is known to have none).
            rows = await self.session.execute(
                select(providers.c.provider_id.label("active_id"), auto_bid_rules)
                .select_from(
                    providers.outerjoin(
                        auto_bid_rules, auto_bid_rules.c.provider_id == providers.c.provider_id
                    )
                )
                .where(providers.c.active)
                .order_by(providers.c.provider_id, auto_bid_rules.c.name)
            )
            self._all = {}
            for row in rows:
                kept = self._all.setdefault(row.active_id, [])
                if row.provider_id is not None:
                    kept.append(_rule_of(row))
        wanted = set(provider_ids)
        missing = wanted - self._all.keys()
        rules = {p: list(r) for p, r in self._all.items() if p in wanted and r}
        if missing:  # an inactive provider's rules: not kept, read as asked
            rules.update(await self._of(missing))
        return rules

    async def _of(self, provider_ids: Iterable[str]) -> dict[str, list[AutoBidRule]]:
        rows = await self.session.execute(
            select(auto_bid_rules)
            .where(auto_bid_rules.c.provider_id.in_(list(provider_ids)))
            .order_by(auto_bid_rules.c.provider_id, auto_bid_rules.c.name)
        )
        rules: dict[str, list[AutoBidRule]] = {}
        for row in rows:
            rules.setdefault(row.provider_id, []).append(_rule_of(row))
        return rules

    async def named(self, provider_id: str) -> list[tuple[str, AutoBidRule]]:
        """One provider's rules with their names, by name."""
        rows = await self.session.execute(
            select(auto_bid_rules)
            .where(auto_bid_rules.c.provider_id == provider_id)
            .order_by(auto_bid_rules.c.name)
        )
        return [(row.name, _rule_of(row)) for row in rows]

    async def delete(self, provider_id: str, name: str) -> bool:
        """Remove one provider's rule; False when it has none of that name."""
        self._all = None
        result = await self.session.execute(
            delete(auto_bid_rules).where(
                auto_bid_rules.c.provider_id == provider_id, auto_bid_rules.c.name == name
            )
        )
        return bool(getattr(result, "rowcount", 0))


def _record_of(row: Any) -> ProviderRecord:
    return ProviderRecord(
        row.segment,
        row.finished,
        row.recovered,
        Decimal(row.amount_share_sum),
        row.days_to_recover_sum,
        row.offers,
        row.offers_in_time,
    )


def _rule_of(row: Any) -> AutoBidRule:
    c = row.criteria
    return AutoBidRule(
        provider_id=row.provider_id,
        fee_percent=as_entered(row.fee_percent),
        fixed_fee_minor=row.fixed_fee_minor,
        segments=frozenset(c["segments"]),
        min_trustscore=c["min_trustscore"],
        min_amount_minor=c["min_amount_minor"],
        max_amount_minor=c["max_amount_minor"],
        debtor_types=frozenset(c["debtor_types"]),
    )


class SqlProviderRecords:
    """Outcome sums per provider and segment, added to as cases move.

    What a unit of work adds is kept until its commit (`flush`), summed per provider and
    segment, and read back merged with the stored sums: the rows are written together at the
    end, in key order, so a provider that wins many cases at once has its row locked for the
    commit alone, not for the rest of each transaction (a batch of auctions, a timer's), which
    made the others wait for it under load."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._performance: dict[str, dict[str, Performance]] = {}  # as stored, per segment
        self._unwritten: dict[tuple[str, str], ProviderRecord] = {}

    async def performance(self, segment: str) -> tuple[dict[str, Performance], Performance]:
        """Each provider's outcomes in a segment, and the platform's over all providers (read
        once per unit of work and segment; this unit of work's outcomes added)."""
        if segment not in self._performance:
            self._performance[segment] = await self._read_performance(segment)
        own = dict(self._performance[segment])
        for (provider_id, of_segment), gained in self._unwritten.items():
            if of_segment == segment:
                before = own.get(provider_id, Performance())
                own[provider_id] = Performance(
                    before.finished + gained.finished, before.recovered + gained.recovered
                )
        platform = Performance(
            sum(p.finished for p in own.values()), sum(p.recovered for p in own.values())
        )
        return own, platform

    async def _read_performance(self, segment: str) -> dict[str, Performance]:
        rows = await self.session.execute(
            select(provider_performance).where(provider_performance.c.segment == segment)
        )
        return {r.provider_id: Performance(r.finished, r.recovered) for r in rows}

    async def record(self, provider_id: str, segment: str) -> ProviderRecord:
        """A provider's measured record in one segment (empty before its first case there)."""
        row = (
            await self.session.execute(
                select(provider_performance).where(
                    provider_performance.c.provider_id == provider_id,
                    provider_performance.c.segment == segment,
                )
            )
        ).first()
        stored = ProviderRecord(segment) if row is None else _record_of(row)
        return _plus(stored, self._unwritten.get((provider_id, segment)))

    async def of_provider(self, provider_id: str) -> list[ProviderRecord]:
        """A provider's records in every segment it has one in, by segment."""
        rows = await self.session.execute(
            select(provider_performance).where(provider_performance.c.provider_id == provider_id)
        )
        records = {row.segment: _record_of(row) for row in rows}
        for (of_provider, segment), gained in self._unwritten.items():
            if of_provider == provider_id:
                records[segment] = _plus(records.get(segment, ProviderRecord(segment)), gained)
        return [records[segment] for segment in sorted(records)]

    async def add_outcome(self, outcome: events.ProviderOutcome) -> None:
        """Add what one step of a case taught about a provider to its record in the segment
        (written at the commit)."""
        key = (outcome.provider_id, outcome.segment)
        gained = ProviderRecord(
            outcome.segment,
            outcome.finished,
            outcome.recovered,
            outcome.amount_share.quantize(SHARE_PLACES),
            outcome.days_to_recover,
            outcome.offers,
            outcome.offers_in_time,
        )
        self._unwritten[key] = _plus(gained, self._unwritten.get(key))

    async def flush(self) -> None:
        """Write the outcomes kept since the last flush: one upsert, rows in key order."""
        if not self._unwritten:
            return
        unwritten, self._unwritten = self._unwritten, {}
        stmt = insert(provider_performance).values(
            [
                {"provider_id": provider_id, "segment": segment, **_gains(gained)}
                for (provider_id, segment), gained in sorted(unwritten.items())
            ]
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[provider_performance.c.provider_id, provider_performance.c.segment],
                set_={name: provider_performance.c[name] + stmt.excluded[name] for name in GAINS},
            )
        )
        for _, segment in unwritten:
            self._performance.pop(segment, None)


# The columns of provider_performance an outcome adds to, and the precision of a share.
GAINS = (
    "finished",
    "recovered",
    "amount_share_sum",
    "days_to_recover_sum",
    "offers",
    "offers_in_time",
)
SHARE_PLACES = Decimal("0.000001")


def _gains(record: ProviderRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in GAINS}


def _plus(record: ProviderRecord, gained: ProviderRecord | None) -> ProviderRecord:
    """A record with what was gained since added to it."""
    if gained is None:
        return record
    return ProviderRecord(
        record.segment,
        **{name: getattr(record, name) + getattr(gained, name) for name in GAINS},
    )
