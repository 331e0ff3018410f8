"""Settlement: payments, allocations, the ledger, fees, commissions and payouts."""
