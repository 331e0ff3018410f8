"""REST shape of the case file a provider reads while it holds a case (intake's GetCaseFile)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gateway.schemas.case_views import CASE_EXAMPLE, CaseView, HolderView, case_view, holder_view

HOLDER_EXAMPLE: Any = {
    "provider_id": "3c1d5e7a-9b2f-4d6e-8a0c-1f2e3d4c5b6a",
    "round": 1,
    "window_ends_at": "2027-01-15T09:00:00+00:00",
}
CASE_FILE_EXAMPLE: Any = {
    "case": CASE_EXAMPLE
    | {
        "status": "assigned",
        "debtor": {
            "kind": "company",
            "name": "Transports Lefèvre SAS",
            "siren_or_siret": "732829320",
            "address": {"lines": ["12 rue des Lilas"], "postal_code": "75011", "city": "Paris"},
            "email": "compta@lefevre.example",
            "phone": "+33142000000",
        },
        "round": 1,
        "holder": HOLDER_EXAMPLE,
    },
    "holder": HOLDER_EXAMPLE,
}


class CaseFileView(BaseModel):
    """Everything the holder needs to collect: the debtor's identity and contacts (name,
    address, e-mail, phone, SIREN), the invoice lines and what is owed today."""

    model_config = ConfigDict(json_schema_extra={"examples": [CASE_FILE_EXAMPLE]})

    case: CaseView
    holder: HolderView = Field(description="Your holding: the round and when your window ends")


def case_file_view(reply: Any) -> CaseFileView:
    """From recouvra.intake.v1.CaseFile."""
    return CaseFileView(case=case_view(reply.case), holder=holder_view(reply.holder))
