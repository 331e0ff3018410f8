"""Recouvra's own platform library: what two services would otherwise copy."""
