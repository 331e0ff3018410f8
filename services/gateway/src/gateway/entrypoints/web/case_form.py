"""The case submission form read into the API's CaseSubmission: inputs are named by the API's
field paths (`debtor.name`, `invoices[0].amount_due.amount`), so every refusal, the gateway's
or intake's, lands next to the input it names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

INVOICE_ROWS = 3
_PART = re.compile(r"^([a-z_]+)(?:\[(\d+)\])?$")
INVOICE_FIELDS = ("invoice_number", "issue_date", "due_date", "amount_due.amount", "description")


def nested(form: Mapping[str, str]) -> dict[str, Any]:
    """{"debtor.address.lines[0]": "x"} -> {"debtor": {"address": {"lines": ["x"]}}}."""
    tree: dict[str, Any] = {}
    for name, value in form.items():
        node: Any = tree
        parts = name.split(".")
        for position, part in enumerate(parts):
            match = _PART.match(part)
            if match is None:
                break
            key, index = match.group(1), match.group(2)
            last = position == len(parts) - 1
            if index is None:
                if last:
                    node[key] = value
                else:
                    node = node.setdefault(key, {})
                continue
            items = node.setdefault(key, [])
            while len(items) <= int(index):
                items.append(None if last else {})
            if last:
                items[int(index)] = value
            else:
                node = items[int(index)]
    return tree


def _blank(row: Mapping[str, str], index: int) -> bool:
    return not any(row.get(f"invoices[{index}].{name}", "").strip() for name in INVOICE_FIELDS)


def submission(form: Mapping[str, str]) -> dict[str, Any]:
    """The JSON the API would receive for this form: blank invoice rows at the end dropped,
    the one currency given to every invoice, empty optional parts left out."""
    rows = INVOICE_ROWS
    while rows > 1 and _blank(form, rows - 1):
        rows -= 1
    currency = form.get("currency", "EUR") or "EUR"
    kept = {
        name: value.strip()
        for name, value in form.items()
        if not name.startswith("invoices[") or int(name[9 : name.index("]")]) < rows
    }
    for index in range(rows):
        kept[f"invoices[{index}].amount_due.currency"] = currency
        if not kept.get(f"invoices[{index}].description"):
            kept.pop(f"invoices[{index}].description", None)
    kept.pop("currency", None)
    kept.pop("idempotency_key", None)
    kept.pop("csrf_token", None)
    body = nested(kept)
    debtor = body.setdefault("debtor", {})
    address = debtor.get("address") or {}
    lines = [line for line in address.get("lines", []) if line]
    if lines or address.get("postal_code") or address.get("city"):
        debtor["address"] = {**address, "lines": lines, "country_code": "FR"}
    else:
        debtor.pop("address", None)
    body["disputed"] = form.get("disputed") == "on"
    return body
