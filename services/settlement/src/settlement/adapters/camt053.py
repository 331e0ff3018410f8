"""camt.053 bank statements (.001.02 and .001.08) read into settlement's `BankStatement`.

The file is first validated, whole, against the official ISO 20022 schema of its version
(`camt053_schemas/`, as published by ISO 20022) with lxml: a file that does not validate is
refused with every element that breaks it, and nothing of it is booked. It is then read by
pyiso20022's dataclasses (generated from the same schemas) through xsdata, never by
hand-written XPath; only the fields money in needs are taken from them. The camt.054 reader
(`camt054.py`) validates and reads its entries with the same functions: a notification's
entry is a statement's entry (ReportEntry) under another root.
"""

from __future__ import annotations

import re
import threading
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree  # type: ignore[import-untyped]
from pyiso20022.camt.camt_053_001_02 import Document as Document02
from pyiso20022.camt.camt_053_001_08 import Document as Document08
from xsdata.formats.dataclass.parsers import XmlParser
from xsdata.formats.dataclass.parsers.config import ParserConfig

from recouvra_shared.errors import InvalidRequest, Violation
from settlement.domain.bank_statement import BankLine, BankStatement, rf_reference_in

SCHEMAS = Path(__file__).parent / "camt053_schemas"
_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:"
DOCUMENTS: dict[str, type[Any]] = {
    "camt.053.001.02": Document02,
    "camt.053.001.08": Document08,
}
MAX_BYTES = 64 * 1024 * 1024
_QUALIFIED = re.compile(r"\{[^}]*\}")


_BUILDING = threading.Lock()


@cache
def _built(path: Path) -> etree.XMLSchema:
    try:
        return etree.XMLSchema(etree.parse(str(path)))
    except etree.XMLSchemaParseError as failed:
        raise etree.XMLSchemaParseError(f"{path}: {failed} ({failed.error_log})") from failed


def _schema(path: Path) -> etree.XMLSchema:
    """The schema of `path`, built once per process and never by two threads at once."""
    with _BUILDING:
        return _built(path)


def preload(schemas: Path) -> None:
    """Build every schema of the folder now, in the importing thread, rather than in the
    threads imports run in. Four imports at once in a fresh settlement process once each
    failed to build its schema ("Document is not valid XML Schema"), and so did every import
    after them, until the process was restarted."""
    for path in sorted(schemas.glob("*.xsd")):
        _schema(path)


def _refused(field: str, rule: str) -> InvalidRequest:
    return InvalidRequest([Violation(field, rule)])


def _named_path(root: Any, path: str | None) -> str:
    """`Document/BkToCstmrStmt/Stmt/Ntry[3]/CdtDbtInd` for lxml's positional `/*/*/*[2]...`."""
    found = root.xpath(path) if path else []
    if not found or not isinstance(found[0], etree._Element):
        return path or "Document"
    names = []
    element = found[0]
    while element is not None:
        name = etree.QName(element).localname
        parent = element.getparent()
        siblings = [] if parent is None else [e for e in parent if e.tag == element.tag]
        names.append(f"{name}[{siblings.index(element) + 1}]" if len(siblings) > 1 else name)
        element = parent
    return "/".join(reversed(names))


def message_type_of(content: bytes) -> str:
    """The ISO 20022 message type a file's Document names (`camt.054.001.08`), read from its
    root's namespace without validating anything; empty when it names none."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(content[:MAX_BYTES], parser)
    except etree.XMLSyntaxError:
        return ""
    return (etree.QName(root).namespace or "").removeprefix(_NAMESPACE)


def validated(
    content: bytes,
    schemas: Path = SCHEMAS,
    documents: dict[str, type[Any]] = DOCUMENTS,
) -> str:
    """The message type of a file valid against its schema (`schemas/<type>.xsd`, for the
    types `documents` names); refused otherwise, with every element that breaks it."""
    if len(content) > MAX_BYTES:
        raise _refused("file", f"at most {MAX_BYTES} bytes")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as broken:
        raise _refused(f"line {broken.lineno}", f"well-formed XML: {broken.msg}") from None
    namespace = etree.QName(root).namespace or ""
    message_type = namespace.removeprefix(_NAMESPACE)
    if etree.QName(root).localname != "Document" or message_type not in documents:
        raise _refused("Document", "a " + " or ".join(sorted(documents)) + " Document")
    schema = _schema(schemas / f"{message_type}.xsd")
    if not schema.validate(root):
        raise InvalidRequest(
            [
                Violation(
                    _named_path(root, error.path),
                    f"line {error.line}: {_QUALIFIED.sub('', error.message)}",
                )
                for error in schema.error_log
            ][:50]
        )
    return message_type


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_exact())


def _date(choice: Any) -> date | None:
    if choice is None:
        return None
    if choice.dt is not None:
        return choice.dt.to_date()  # type: ignore[no-any-return]
    return choice.dt_tm.to_datetime().date()  # type: ignore[no-any-return]


def _status(entry: Any) -> str:
    status = entry.sts
    code = getattr(status, "cd", None) or getattr(status, "prtry", None) or status
    return str(getattr(code, "value", code))


def _debtor_name(tx: Any) -> str | None:
    parties = tx.rltd_pties
    if parties is None or parties.dbtr is None:
        return None
    debtor = parties.dbtr
    party = getattr(debtor, "pty", None) or debtor  # .08 wraps the party in a choice
    return getattr(party, "nm", None)


def _remittance_texts(tx: Any) -> list[str]:
    info = tx.rmt_inf
    if info is None:
        return []
    structured = [s.cdtr_ref_inf.ref for s in info.strd if s.cdtr_ref_inf and s.cdtr_ref_inf.ref]
    return [*structured, *info.ustrd]


def bank_line(index: int, entry: Any) -> BankLine:
    """One entry (Ntry) as settlement reads it: amount, direction, dates, references."""
    txs = [tx for details in entry.ntry_dtls for tx in details.tx_dtls]
    texts = [text for tx in txs for text in _remittance_texts(tx)]
    refs = next((tx.refs for tx in txs if tx.refs is not None), None)
    end_to_end = refs.end_to_end_id if refs is not None else None
    booked = _date(entry.bookg_dt)
    value = _date(entry.val_dt) or booked
    assert booked is not None
    assert value is not None
    return BankLine(
        index=index,
        amount_minor=_cents(entry.amt.value),
        currency=entry.amt.ccy,
        is_credit=_status_code(entry.cdt_dbt_ind) == "CRDT",
        is_reversal=bool(entry.rvsl_ind),
        booked_on=booked,
        value_date=value,
        servicer_ref=entry.acct_svcr_ref or (refs.acct_svcr_ref if refs is not None else None),
        reference=rf_reference_in(texts),
        end_to_end_id=end_to_end if end_to_end and end_to_end != "NOTPROVIDED" else None,
        debtor_name=next((name for tx in txs if (name := _debtor_name(tx))), None),
    )


def _status_code(code: Any) -> str:
    return str(getattr(code, "value", code))


def read_statements(content: bytes) -> list[BankStatement]:
    """Every statement of a camt.053 file, with its booked entries (pending ones are not
    money yet); refused whole when the file does not validate."""
    message_type = validated(content)
    document = parsed(content, DOCUMENTS[message_type])
    return [
        booked_report("Stmt", stmt.id, stmt, message_type)
        for stmt in document.bk_to_cstmr_stmt.stmt
    ]


def parsed(content: bytes, document: type[Any]) -> Any:
    """A validated file as pyiso20022's dataclasses."""
    return XmlParser(config=ParserConfig(fail_on_unknown_properties=True)).from_bytes(
        content, document
    )


def booked_report(element: str, report_id: str, report: Any, message_type: str) -> BankStatement:
    """A statement (Stmt) or a notification (Ntfctn) of one account, with its booked entries
    only; refused when a booked entry has no date or the account no IBAN."""
    booked = [(i, entry) for i, entry in enumerate(report.ntry) if _status(entry) == "BOOK"]
    for _, entry in booked:
        if entry.bookg_dt is None:
            raise _refused(f"{element}[{report_id}]/Ntry/BookgDt", "a booked entry has a date")
    iban = report.acct.id.iban
    if not iban:
        raise _refused(f"{element}[{report_id}]/Acct/Id/IBAN", "the account is named by its IBAN")
    return BankStatement(
        statement_id=report_id,
        account_iban=iban,
        message_type=message_type,
        lines=tuple(bank_line(index, entry) for index, entry in booked),
    )


preload(SCHEMAS)  # at import: see `preload`
