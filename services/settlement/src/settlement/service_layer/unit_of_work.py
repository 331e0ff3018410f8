"""What settlement's use cases need from storage: a transaction, the outbox, a commit.

It owns no repository yet: each table settlement gets comes with its repository protocol here,
and the unit of work gains a property for it (see the gateway's and the vault's).
"""

from __future__ import annotations

from typing import Protocol

from recouvra_shared.unit_of_work import UnitOfWorkProtocol


class SettlementUnitOfWork(UnitOfWorkProtocol, Protocol):
    """One transaction over settlement's tables; the only thing that commits."""
