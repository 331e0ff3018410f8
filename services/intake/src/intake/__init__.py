"""Intake: creditors, debtors, cases, invoice lines and legal amounts."""
