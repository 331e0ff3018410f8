"""Success fees: matching owns the rule (the platform's bounds), so a fee is checked here, once."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from matching.domain.errors import InvalidField


@dataclass(frozen=True)
class FeeBounds:
    """The platform's limits on a success fee, in percent of the amount recovered."""

    min_percent: Decimal = Decimal("1")
    max_percent: Decimal = Decimal("50")


@dataclass(frozen=True)
class FeePercent:
    """A success fee in percent of the amount recovered: exact, two decimals at most, in bounds."""

    value: Decimal

    @classmethod
    def of(cls, value: Decimal | None, bounds: FeeBounds, field_name: str = "fee") -> FeePercent:
        """The fee as received, refused naming the field when it is missing or breaks a rule."""
        if value is None:
            raise InvalidField(field_name, "is required")
        if not value.is_finite():
            raise InvalidField(field_name, "must be a decimal number such as 12.5")
        if value != value.quantize(Decimal("0.01")):
            raise InvalidField(field_name, "at most two decimal places")
        if not bounds.min_percent <= value <= bounds.max_percent:
            raise InvalidField(
                field_name,
                f"must be between {bounds.min_percent} and {bounds.max_percent} percent",
            )
        return cls(value)

    @classmethod
    def optional(
        cls, value: Decimal | None, bounds: FeeBounds, field_name: str
    ) -> FeePercent | None:
        """An optional fee: None when not given."""
        return None if value is None else cls.of(value, bounds, field_name)

    def __str__(self) -> str:
        return str(self.value)
