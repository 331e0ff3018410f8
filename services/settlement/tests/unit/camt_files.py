"""camt.053 statements and camt.054 notifications as a bank would send them (.001.02 or
.001.08), for the tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

CLIENT_MONEY_IBAN = "FR7630006000011234567890189"


@dataclass(frozen=True)
class Entry:
    """One statement line: cents, credit or debit, and what identifies the payment."""

    cents: int
    credit: bool = True
    reversal: bool = False
    booked_on: date = date(2026, 3, 2)
    value_date: date | None = None
    servicer_ref: str | None = None
    reference: str | None = None
    end_to_end_id: str | None = None
    debtor_name: str | None = None
    status: str = "BOOK"
    currency: str = "EUR"


def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _entry(entry: Entry, version: str) -> str:
    status = (
        f"<Sts>{entry.status}</Sts>" if version == "02" else f"<Sts><Cd>{entry.status}</Cd></Sts>"
    )
    debtor = ""
    if entry.debtor_name:
        name = f"<Nm>{escape(entry.debtor_name)}</Nm>"
        debtor = (
            f"<RltdPties><Dbtr>{name}</Dbtr></RltdPties>"
            if version == "02"
            else f"<RltdPties><Dbtr><Pty>{name}</Pty></Dbtr></RltdPties>"
        )
    remittance = (
        f"<RmtInf><Strd><CdtrRefInf><Ref>{entry.reference}</Ref></CdtrRefInf></Strd></RmtInf>"
        if entry.reference
        else ""
    )
    refs = f"<Refs><EndToEndId>{entry.end_to_end_id or 'NOTPROVIDED'}</EndToEndId></Refs>"
    value = entry.value_date or entry.booked_on
    return (
        "<Ntry>"
        f'<Amt Ccy="{entry.currency}">{_amount(entry.cents)}</Amt>'
        f"<CdtDbtInd>{'CRDT' if entry.credit else 'DBIT'}</CdtDbtInd>"
        + ("<RvslInd>true</RvslInd>" if entry.reversal else "")
        + status
        + f"<BookgDt><Dt>{entry.booked_on}</Dt></BookgDt>"
        f"<ValDt><Dt>{value}</Dt></ValDt>"
        + (f"<AcctSvcrRef>{entry.servicer_ref}</AcctSvcrRef>" if entry.servicer_ref else "")
        + "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>"
        "</Domn></BkTxCd>"
        f"<NtryDtls><TxDtls>{refs}{debtor}{remittance}</TxDtls></NtryDtls>"
        "</Ntry>"
    )


def camt053(
    entries: list[Entry],
    *,
    version: str = "08",
    statement_id: str = "STMT-2026-03-02",
    iban: str = CLIENT_MONEY_IBAN,
) -> bytes:
    """A one-statement camt.053.001.<version> file of the client-money account."""
    body = "".join(_entry(entry, version) for entry in entries)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">'
        "<BkToCstmrStmt>"
        "<GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-03-02T18:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{statement_id}</Id><CreDtTm>2026-03-02T18:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>{iban}</IBAN></Id></Acct>"
        "<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>"
        '<Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-02</Dt></Dt></Bal>'
        f"{body}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def camt054(
    entries: list[Entry],
    *,
    version: str = "08",
    notification_id: str = "NTF-2026-03-02-0001",
    iban: str = CLIENT_MONEY_IBAN,
) -> bytes:
    """A one-notification camt.054.001.<version> file (intraday) of the client-money account."""
    body = "".join(_entry(entry, version) for entry in entries)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.{version}">'
        "<BkToCstmrDbtCdtNtfctn>"
        "<GrpHdr><MsgId>NTF-MSG-1</MsgId><CreDtTm>2026-03-02T10:15:00</CreDtTm></GrpHdr>"
        f"<Ntfctn><Id>{notification_id}</Id><CreDtTm>2026-03-02T10:15:00</CreDtTm>"
        f"<Acct><Id><IBAN>{iban}</IBAN></Id></Acct>"
        f"{body}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"
    ).encode()
