"""A local SANDBOX of Bridge's payment-links API, for development and tests only: never a
stand-in for Bridge in production (settlement refuses its credentials there)."""
