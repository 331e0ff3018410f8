"""Messaging: case threads, dunning plans, debtor portal tokens, instalment plans, disputes."""
