"""One Ed25519 signing key per service for the local stack, and the public keys they all trust.

    python deploy/local/identity_keys.py DIR SERVICE...

Writes DIR/private/<service>.key.pem (mode 0600, kept when present: running it again changes
nothing) and DIR/trusted/<kid>.pub.pem for each, where every service finds the keys it trusts
(RECOUVRA_IDENTITY_TRUSTED_KEYS=DIR/trusted). A trusted key of a service whose private key is no
longer there (deleted to make a new one) is removed, so the trusted directory names exactly the
keys in use.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from recouvra_shared.identity import PUBLIC_SUFFIX, generate_key_pair


def main(directory: Path, services: list[str]) -> None:
    """Make the missing keys and the trusted directory."""
    private, trusted = directory / "private", directory / "trusted"
    private.mkdir(parents=True, exist_ok=True)
    private.chmod(0o700)
    trusted.mkdir(parents=True, exist_ok=True)
    for service in services:
        _, public = generate_key_pair(service, private)
        for stale in trusted.glob(f"{service}.*{PUBLIC_SUFFIX}"):
            if stale.name != public.name:
                stale.unlink()
        shutil.copyfile(public, trusted / public.name)
        public.unlink()


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), sys.argv[2:])
