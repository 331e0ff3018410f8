"""The local stack's PKI: a CA and one certificate per service, for gRPC's mutual TLS.

    .venv/bin/python deploy/local/certificates.py DIRECTORY

Idempotent: run before every start (deploy/local/services.sh does). It creates what is missing
and issues again what ends within ten days, was signed by another CA or names other hosts; a CA
close to its end is replaced together with every certificate. DIRECTORY then holds `ca.crt`
(the CA every service trusts), `<service>.crt`/`<service>.key` (server and client) and
`operator.crt`/`operator.key` (a client certificate for people calling services by hand, e.g.
with grpcurl). Private keys are readable by their owner only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from recouvra_shared.pki import ensure_pki

SERVICES = ("gateway", "intake", "scoring", "matching", "messaging", "vault", "settlement")
CLIENTS = ("operator",)


def main() -> None:
    """Make or renew the certificates and say which changed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args()
    issued = ensure_pki(args.directory, SERVICES, CLIENTS)
    if issued:
        print(f"[certificates] issued in {args.directory}: {' '.join(issued)}")


if __name__ == "__main__":
    main()
