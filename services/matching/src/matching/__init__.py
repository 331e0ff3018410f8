"""Matching: providers, bidding, auctions, assignments and rotation."""
