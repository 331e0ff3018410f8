"""The REST API. Route modules (accounts, cases, documents, quotes, providers, bidding,
assignments) are siblings: each imports `deps`, `idempotency`, `problems`, its own resource's
schemas (`gateway.schemas`) and the typed clients (`gateway.adapters`), never another route
module. `problems` holds the one mapping from refusals to problem+json."""
