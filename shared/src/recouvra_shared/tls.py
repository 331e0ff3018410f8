"""Mutual TLS between services: the material each process holds and the gRPC credentials.

Every service holds one certificate, signed by the platform's CA, that it presents both as a
server and as a client. Servers require a client certificate chaining to the CA; clients check
that the server's certificate names the service they meant to call (`intake`, never the address
they dialled), so a vault certificate cannot pass for intake even on 127.0.0.1. Certificates
therefore name the service and its cluster DNS names, never `localhost` or an IP address.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

log = logging.getLogger(__name__)

# How often a service looks at its certificate files for a renewal, and how long at most it
# waits before restarting to present it (randomly, so that replicas restart one by one).
RENEWAL_CHECK_SECONDS = 60.0
RENEWAL_RESTART_SPREAD_SECONDS = 900.0


class TlsNotConfigured(RuntimeError):
    """A service was asked to serve or call gRPC without TLS material and without leave."""


@dataclass(frozen=True)
class TlsMaterial:
    """The CA bundle a process trusts, and its own certificate chain and private key (PEM)."""

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    @classmethod
    def from_files(cls, ca_file: Path, cert_file: Path, key_file: Path) -> TlsMaterial:
        """Read the three PEM files."""
        return cls(ca_file.read_bytes(), cert_file.read_bytes(), key_file.read_bytes())

    def server_credentials(self) -> grpc.ServerCredentials:
        """Serve with this certificate; refuse every client without one signed by the CA."""
        return grpc.ssl_server_credentials(
            [(self.key_pem, self.cert_pem)],
            root_certificates=self.ca_pem,
            require_client_auth=True,
        )

    def channel_credentials(self) -> grpc.ChannelCredentials:
        """Call with this certificate; accept only servers whose certificate the CA signed."""
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca_pem,
            private_key=self.key_pem,
            certificate_chain=self.cert_pem,
        )


def server_name_options(server_name: str) -> list[tuple[str, Any]]:
    """Channel options making the client accept only a certificate naming `server_name`."""
    return [("grpc.ssl_target_name_override", server_name)]


def load_tls(settings: Any) -> TlsMaterial | None:
    """The process's TLS material from its settings; None only under the development switch.

    Refuses to go on (TlsNotConfigured) when nothing is configured and RECOUVRA_TLS_INSECURE is
    not set: a service never falls back to plain text by accident.
    """
    files = (settings.tls_ca_file, settings.tls_cert_file, settings.tls_key_file)
    if all(files):
        return TlsMaterial.from_files(*files)
    if settings.tls_insecure:
        return None
    raise TlsNotConfigured(
        f"{settings.service_name}: gRPC needs mutual TLS: set RECOUVRA_TLS_CA_FILE, "
        "RECOUVRA_TLS_CERT_FILE and RECOUVRA_TLS_KEY_FILE (deploy/local/certificates.py makes "
        "them), or RECOUVRA_TLS_INSECURE=true for plain text in development"
    )


async def watch_renewal(
    settings: Any,
    loaded: TlsMaterial,
    on_renewed: Callable[[], None],
    *,
    check_seconds: float = RENEWAL_CHECK_SECONDS,
    spread_seconds: float = RENEWAL_RESTART_SPREAD_SECONDS,
) -> None:
    """Call `on_renewed` once the TLS files on disk differ from those the process loaded.

    grpc cannot swap a running server's or channel's certificate, so a service restarts
    gracefully to present a renewed one (cert-manager renews 10 days before the end, the kubelet
    updates the mounted files, the container restarts). The restart waits a random part of
    `spread_seconds` so that the replicas, which share the Secret, do not all go at once.
    """
    files = (settings.tls_ca_file, settings.tls_cert_file, settings.tls_key_file)
    while True:
        await asyncio.sleep(check_seconds)
        try:
            current = TlsMaterial.from_files(*files)
        except OSError:
            continue  # being replaced: look again next time
        if current != loaded:
            break
    delay = random.uniform(0, spread_seconds)  # spreads restarts; nothing secret about it
    log.warning("TLS certificate renewed on disk: restarting in %.0f s to present it", delay)
    await asyncio.sleep(delay)
    on_renewed()
