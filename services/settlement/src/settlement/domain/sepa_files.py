"""The bank files of a released batch, built and schema-validated by sepaxml.

Transfers go in one ISO 20022 pain.001.001.09 credit transfer initiation (SEPA rulebook 2019+)
debiting the client-money account; direct debits of fees owed go in a pain.008.001.08 (the
SDD Core rulebook's version of the same generation) crediting it. sepaxml validates each file
against the XSD it ships (`sepaxml/schemas/`) before handing it over: a file the bank would
reject is never stored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from sepaxml import SepaDD, SepaTransfer
from stdnum.iso7064 import mod_97_10

from recouvra_shared.errors import InvalidField
from settlement.domain.payment_instructions import ClientMoneyAccount
from settlement.domain.payouts import LineKind, PayoutLine

PAIN_001 = "pain.001.001.09"
PAIN_008 = "pain.008.001.08"


_CREDITOR_ID = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}$")


def creditor_identifier(value: str) -> str:
    """A SEPA creditor identifier (EPC262-08): country, check digits, business code, national
    id; the check digits are ISO 7064 mod 97-10 over the national id and the country."""
    compact = value.replace(" ", "").upper()
    if not _CREDITOR_ID.match(compact) or not mod_97_10.is_valid(compact[7:] + compact[:4]):
        raise InvalidField("sepa_creditor_id", "a SEPA creditor identifier, e.g. FR72ZZZ123456")
    return compact


def _end_to_end(line: PayoutLine) -> str:
    """The id the payee's bank statement shows (35 characters at most)."""
    return line.line_id.replace("-", "")[:35]


def _remittance(batch_id: str, line: PayoutLine) -> str:
    return f"Recouvra payout {batch_id[:8]} {line.party_kind} {line.party_id}"[:140]


def credit_transfers(
    batch_id: str, execution: date, debtor: ClientMoneyAccount, lines: Sequence[PayoutLine]
) -> bytes | None:
    """The pain.001.001.09 paying every transfer line; None when the batch pays nobody."""
    transfers = [line for line in lines if line.kind is LineKind.TRANSFER]
    if not transfers:
        return None
    sepa = SepaTransfer(
        {
            "name": debtor.beneficiary,
            "IBAN": debtor.iban,
            "BIC": debtor.bic,
            "batch": True,
            "currency": "EUR",
        },
        schema=PAIN_001,
    )
    for line in transfers:
        assert line.iban, "a transfer line carries its payee's bank details"
        assert line.holder
        payment = {
            "name": line.holder,
            "IBAN": line.iban,
            "amount": line.amount,
            "execution_date": execution,
            "description": _remittance(batch_id, line),
            "endtoend_id": _end_to_end(line),
        }
        if line.bic:
            payment["BIC"] = line.bic
        sepa.add_payment(payment)
    return bytes(sepa.export(validate=True))


def direct_debits(
    batch_id: str,
    collection: date,
    creditor: ClientMoneyAccount,
    creditor_id: str | None,
    lines: Sequence[PayoutLine],
) -> bytes | None:
    """The pain.008.001.08 collecting fees owed under each mandate; None when there are none."""
    debits = [line for line in lines if line.kind is LineKind.DIRECT_DEBIT]
    if not debits:
        return None
    if creditor_id is None:
        raise InvalidField("sepa_creditor_id", "direct debits need the platform's SEPA creditor id")
    sepa = SepaDD(
        {
            "name": creditor.beneficiary,
            "IBAN": creditor.iban,
            "BIC": creditor.bic,
            "batch": True,
            "creditor_id": creditor_id,
            "currency": "EUR",
        },
        schema=PAIN_008,
    )
    for line in debits:
        assert line.iban, "a direct debit line carries the payer's bank details and mandate"
        assert line.holder
        assert line.mandate_id
        assert line.mandate_signed_on
        payment = {
            "name": line.holder,
            "IBAN": line.iban,
            "amount": line.amount,
            "type": "RCUR",
            "collection_date": collection,
            "mandate_id": line.mandate_id,
            "mandate_date": line.mandate_signed_on,
            "description": _remittance(batch_id, line),
            "endtoend_id": _end_to_end(line),
        }
        if line.bic:
            payment["BIC"] = line.bic
        sepa.add_payment(payment)
    return bytes(sepa.export(validate=True))
