"""The rules a new case must satisfy, checked without a database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.domain.commands import SubmitCase
from intake.domain.csv_import import column_of, read_rows
from intake.domain.debtors import DebtorInput
from intake.domain.errors import InvalidField, InvalidRequest, Violation
from intake.domain.invoices import InvoiceInput
from intake.domain.model import new_case
from recouvra_shared.legal.money import AmountError, format_amount, to_minor_units

TODAY = date(2026, 11, 23)


def command(debtor: DebtorInput | None = None, *invoices: InvoiceInput) -> SubmitCase:
    return SubmitCase(
        creditor_id="creditor-a",
        debtor=debtor or DebtorInput(kind="company", name="ACME SAS", siren_or_siret="552032534"),
        invoices=invoices or (InvoiceInput("F-1", "2026-01-01", "2026-01-31", "EUR", "10.00"),),
    )


def rules(cmd: SubmitCase) -> dict[str, str]:
    with pytest.raises(InvalidRequest) as refused:
        new_case(cmd, TODAY)
    return {v.field: v.rule for v in refused.value.violations}


def test_a_siret_gives_the_siren_and_names_the_same_debtor() -> None:
    by_siret = new_case(
        command(DebtorInput(kind="company", name="Acme", siren_or_siret="443 061 841 00013")),
        TODAY,
    )
    by_siren = new_case(
        command(DebtorInput(kind="company", name="ACME SAS", siren_or_siret="443061841")), TODAY
    )
    assert by_siret.debtor.siren == "443061841"
    assert by_siret.debtor.siret == "44306184100013"
    assert by_siret.debtor.key == by_siren.debtor.key


def test_without_identifiers_the_debtor_is_known_by_its_normalised_name() -> None:
    one = new_case(command(DebtorInput(kind="consumer", name="Jean  Dupont")), TODAY)
    two = new_case(command(DebtorInput(kind="consumer", name="jean dupont")), TODAY)
    assert one.debtor.key == two.debtor.key


def test_identifier_rules() -> None:
    found = rules(
        command(
            DebtorInput(
                kind="company",
                name="Acme",
                siren_or_siret="1234",
                vat_number="FR27552032534",
                iban="",
                bic="BNPAFRPP",
            )
        )
    )
    assert found == {
        "debtor.siren_or_siret": "must be a SIREN (9 digits) or a SIRET (14 digits)",
        "debtor.bank_account.iban": "is required with a BIC",
    }
    mismatch = rules(
        command(
            DebtorInput(
                kind="company", name="Acme", siren_or_siret="443061841", vat_number="FR27552032534"
            )
        )
    )
    assert mismatch == {"debtor.vat_number": "does not match the SIREN of the debtor"}


def test_a_foreign_address_needs_no_french_postal_code() -> None:
    case = new_case(
        command(
            DebtorInput(
                kind="company",
                name="Acme GmbH",
                vat_number="DE136695976",
                address_lines=("Unter den Linden 1",),
                postal_code="10117",
                city="Berlin",
                country_code="de",
                phone="030 1234567",
                iban="DE89 3704 0044 0532 0130 00",
            )
        ),
        TODAY,
    )
    assert case.debtor.country_code == "DE"
    assert case.debtor.phone == "+49301234567"
    assert case.debtor.iban == "DE89370400440532013000"


def test_an_empty_case_names_what_is_missing() -> None:
    found = rules(SubmitCase(creditor_id="", debtor=DebtorInput(kind="", name=""), invoices=()))
    assert found == {
        "creditor_id": "is required",
        "debtor.kind": "must be COMPANY or CONSUMER",
        "debtor.name": "is required",
        "invoices": "must list at least one unpaid invoice",
    }


def test_dates_must_be_real_dates() -> None:
    found = rules(command(None, InvoiceInput("F-1", "2026-02-30", "31/01/2026", "EUR", "10")))
    assert found == {
        "invoices[0].issue_date": "must be an ISO 8601 date (YYYY-MM-DD)",
        "invoices[0].due_date": "must be an ISO 8601 date (YYYY-MM-DD)",
    }


@given(
    st.sampled_from(["EUR", "JPY", "KWD", "CHF"]),
    st.integers(min_value=1, max_value=10**9),
)
def test_amounts_round_trip_exactly(currency: str, minor: int) -> None:
    text = format_amount(minor, currency)
    assert to_minor_units(text, currency) == minor
    assert Decimal(text) * (10 ** {"EUR": 2, "JPY": 0, "KWD": 3, "CHF": 2}[currency]) == minor


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "1_000", " ", "0.00", "-1", "1e2"])
def test_odd_amounts_are_refused(bad: str) -> None:
    with pytest.raises(AmountError):
        to_minor_units(bad, "EUR")


def test_metal_and_unknown_currencies_are_refused() -> None:
    with pytest.raises(AmountError, match="minor unit"):
        to_minor_units("1", "XAU")
    with pytest.raises(AmountError, match="ISO 4217"):
        to_minor_units("1", "EURO")


def test_csv_rows_map_back_to_their_columns() -> None:
    content = (
        b"debtor_kind;debtor_name;invoice_number;issue_date;due_date;currency;amount_due\n"
        b"company;Acme;F-1;2026-01-01;2026-01-31;EUR;12,50\n"
        b"company;Acme;F-2;2026-01-01\n"
    )
    first, second = list(read_rows(content, "creditor-a"))
    assert first.command is not None
    assert first.command.invoices[0].amount_due == "12.50"
    assert second.command is not None
    # A short row leaves the missing cells empty: each is named by its column.
    assert {column_of(v.field) for v in _violations(second.command)} == {"due_date", "currency"}


def _violations(cmd: SubmitCase) -> list[Violation]:
    with pytest.raises(InvalidRequest) as refused:
        new_case(cmd, TODAY)
    return list(refused.value.violations)


def test_a_csv_with_too_many_values_on_a_row_is_told_so() -> None:
    content = b"debtor_kind,debtor_name,invoice_number,issue_date,due_date,currency,amount_due\n"
    content += b"company,Acme,F-1,2026-01-01,2026-01-31,EUR,10,extra\n"
    (row,) = read_rows(content, "c")
    assert row.command is None
    assert row.violations[0].field == "row"


def test_a_csv_header_that_is_not_csv_refuses_the_file_by_name() -> None:
    with pytest.raises(InvalidField) as refused:
        list(read_rows(b'"invoice_number"x,amount_due\nF-1,10\n', "c"))
    assert refused.value.field == "content"
    assert refused.value.rule.startswith("is not valid CSV near line 1:")


def test_blank_lines_are_skipped_and_lines_keep_their_numbers() -> None:
    content = b"debtor_kind,debtor_name,invoice_number,issue_date,due_date,currency,amount_due\n"
    content += b"\ncompany,Acme,F-1,2026-01-01,2026-01-31,EUR,10\n\n"
    (row,) = read_rows(content, "c")
    assert row.line == 3
    assert row.command is not None


def test_control_characters_are_refused_by_name_not_stored() -> None:
    refused = rules(
        command(
            DebtorInput(kind="company", name="ACME\x00SAS", siren_or_siret="552032534"),
            InvoiceInput("F-\x07", "2026-01-01", "2026-01-31", "EUR", "10.00"),
        )
    )
    assert refused["debtor.name"] == "must not contain control characters"
    assert refused["invoices[0].invoice_number"] == "must not contain control characters"
