"""French law on what a debtor owes: late-payment interest at the ECB rate, the recovery
indemnity, prescription and the allocation of payments (Code civil 1343-1).

Intake computes what a case owes with it; settlement allocates money received with the same
code, so that both always agree on the figures.
"""
