"""The double-entry ledger: accounts, journal entries and their lines, guarded by the database.

- Entries are numbered 1, 2, 3... by a trigger under a transaction lock: no gaps, commit order.
  Each carries a SHA-256 digest chaining it to the previous one (computed by the writer under the
  same lock, verified by `python -m settlement check`).
- Each entry must balance per currency, with at least two lines: checked at commit by deferred
  constraint triggers, whatever client wrote it.
- Nothing posted changes: UPDATE, DELETE and TRUNCATE of accounts, entries and lines are refused
  (corrections are reversing entries). Only someone able to disable triggers can bypass this;
  `python -m settlement check` is there for that.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

import re

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("ledger_accounts", "journal_entries", "journal_lines")

UPGRADE = r"""
CREATE TABLE ledger_accounts (
    code varchar(80) PRIMARY KEY,
    number varchar(10) NOT NULL,
    name text NOT NULL,
    type varchar(10) NOT NULL CONSTRAINT account_type
        CHECK (type IN ('asset', 'liability', 'equity', 'income', 'expense')),
    party_kind varchar(10),
    party_id varchar(64),
    opened_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT account_party CHECK ((party_kind IS NULL) = (party_id IS NULL)),
    CONSTRAINT account_code CHECK (code = number || coalesce('/' || party_id, ''))
);

CREATE TABLE journal_entries (
    entry_id uuid PRIMARY KEY,
    entry_no bigint NOT NULL UNIQUE,
    fact_key varchar(200) NOT NULL UNIQUE,
    booked_on date NOT NULL,
    journal varchar(4) NOT NULL,
    description text NOT NULL,
    reverses uuid UNIQUE REFERENCES journal_entries (entry_id),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    digest bytea NOT NULL CONSTRAINT digest_sha256 CHECK (length(digest) = 32)
);
CREATE INDEX ix_journal_entries_booked_on ON journal_entries (booked_on);

CREATE TABLE journal_lines (
    entry_id uuid NOT NULL REFERENCES journal_entries (entry_id),
    line_no integer NOT NULL,
    account_code varchar(80) NOT NULL REFERENCES ledger_accounts (code),
    case_id varchar(64),
    debit bigint NOT NULL DEFAULT 0,
    credit bigint NOT NULL DEFAULT 0,
    currency varchar(3) NOT NULL DEFAULT 'EUR',
    PRIMARY KEY (entry_id, line_no),
    CONSTRAINT one_side CHECK (debit >= 0 AND credit >= 0 AND (debit > 0) <> (credit > 0)),
    CONSTRAINT currency_code CHECK (currency ~ '^[A-Z]{3}$')
);
CREATE INDEX ix_journal_lines_account_code ON journal_lines (account_code);
CREATE INDEX ix_journal_lines_case_id ON journal_lines (case_id);

-- Numbering: one writer at a time takes the next number; the lock lasts until commit, so a
-- rolled-back entry leaves no hole and numbers follow commit order.
-- The lock key is settlement.adapters.ledger_repository.LEDGER_LOCK.
CREATE FUNCTION ledger_number_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7310582926110204718);
    SELECT coalesce(max(entry_no), 0) + 1 INTO NEW.entry_no FROM journal_entries;
    RETURN NEW;
END
$$;
CREATE TRIGGER journal_entries_number BEFORE INSERT ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_number_entry();

-- Balance, at commit: every entry touched has two lines or more and nets to zero per currency.
CREATE FUNCTION ledger_check_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    line_count integer;
    unbalanced record;
BEGIN
    SELECT count(*) INTO line_count FROM journal_lines WHERE entry_id = NEW.entry_id;
    IF line_count < 2 THEN
        RAISE EXCEPTION 'journal entry % has % line(s); an entry needs at least two',
            NEW.entry_id, line_count USING ERRCODE = 'check_violation';
    END IF;
    SELECT currency, sum(debit) AS debits, sum(credit) AS credits INTO unbalanced
        FROM journal_lines WHERE entry_id = NEW.entry_id
        GROUP BY currency HAVING sum(debit) <> sum(credit) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % is unbalanced in %: debits % <> credits %',
            NEW.entry_id, unbalanced.currency, unbalanced.debits, unbalanced.credits
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER journal_entries_balanced AFTER INSERT ON journal_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_entry();
CREATE CONSTRAINT TRIGGER journal_lines_balanced AFTER INSERT ON journal_lines
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_entry();

-- Append-only: what is posted stays as posted.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % is refused; book a reversing entry',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;
"""

GUARDS = r"""
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
"""


def _statements(script: str) -> list[str]:
    """One statement at a time: the async driver prepares each, and refuses several at once."""
    return [s.strip() for s in re.split(r";\n(?=CREATE|--|\n)", script) if s.strip()]


def upgrade() -> None:
    script = UPGRADE + "".join(GUARDS.format(table=table) for table in TABLES)
    for statement in _statements(script):
        op.execute(statement)


def downgrade() -> None:
    # Dropping the ledger is an operator's decision on a database that holds no books yet.
    op.execute("DROP TABLE journal_lines, journal_entries, ledger_accounts")
    op.execute("DROP FUNCTION ledger_refuse_change, ledger_check_entry, ledger_number_entry")
