"""Vault: encrypted evidence, key ring, access grants and the audit chain."""
