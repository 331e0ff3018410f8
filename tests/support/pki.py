"""The tests' PKI: a CA, a certificate per service and one for the tests themselves as a caller.

Made once per test process (each xdist worker has its own), in a temporary directory, with the
same `recouvra_shared.pki.ensure_pki` that deploy/local uses; a second, unrelated CA stands for
an attacker's. Every gRPC server and channel of the integration and e2e tiers uses it.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from recouvra_shared.pki import ensure_pki
from recouvra_shared.tls import TlsMaterial, server_name_options

SERVICES = ("gateway", "intake", "scoring", "matching", "messaging", "vault", "settlement")
# The tests call services as a client of their own (client authentication only).
TEST_CLIENT = "test-client"


@dataclass(frozen=True)
class LocalPki:
    """A directory of `ca.crt` and `<name>.crt`/`<name>.key`, as deploy/local lays it out."""

    directory: Path

    def material(self, name: str) -> TlsMaterial:
        """The CA and the certificate and key of `name` (a service or TEST_CLIENT)."""
        return TlsMaterial.from_files(
            self.directory / "ca.crt",
            self.directory / f"{name}.crt",
            self.directory / f"{name}.key",
        )

    def env(self, service: str) -> dict[str, str]:
        """The environment giving a service process its TLS material."""
        return {
            "RECOUVRA_TLS_CA_FILE": str(self.directory / "ca.crt"),
            "RECOUVRA_TLS_CERT_FILE": str(self.directory / f"{service}.crt"),
            "RECOUVRA_TLS_KEY_FILE": str(self.directory / f"{service}.key"),
        }

    def channel(
        self,
        target: str,
        service: str,
        *,
        caller: str = TEST_CLIENT,
        options: Sequence[tuple[str, Any]] = (),
    ) -> grpc.aio.Channel:
        """A bare mutual-TLS channel (no interceptors) to `service` at `target`, as `caller`."""
        return grpc.aio.secure_channel(
            target,
            self.material(caller).channel_credentials(),
            options=[*options, *server_name_options(service)],
        )

    def sync_channel(
        self, target: str, service: str, *, options: Sequence[tuple[str, Any]] = ()
    ) -> grpc.Channel:
        """The same as a blocking channel (health waits outside an event loop)."""
        return grpc.secure_channel(
            target,
            self.material(TEST_CLIENT).channel_credentials(),
            options=[*options, *server_name_options(service)],
        )


def _make(prefix: str) -> LocalPki:
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    ensure_pki(directory, SERVICES, [TEST_CLIENT])
    return LocalPki(directory)


@functools.cache
def platform_pki() -> LocalPki:
    """The platform's CA and certificates for this test process."""
    return _make("recouvra-pki-")


@functools.cache
def rogue_pki() -> LocalPki:
    """Another CA, with certificates bearing the same names: never trusted by the platform."""
    return _make("recouvra-rogue-pki-")
