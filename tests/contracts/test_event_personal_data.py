"""No event field carries personal data unless it is listed here with why it may (issue 12).

Kafka keeps every record for the topic's retention, copies it to dead-letter topics and out of
reach of crypto-shredding, so events carry ids and what consumers need (docs/personal-data.md).
This reads every event message of `proto/` (each `*_events.proto`, and the envelope) and fails
when a field's name looks personal (a name, an address, contact details, a bank account, an
identifier of a person, free text) and is not in ALLOWED: a new `debtor_name` fails the build
until a reviewer decides, and the fields dropped for issue 12 stay reserved.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

from google.protobuf.descriptor import Descriptor
from google.protobuf.descriptor_pb2 import DescriptorProto

ROOT = Path(__file__).resolve().parents[2]
PROTO = ROOT / "proto"

# Parts of a field's name (split on "_") that suggest personal data or free text.
PERSONAL_LOOKING = {
    "name", "first", "last", "given", "family", "surname", "nom", "prenom",
    "address", "street", "line", "lines", "city", "postal", "zip", "country",
    "email", "mail", "phone", "mobile", "fax", "contact",
    "iban", "bic", "bank", "account",
    "siren", "siret", "vat", "nir", "ssn", "passport", "birth", "born",
    "person", "debtor", "holder", "owner",
    "note", "notes", "reason", "why", "comment", "comments", "text", "description", "label",
    "message", "summary", "detail", "details", "reference",
}  # fmt: skip

# (message, field) -> why it may be on the bus.
ALLOWED = {
    ("recouvra.events.v1.CaseSubmitted", "debtor_is_business"): "a flag: B2B or consumer rules",
    ("recouvra.events.v1.CaseSubmitted", "debtor_region"): "an ISO 3166-2 region, or a country",
    ("recouvra.events.v1.CaseSubmitted", "debtor_key"): (
        "intake's keyed hash (HMAC-SHA256, secret kept by intake) of the debtor identity: links one"
        " debtor's cases for messaging's contact limits, reveals nobody without intake's secret"
    ),
    ("recouvra.events.v1.CaseWithdrawn", "reason"): (
        "deprecated, never filled by intake (its unit test checks it stays empty)"
    ),
    ("recouvra.events.v1.CaseRecalled", "reason"): "matching's fixed words, never user text",
    ("recouvra.events.v1.CaseAwaitingProvider", "reason"): "matching's fixed words",
    ("recouvra.events.v1.CaseExhausted", "reason"): "matching's fixed words and numbers",
    ("recouvra.events.v1.PaymentAnnouncementUnwound", "reason"): (
        "settlement's fixed words: rejected or unmatched"
    ),
    ("recouvra.events.v1.QuoteIssued", "why"): "matching's fixed words, fees and provider ids",
    ("recouvra.events.v1.CaseScored", "reason_codes"): "scoring's reason codes",
    ("recouvra.events.v1.DisputeOpened", "reason"): (
        "a code from messaging's fixed list (DisputeReason); the debtor's words stay in messaging"
    ),
    ("recouvra.events.v1.CaseScored", "debtor_insolvent"): "a flag from the public registers",
    ("recouvra.gateway.v1.OrganisationRegistered", "siren"): (
        "the creditor's or partner's own SIREN, for the platform's invoices to it"
    ),
}

# Fields removed from events for issue 12: reserved, so nobody brings them back by mistake.
DROPPED = {
    # debtor_siren: a sole trader's names a person; scoring asks intake (GetDebtorSiren).
    "recouvra.events.v1.CaseSubmitted": {"debtor_name", "invoice_number", "debtor_siren"},
    "recouvra.events.v1.ActionReported": {"note"},
    "recouvra.gateway.v1.OrganisationRegistered": {"name"},
}


def event_messages() -> Iterator[Descriptor]:
    """Every message of every events file, nested ones and the message types they use."""
    files = [p for p in PROTO.rglob("*.proto") if p.name.endswith("_events.proto")]
    files.append(PROTO / "recouvra" / "events" / "v1" / "envelope.proto")
    seen: set[str] = set()
    pending: list[Descriptor] = []
    for path in sorted(files):
        module = ".".join(path.relative_to(PROTO).with_suffix("").parts) + "_pb2"
        pending += importlib.import_module(module).DESCRIPTOR.message_types_by_name.values()
    while pending:
        message = pending.pop()
        if message.full_name in seen or message.full_name.startswith("google.protobuf."):
            continue
        seen.add(message.full_name)
        yield message
        pending += message.nested_types
        pending += [f.message_type for f in message.fields if f.message_type is not None]


def looks_personal(field_name: str) -> bool:
    return bool(set(field_name.split("_")) & PERSONAL_LOOKING)


def test_every_event_field_that_looks_personal_is_allowed_by_a_reviewer() -> None:
    messages = list(event_messages())
    assert {"recouvra.events.v1.CaseSubmitted", "recouvra.events.v1.EventEnvelope"} <= {
        m.full_name for m in messages
    }
    flagged = {(m.full_name, f.name) for m in messages for f in m.fields if looks_personal(f.name)}
    unreviewed = sorted(flagged - ALLOWED.keys())
    assert not unreviewed, f"event fields that look personal, not reviewed: {unreviewed}"
    stale = sorted(ALLOWED.keys() - flagged)
    assert not stale, f"allowed fields that no longer exist: {stale}"


def test_the_check_catches_a_debtors_name() -> None:
    assert all(map(looks_personal, ["debtor_name", "contact_email", "invoice_label", "iban"]))
    assert not any(map(looks_personal, ["case_id", "success_fee_percent", "amount"]))


def test_the_fields_dropped_for_personal_data_stay_reserved() -> None:
    by_name = {m.full_name: m for m in event_messages()}
    for message_name, fields in DROPPED.items():
        shape = DescriptorProto()
        by_name[message_name].CopyToProto(shape)
        assert fields <= set(shape.reserved_name), message_name
        assert not fields & set(by_name[message_name].fields_by_name), message_name
