"""What the debtor's actions need from storage: the repositories `uow.debtor_actions`,
`uow.instalments` and `uow.portal_attempts`, implemented on PostgreSQL and in the unit fakes."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from messaging.domain.debtor_actions import Dispute, PaymentDeclaration, Promise
from messaging.domain.instalments import InstalmentPlan, InstalmentPolicy


class DebtorActions(Protocol):
    """Disputes, promises and declared payments of each case."""

    async def add_dispute(self, dispute: Dispute) -> None: ...

    async def save_dispute(self, dispute: Dispute) -> None: ...

    async def disputes_of(self, case_id: str) -> list[Dispute]:
        """Oldest first."""
        ...

    async def add_promise(self, promise: Promise) -> None: ...

    async def promises_of(self, case_id: str) -> list[Promise]:
        """Oldest first."""
        ...

    async def add_declaration(self, declaration: PaymentDeclaration) -> None: ...

    async def declarations_of(self, case_id: str) -> list[PaymentDeclaration]:
        """Oldest first."""
        ...


class InstalmentPlans(Protocol):
    """Instalment plans, their payments, and the creditors' policies."""

    async def add(self, plan: InstalmentPlan) -> None:
        """A new plan; StateConflict when the case already has a live one."""
        ...

    async def save(self, plan: InstalmentPlan) -> None: ...

    async def get(self, plan_id: str) -> InstalmentPlan | None: ...

    async def of_case(self, case_id: str) -> list[InstalmentPlan]:
        """Oldest first."""
        ...

    async def next_due(self, now: datetime) -> InstalmentPlan | None:
        """One agreed plan whose check is due, locked for this transaction, skipped by others."""
        ...

    async def count_payment(self, plan_id: str, payment_id: str, amount_minor: int) -> bool:
        """Record that a payment counted towards a plan; False when it already had."""
        ...

    async def policy(self, creditor_id: str) -> InstalmentPolicy | None: ...

    async def set_policy(self, creditor_id: str, policy: InstalmentPolicy | None) -> None: ...


class PortalAttempts(Protocol):
    """How many times each portal link's second factor was tried."""

    async def take(self, link_hash: str, case_id: str, at: datetime) -> int:
        """Count one more attempt at this link (atomically) and return the count."""
        ...

    async def give_back(self, link_hash: str) -> None:
        """A right answer does not count against the link."""
        ...
