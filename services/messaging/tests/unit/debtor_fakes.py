"""In-memory stand-ins for the debtor's actions' repositories (service_layer/debtor_ports.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from messaging.domain.debtor_actions import Dispute, PaymentDeclaration, Promise
from messaging.domain.instalments import InstalmentPlan, InstalmentPolicy, PlanState
from recouvra_shared.errors import StateConflict


@dataclass
class DebtorTables:
    """What the debtor's actions' tables hold."""

    disputes: dict[str, Dispute] = field(default_factory=dict)
    promises: list[Promise] = field(default_factory=list)
    declarations: list[PaymentDeclaration] = field(default_factory=list)
    plans: dict[str, InstalmentPlan] = field(default_factory=dict)
    counted: set[tuple[str, str]] = field(default_factory=set)
    policies: dict[str, InstalmentPolicy] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)


class FakeDebtorActions:
    def __init__(self, tables: DebtorTables) -> None:
        self.tables = tables

    async def add_dispute(self, dispute: Dispute) -> None:
        self.tables.disputes[dispute.dispute_id] = dispute

    async def save_dispute(self, dispute: Dispute) -> None:
        self.tables.disputes[dispute.dispute_id] = dispute

    async def disputes_of(self, case_id: str) -> list[Dispute]:
        return sorted(
            (d for d in self.tables.disputes.values() if d.case_id == case_id),
            key=lambda d: d.opened_at,
        )

    async def add_promise(self, promise: Promise) -> None:
        self.tables.promises.append(promise)

    async def promises_of(self, case_id: str) -> list[Promise]:
        return [p for p in self.tables.promises if p.case_id == case_id]

    async def add_declaration(self, declaration: PaymentDeclaration) -> None:
        self.tables.declarations.append(declaration)

    async def declarations_of(self, case_id: str) -> list[PaymentDeclaration]:
        return [d for d in self.tables.declarations if d.case_id == case_id]


class FakeInstalmentPlans:
    def __init__(self, tables: DebtorTables) -> None:
        self.tables = tables

    async def add(self, plan: InstalmentPlan) -> None:
        if any(p.live and p.case_id == plan.case_id for p in self.tables.plans.values()):
            raise StateConflict("plan: the case already has a pending or agreed plan")
        self.tables.plans[plan.plan_id] = plan

    async def save(self, plan: InstalmentPlan) -> None:
        self.tables.plans[plan.plan_id] = plan

    async def get(self, plan_id: str) -> InstalmentPlan | None:
        return self.tables.plans.get(plan_id)

    async def of_case(self, case_id: str) -> list[InstalmentPlan]:
        return sorted(
            (p for p in self.tables.plans.values() if p.case_id == case_id),
            key=lambda p: p.proposed_at,
        )

    async def next_due(self, now: datetime) -> InstalmentPlan | None:
        due = [
            p
            for p in self.tables.plans.values()
            if p.state is PlanState.AGREED and p.check_at is not None and p.check_at <= now
        ]
        return min(due, key=lambda p: p.check_at or now) if due else None

    async def count_payment(self, plan_id: str, payment_id: str, amount_minor: int) -> bool:
        if (plan_id, payment_id) in self.tables.counted:
            return False
        self.tables.counted.add((plan_id, payment_id))
        return True

    async def policy(self, creditor_id: str) -> InstalmentPolicy | None:
        return self.tables.policies.get(creditor_id)

    async def set_policy(self, creditor_id: str, policy: InstalmentPolicy | None) -> None:
        if policy is None:
            self.tables.policies.pop(creditor_id, None)
        else:
            self.tables.policies[creditor_id] = policy


class FakePortalAttempts:
    def __init__(self, tables: DebtorTables) -> None:
        self.tables = tables

    async def take(self, link_hash: str, case_id: str, at: datetime) -> int:
        self.tables.attempts[link_hash] = self.tables.attempts.get(link_hash, 0) + 1
        return self.tables.attempts[link_hash]

    async def give_back(self, link_hash: str) -> None:
        self.tables.attempts[link_hash] -= 1
