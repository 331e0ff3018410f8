"""The platform's rules of the marketplace, set once from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from matching.domain.auction import Smoothing
from matching.domain.fees import FeeBounds


@dataclass(frozen=True)
class MatchingRules:
    """The platform's timings and limits."""

    bidding_period: timedelta = timedelta(minutes=15)
    provider_accept_period: timedelta = timedelta(hours=48)
    extension: timedelta = timedelta(days=15)
    max_extension: timedelta = timedelta(days=30)
    max_rounds: int = 3
    # A waiting case is woken by the provider changes that may concern it; it is also looked at
    # again this often, in case a change raced with the moment it started waiting.
    awaiting_recheck: timedelta = timedelta(hours=6)


@dataclass(frozen=True)
class MatchingConfig:
    """Every rule of the marketplace: timings, fee bounds, record smoothing, default window."""

    rules: MatchingRules = field(default_factory=MatchingRules)
    bounds: FeeBounds = field(default_factory=FeeBounds)
    smoothing: Smoothing = field(default_factory=Smoothing)
    default_window_days: int = 45
