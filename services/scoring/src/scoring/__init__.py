"""Scoring: the Trustscore, debtor segments and the recommended strategy."""
