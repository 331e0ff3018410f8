"""Names and postal addresses of holders and creditors, from a JSON file (a marked stand-in).

No service serves them yet: matching keeps a provider's name but no postal address and no
profile RPC, and the gateway keeps a creditor organisation's name but no address. Until they
do (the provider-profile and creditor-profile work replaces this adapter with gRPC clients),
the operator lists them in `RECOUVRA_MESSAGING_PARTIES_FILE`:

    {"providers": {"<provider id>": {"name": ..., "address_lines": [...], "postal_code": ...,
     "city": ..., "country_code": "FR"}}, "creditors": {"<creditor id>": {...}}}

An unknown party comes back without an address, and the first letter is then refused (R124-4
needs the collector's and the creditor's address) rather than sent incomplete.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from messaging.domain.content import Party


def _party(entry: dict[str, Any]) -> Party:
    return Party(
        name=str(entry.get("name", "")),
        address_lines=tuple(str(line) for line in entry.get("address_lines", ())),
        postal_code=str(entry.get("postal_code", "")),
        city=str(entry.get("city", "")),
        country_code=str(entry.get("country_code", "FR")),
    )


class PartiesFile:
    """`PartyDirectory` on a JSON file, read at each call (an operator may edit it)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def _load(self) -> dict[str, Any]:
        if self.path is None or not self.path.exists():
            return {}
        loaded: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return loaded

    async def holder(self, provider_id: str) -> Party:
        """The provider holding the case."""
        return _party(self._load().get("providers", {}).get(provider_id, {}))

    async def creditor(self, creditor_id: str) -> Party:
        """The creditor."""
        return _party(self._load().get("creditors", {}).get(creditor_id, {}))
