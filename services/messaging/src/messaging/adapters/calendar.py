"""French public holidays from the `holidays` package (metropolitan France's national list)."""

from __future__ import annotations

from datetime import date

import holidays


class FrenchHolidays:
    """Whether a day is a French public holiday (1 January, Easter Monday, 1 and 8 May, Ascension,
    Whit Monday, 14 July, 15 August, 1 and 11 November, 25 December)."""

    def __init__(self) -> None:
        self.calendar = holidays.country_holidays("FR")

    def __call__(self, day: date) -> bool:
        return day in self.calendar
