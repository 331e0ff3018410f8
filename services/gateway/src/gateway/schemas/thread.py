"""The case thread as the REST API reads and writes it: clean JSON the web pages can render."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.schemas.common import TextInput

Party = Literal["creditor", "holder", "debtor"]

MESSAGE_EXAMPLE: Any = {
    "id": "6d2f1c3b-8a4e-4f5d-9c7b-1a2b3c4d5e6f",
    "case_id": "7b0e8c9e-2f4d-4b7a-9d51",
    "author": "holder",
    "to": ["creditor"],
    "text": "Le débiteur conteste la facture F-2026-0057 : avez-vous le bon de livraison ?",
    "attachment_document_ids": [],
    "written_at": "2026-12-03T10:15:00Z",
}


class ThreadMessageIn(TextInput):
    """A message to the other parties of the case (not to oneself)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "to": ["holder"],
                    "text": "Le bon de livraison signé est joint.",
                    "attachment_document_ids": [],
                }
            ]
        }
    )

    to: list[Party] = Field(min_length=1, max_length=2, description="Who the message is for")
    text: str = Field(min_length=1, max_length=4000)
    attachment_document_ids: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Documents of this case already in the vault; to the debtor, shareable ones",
    )


class ThreadMessageView(BaseModel):
    """One message of the thread."""

    model_config = ConfigDict(json_schema_extra={"examples": [MESSAGE_EXAMPLE]})

    id: str
    case_id: str
    author: Party
    to: list[Party]
    text: str
    attachment_document_ids: list[str]
    written_at: datetime


class ThreadMessageList(BaseModel):
    """The messages you may see, oldest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [MESSAGE_EXAMPLE]}]})

    items: list[ThreadMessageView]
