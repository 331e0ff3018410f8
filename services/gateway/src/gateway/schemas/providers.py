"""REST shapes of provider accounts: sign-up with the profile matching's directory records."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator
from stdnum.fr import siren as siren_number

from gateway.domain.errors import InvalidField
from gateway.domain.model import ProviderProfile
from gateway.schemas.common import PROVIDER_ID_EXAMPLE, EuroMoney, Money, TextInput

REGION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")


PROFILE_EXAMPLE: Any = {
    "kind": "commissaire",
    "regions": ["FR-IDF", "FR-HDF"],
    "serves_business": True,
    "serves_consumer": False,
    "min_amount": {"amount": "500.00", "currency": "EUR"},
    "max_amount": {"amount": "200000.00", "currency": "EUR"},
    "judicial": True,
    "capacity": 40,
}


class ProviderProfileIn(TextInput):
    """What the provider takes on: it is offered only the auctions that fit."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [PROFILE_EXAMPLE]})

    kind: Literal["agency", "commissaire", "lawyer"] = Field(
        description="agency: amicable recovery; commissaire de justice; lawyer (avocat)"
    )
    regions: list[str] = Field(
        min_length=1,
        max_length=50,
        description="ISO 3166 countries (FR) or subdivisions (FR-IDF) where it works",
    )
    serves_business: bool = Field(description="Takes B2B cases")
    serves_consumer: bool = Field(description="Takes cases against consumers")
    min_amount: EuroMoney | None = Field(
        default=None, description="Smallest claim, in EUR; null: no minimum"
    )
    max_amount: EuroMoney = Field(description="Largest claim, in EUR")
    judicial: bool = Field(default=False, description="May act before a court (never an agency)")
    capacity: int = Field(ge=1, le=100_000, description="Cases it holds at once, at most")

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        codes = [code.strip().upper() for code in value]
        for code in codes:
            if not REGION.match(code):
                raise ValueError(
                    f"{code!r} is not an ISO 3166 country (FR) or subdivision (FR-IDF)"
                )
        return codes

    def checked(self) -> ProviderProfile:
        """The profile, once the rules between its fields hold (each names its field)."""
        if not (self.serves_business or self.serves_consumer):
            raise InvalidField(
                "profile.serves_business", "a provider serves B2B cases, consumer cases or both"
            )
        least = self.min_amount.minor_units if self.min_amount is not None else 0
        if self.max_amount.minor_units <= least:
            raise InvalidField("profile.max_amount", "must be greater than min_amount")
        if self.kind == "agency" and self.judicial:
            raise InvalidField("profile.judicial", "a collection agency cannot act before a court")
        return ProviderProfile(
            kind=self.kind,
            regions=tuple(dict.fromkeys(self.regions)),
            serves_business=self.serves_business,
            serves_consumer=self.serves_consumer,
            min_amount_minor=least,
            max_amount_minor=self.max_amount.minor_units,
            judicial=self.judicial,
            capacity=self.capacity,
        )


class ProviderSignUpRequest(TextInput):
    """Open a provider organisation with its first user and its profile."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "organisation_name": "Etude Lambert, commissaires de justice",
                    "siren": "443061841",
                    "email": "bureau@etude-lambert.fr",
                    "password": "correct horse battery staple",
                    "profile": PROFILE_EXAMPLE,
                }
            ]
        },
    )

    organisation_name: str = Field(min_length=1, max_length=200)
    siren: str = Field(min_length=1, max_length=20, description="French SIREN, 9 digits")
    email: EmailStr
    password: str = Field(min_length=12, max_length=256)
    profile: ProviderProfileIn

    @field_validator("siren")
    @classmethod
    def _siren(cls, value: str) -> str:
        if not siren_number.is_valid(value):
            raise ValueError("must be a valid SIREN (9 digits with a correct checksum)")
        return value


class ProviderProfileView(BaseModel):
    """A provider's profile as registered."""

    model_config = ConfigDict(json_schema_extra={"examples": [PROFILE_EXAMPLE]})

    kind: Literal["agency", "commissaire", "lawyer"]
    regions: list[str]
    serves_business: bool
    serves_consumer: bool
    min_amount: Money
    max_amount: Money
    judicial: bool
    capacity: int


PROVIDER_ACCOUNT_EXAMPLE: Any = {
    "id": PROVIDER_ID_EXAMPLE,
    "kind": "provider",
    "name": "Etude Lambert, commissaires de justice",
    "siren": "443061841",
    "created_at": "2026-11-23T10:00:00Z",
    "user_id": "5b8f7a52-2d0e-4d4c-9a0a-0a4f2a51c3de",
    "email": "bureau@etude-lambert.fr",
    "profile": PROFILE_EXAMPLE,
}


class ProviderSignUpResponse(BaseModel):
    """The new provider organisation (its id is its provider id), its first user, its profile."""

    model_config = ConfigDict(json_schema_extra={"examples": [PROVIDER_ACCOUNT_EXAMPLE]})

    id: str
    kind: Literal["provider"] = "provider"
    name: str
    siren: str
    created_at: datetime
    user_id: str
    email: str
    profile: ProviderProfileView
    vetting: Literal["pending", "approved", "rejected"] = Field(
        default="pending",
        description="pending until an operator approves the account: until then no auction, "
        "bid or case",
    )
