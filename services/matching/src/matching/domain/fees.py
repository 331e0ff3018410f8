"""Success fees: matching owns the rule (the platform's bounds), so a fee is parsed here, once."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

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
    def parse(cls, raw: str, bounds: FeeBounds, field_name: str = "fee_percent") -> FeePercent:
        """The fee as entered ("12.5"), refused naming the field when it breaks a rule."""
        try:
            value = Decimal(raw.strip())
        except (InvalidOperation, AttributeError):
            raise InvalidField(field_name, "must be a decimal number such as 12.5") from None
        if not value.is_finite():
            raise InvalidField(field_name, "must be a decimal number such as 12.5")
        if value.as_tuple().exponent < -2:  # type: ignore[operator]
            raise InvalidField(field_name, "at most two decimal places")
        if not bounds.min_percent <= value <= bounds.max_percent:
            raise InvalidField(
                field_name,
                f"must be between {bounds.min_percent} and {bounds.max_percent} percent",
            )
        return cls(value)

    @classmethod
    def optional(cls, raw: str, bounds: FeeBounds, field_name: str) -> FeePercent | None:
        """An optional fee: None when left blank."""
        return cls.parse(raw, bounds, field_name) if raw.strip() else None

    def __str__(self) -> str:
        return str(self.value)
