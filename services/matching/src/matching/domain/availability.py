"""Who may take part in a case's next round and, when nobody may, why: the case then waits for a
provider instead of using up a round that nobody could win."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from matching.domain.providers import CaseFile, CreditorPolicy, Provider, ineligibility


class WaitCause(StrEnum):
    """Why nobody may take part, from what the platform lacks to what the creditor chose."""

    NO_PROVIDER = "no-provider"  # nobody takes cases at all
    NOT_COVERED = "not-covered"  # nobody covers the case's region, debtor type, amount or route
    AT_CAPACITY = "at-capacity"  # those that cover it hold all the cases they can
    EXCLUDED = "excluded"  # those that cover it are excluded by the creditor's policy
    ALREADY_HELD = "already-held"  # those that cover it have already held the case


@dataclass(frozen=True)
class NobodyEligible:
    """Why no provider may take part in the case's next round, for the creditor to read."""

    cause: WaitCause
    reason: str


UNEXPLAINED = NobodyEligible(WaitCause.NOT_COVERED, "no provider may take this case yet")


@dataclass(frozen=True)
class Eligibility:
    """The providers that may take part in a round, and why none may when there are none."""

    providers: tuple[str, ...]
    why_none: NobodyEligible | None = None


@dataclass(frozen=True)
class _Need:
    """Something the case asks of every provider, whoever the creditor and however busy."""

    words: str
    met_by: Callable[[Provider], bool]


def _needs(case: CaseFile) -> list[_Need]:
    kind = case.needs_kind
    needs = [
        _Need(
            "business debtors" if case.debtor_is_business else "consumer debtors",
            lambda p: p.serves_business if case.debtor_is_business else p.serves_consumer,
        ),
        _Need(
            "this amount",
            lambda p: p.min_amount_minor <= case.amount_minor <= p.max_amount_minor,
        ),
    ]
    if case.region:
        needs.append(
            _Need(f"the debtor's region ({case.region})", lambda p: p.serves_region(case.region))
        )
    if case.needs_judicial:
        needs.append(_Need("the court route this case needs", lambda p: p.judicial))
    if kind is not None:
        needs.append(
            _Need(f"this case's route (it needs a {kind.value})", lambda p: p.kind is kind)
        )
    return needs


def eligibility(
    providers: Iterable[Provider],
    case: CaseFile,
    *,
    held: Mapping[str, int],
    policy: CreditorPolicy,
    past_holders: Collection[str],
) -> Eligibility:
    """The providers that may bid on this case now, or the reason nobody may."""
    active = [p for p in providers if p.active]
    eligible = tuple(
        p.provider_id
        for p in active
        if ineligibility(
            p,
            case,
            cases_held=held.get(p.provider_id, 0),
            policy=policy,
            past_holders=past_holders,
        )
        is None
    )
    if eligible:
        return Eligibility(eligible)
    return Eligibility((), _why_nobody(active, case, policy, past_holders))


def _why_nobody(
    active: list[Provider],
    case: CaseFile,
    policy: CreditorPolicy,
    past_holders: Collection[str],
) -> NobodyEligible:
    if not active:
        return NobodyEligible(WaitCause.NO_PROVIDER, "no provider takes cases yet")
    needs = _needs(case)
    unmet = [n.words for n in needs if not any(n.met_by(p) for p in active)]
    if unmet:
        return NobodyEligible(
            WaitCause.NOT_COVERED, f"no provider covers {' nor '.join(unmet)} yet"
        )
    covering = [p for p in active if all(n.met_by(p) for n in needs)]
    if not covering:
        everything = ", ".join(n.words for n in needs)
        return NobodyEligible(
            WaitCause.NOT_COVERED, f"no single provider covers all of {everything} yet"
        )
    blocked = {
        WaitCause.ALREADY_HELD: sum(p.provider_id in past_holders for p in covering),
        WaitCause.EXCLUDED: sum(
            p.provider_id in policy.excluded_providers and p.provider_id not in past_holders
            for p in covering
        ),
    }
    blocked[WaitCause.AT_CAPACITY] = len(covering) - sum(blocked.values())
    return _blocked_reason(blocked)


_ALL_BLOCKED = {
    WaitCause.AT_CAPACITY: "every provider that covers this case is at capacity",
    WaitCause.EXCLUDED: "every provider that covers this case is excluded by your quote policy",
    WaitCause.ALREADY_HELD: "every provider that covers this case has already held it",
}
_SOME_BLOCKED = {
    WaitCause.AT_CAPACITY: "{} at capacity",
    WaitCause.EXCLUDED: "{} excluded by your quote policy",
    WaitCause.ALREADY_HELD: "{} already held it",
}


def _blocked_reason(blocked: dict[WaitCause, int]) -> NobodyEligible:
    """The cause that may lift soonest comes first: capacity frees up, a policy can change."""
    present = [c for c in _SOME_BLOCKED if blocked.get(c, 0)]
    if len(present) == 1:
        return NobodyEligible(present[0], _ALL_BLOCKED[present[0]])
    counts = ", ".join(_SOME_BLOCKED[c].format(blocked[c]) for c in present)
    return NobodyEligible(
        present[0], f"no provider that covers this case can take it now ({counts})"
    )
