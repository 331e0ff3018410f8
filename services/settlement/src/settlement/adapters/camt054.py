"""camt.054 intraday notifications (BankToCustomerDebitCreditNotification, .001.02 and .001.08)
read into settlement's `BankStatement`, and the one reader of any bank file an operator imports.

A bank sends a camt.054 as soon as an entry is booked on the client-money account, and the
day's camt.053 the next morning with the same entries. Each notification (Ntfctn) becomes a
`BankStatement` whose id is `ntfctn:<Id>`, so it never takes a statement's place in
`bank_statements`, and a receipt says which kind of document booked it. The file is validated
whole against the official ISO 20022 schema of its version (`camt054_schemas/`) and read with
pyiso20022, exactly as camt.053 is (`camt053.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyiso20022.camt.camt_054_001_02 import Document as Document02
from pyiso20022.camt.camt_054_001_08 import Document as Document08

from recouvra_shared.errors import InvalidRequest, Violation
from settlement.adapters.camt053 import DOCUMENTS as STATEMENTS
from settlement.adapters.camt053 import (
    booked_report,
    message_type_of,
    parsed,
    preload,
    read_statements,
)
from settlement.adapters.camt053 import validated as validated_against
from settlement.domain.bank_statement import NOTIFICATION_PREFIX, BankStatement

SCHEMAS = Path(__file__).parent / "camt054_schemas"
DOCUMENTS: dict[str, type[Any]] = {
    "camt.054.001.02": Document02,
    "camt.054.001.08": Document08,
}
preload(SCHEMAS)  # at import, as camt053's


def read_notifications(content: bytes) -> list[BankStatement]:
    """Every notification of a camt.054 file, with its booked entries (a pending one is not
    money yet); refused whole when the file does not validate."""
    message_type = validated_against(content, SCHEMAS, DOCUMENTS)
    document = parsed(content, DOCUMENTS[message_type])
    return [
        booked_report("Ntfctn", NOTIFICATION_PREFIX + notification.id, notification, message_type)
        for notification in document.bk_to_cstmr_dbt_cdt_ntfctn.ntfctn
    ]


def read_bank_file(content: bytes) -> list[BankStatement]:
    """A camt.054 file's notifications or a camt.053 file's statements, by the Document's
    namespace; any other Document is refused naming the four it may be."""
    message_type = message_type_of(content)
    if message_type in DOCUMENTS:
        return read_notifications(content)
    if message_type and message_type not in STATEMENTS:
        accepted = " or ".join(sorted([*STATEMENTS, *DOCUMENTS]))
        raise InvalidRequest([Violation("Document", f"a {accepted} Document")])
    return read_statements(content)
