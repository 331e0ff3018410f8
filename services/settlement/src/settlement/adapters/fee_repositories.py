"""Billing profiles, their audit and fee bookings in PostgreSQL, on a unit of work's session."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from settlement.adapters.fee_orm import (
    billing_changes,
    creditor_billing,
    fee_bookings,
    provider_billing,
)
from settlement.domain.billing import BillingChange, CreditorBilling, ProviderBilling, VatStatus
from settlement.domain.fee_postings import FeeBooking
from settlement.domain.fees import Attribution, FeeBase, FeeFigures, Source


class SqlBilling:
    """The provider_billing, creditor_billing and billing_changes tables."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def provider(self, provider_id: str) -> ProviderBilling | None:
        row = (
            await self.session.execute(
                select(provider_billing).where(provider_billing.c.provider_id == provider_id)
            )
        ).one_or_none()
        if row is None:
            return None
        return ProviderBilling(row.provider_id, VatStatus(row.vat_status), row.vat_number)

    async def creditor(self, creditor_id: str) -> CreditorBilling | None:
        row = (
            await self.session.execute(
                select(creditor_billing).where(creditor_billing.c.creditor_id == creditor_id)
            )
        ).one_or_none()
        if row is None:
            return None
        return CreditorBilling(row.creditor_id, row.referring_partner_id)

    async def save_provider(self, profile: ProviderBilling, change: BillingChange) -> None:
        values = {"vat_status": profile.vat_status.value, "vat_number": profile.vat_number}
        await self.session.execute(
            insert(provider_billing)
            .values(provider_id=profile.provider_id, **values)
            .on_conflict_do_update(
                index_elements=[provider_billing.c.provider_id],
                set_={**values, "updated_at": func.now()},
            )
        )
        await self._audit(change)

    async def save_creditor(self, profile: CreditorBilling, change: BillingChange) -> None:
        values = {"referring_partner_id": profile.referring_partner_id}
        await self.session.execute(
            insert(creditor_billing)
            .values(creditor_id=profile.creditor_id, **values)
            .on_conflict_do_update(
                index_elements=[creditor_billing.c.creditor_id],
                set_={**values, "updated_at": func.now()},
            )
        )
        await self._audit(change)

    async def _audit(self, change: BillingChange) -> None:
        await self.session.execute(
            insert(billing_changes).values(
                subject_kind=change.subject_kind,
                subject_id=change.subject_id,
                operator=change.operator,
                reason=change.reason,
                before=change.before,
                after=change.after,
                changed_at=change.changed_at,
            )
        )

    async def changes(self, subject_id: str | None = None) -> list[BillingChange]:
        query = select(billing_changes).order_by(billing_changes.c.change_no)
        if subject_id is not None:
            query = query.where(billing_changes.c.subject_id == subject_id)
        return [
            BillingChange(
                r.subject_kind, r.subject_id, r.operator, r.reason, r.before, r.after, r.changed_at
            )
            for r in (await self.session.execute(query)).all()
        ]


def _booking(row: Mapping[Any, Any]) -> FeeBooking:
    attribution = Attribution(
        event_id=row["event_id"],
        case_id=row["case_id"],
        creditor_id=row["creditor_id"],
        payment_id=row["payment_id"],
        amount_minor=row["amount_minor"],
        paid_on=row["paid_on"],
        told_on=row["told_on"],
        source=Source(row["source"]),
        provider_id=row["provider_id"],
        round=row["round"],
        fee_bp=row["fee_bp"],
        fixed_fee_minor=row["fixed_fee_minor"],
        base=FeeBase(row["base"]),
        principal_minor=row["principal_minor"],
    )
    figures = FeeFigures(
        row["amount_on_base"],
        row["percent_part"],
        row["fixed_part"],
        row["fee_vat"],
        row["commission"],
        row["commission_vat"],
        row["referral"],
    )
    entries = tuple((str(part), str(entry_id)) for part, entry_id in row["entries"])
    return FeeBooking(attribution, figures, row["partner_id"], entries, row["reversed_by"])


class SqlFeeBookings:
    """The fee_bookings table."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, booking: FeeBooking) -> None:
        a, f = booking.attribution, booking.figures
        await self.session.execute(
            insert(fee_bookings).values(
                payment_id=a.payment_id,
                event_id=a.event_id,
                case_id=a.case_id,
                creditor_id=a.creditor_id,
                provider_id=a.provider_id,
                round=a.round,
                source=a.source.value,
                base=a.base.value,
                paid_on=a.paid_on,
                told_on=a.told_on,
                amount_minor=a.amount_minor,
                principal_minor=a.principal_minor,
                fee_bp=a.fee_bp,
                fixed_fee_minor=a.fixed_fee_minor,
                amount_on_base=f.amount_on_base,
                percent_part=f.percent_part,
                fixed_part=f.fixed_part,
                fee_vat=f.fee_vat,
                commission=f.commission,
                commission_vat=f.commission_vat,
                referral=f.referral,
                partner_id=booking.partner_id,
                entries=[list(pair) for pair in booking.entries],
                reversed_by=booking.reversed_by,
            )
        )

    async def of_event(self, event_id: str) -> FeeBooking | None:
        return await self._one(fee_bookings.c.event_id == event_id)

    async def of_payment(self, payment_id: str) -> FeeBooking | None:
        return await self._one(
            fee_bookings.c.payment_id == payment_id, fee_bookings.c.reversed_by.is_(None)
        )

    async def _one(self, *where: Any) -> FeeBooking | None:
        query = select(fee_bookings).where(*where)
        row = (await self.session.execute(query)).mappings().one_or_none()
        return None if row is None else _booking(row)

    async def fixed_fee_charged(self, case_id: str, round: int, provider_id: str) -> int:
        total = await self.session.scalar(
            select(func.coalesce(func.sum(fee_bookings.c.fixed_part), 0)).where(
                fee_bookings.c.case_id == case_id,
                fee_bookings.c.round == round,
                fee_bookings.c.provider_id == provider_id,
                fee_bookings.c.reversed_by.is_(None),
            )
        )
        return int(total or 0)

    async def mark_reversed(self, booked_by: str, event_id: str) -> None:
        await self.session.execute(
            update(fee_bookings)
            .where(fee_bookings.c.event_id == booked_by)
            .values(reversed_by=event_id)
        )
