"""How a Kafka client proves who it is: SASL SCRAM-SHA-512 inside TLS, or nothing (PLAINTEXT).

The local stack and Strimzi both give each service its own user; the broker's ACLs then decide
what that user may write and read. One connection description feeds FastStream's broker and
every raw aiokafka client, so no client can forget the credentials.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from faststream.security import SASLScram512

if TYPE_CHECKING:
    from recouvra_shared.settings import ServiceSettings

SecurityProtocol = Literal["PLAINTEXT", "SASL_SSL"]
SASL_MECHANISM = "SCRAM-SHA-512"


def tls_context(ca_file: str) -> ssl.SSLContext:
    """A client TLS context that checks the broker's certificate and name against ca_file
    (the system's trust store when empty)."""
    context = ssl.create_default_context(cafile=ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


@dataclass(frozen=True)
class KafkaConnection:
    """Where the brokers are and, for SASL_SSL, whose credentials to present."""

    bootstrap: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    username: str = ""
    password: str = field(default="", repr=False)
    ca_file: str = ""

    def __post_init__(self) -> None:
        if self.security_protocol == "SASL_SSL" and not (self.username and self.password):
            raise ValueError("kafka credentials: SASL_SSL needs a username and a password")

    @classmethod
    def of(cls, settings: ServiceSettings) -> KafkaConnection:
        """A service's own connection: its user defaults to the service's name."""
        return cls(
            bootstrap=settings.kafka_bootstrap,
            security_protocol=settings.kafka_security_protocol,
            username=settings.kafka_username or settings.service_name,
            password=settings.kafka_password.get_secret_value(),
            ca_file=settings.kafka_ca_file,
        )

    @classmethod
    def admin_from_environment(cls) -> KafkaConnection:
        """The operator's connection for tools (dead-letter replay, provisioning): the
        RECOUVRA_KAFKA_* variables that `deploy/local/stack.sh env` prints."""
        env = os.environ
        protocol = env.get("RECOUVRA_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
        if protocol not in ("PLAINTEXT", "SASL_SSL"):
            raise ValueError(
                f"RECOUVRA_KAFKA_SECURITY_PROTOCOL: {protocol!r} is not PLAINTEXT or SASL_SSL"
            )
        return cls(
            bootstrap=env.get("RECOUVRA_KAFKA_BOOTSTRAP", "127.0.0.1:19092"),
            security_protocol=protocol,  # type: ignore[arg-type]
            username=env.get("RECOUVRA_KAFKA_ADMIN_USERNAME", ""),
            password=env.get("RECOUVRA_KAFKA_ADMIN_PASSWORD", ""),
            ca_file=env.get("RECOUVRA_KAFKA_CA_FILE", ""),
        )

    def as_user(self, username: str, password: str) -> KafkaConnection:
        """The same brokers with another user's credentials."""
        return KafkaConnection(
            self.bootstrap, self.security_protocol, username, password, self.ca_file
        )

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (producer, consumer, admin)."""
        options: dict[str, Any] = {"bootstrap_servers": self.bootstrap}
        if self.security_protocol == "SASL_SSL":
            options |= {
                "security_protocol": "SASL_SSL",
                "sasl_mechanism": SASL_MECHANISM,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password,
                "ssl_context": tls_context(self.ca_file),
            }
        return options

    def faststream_security(self) -> SASLScram512 | None:
        """FastStream's description of the same credentials (None for PLAINTEXT)."""
        if self.security_protocol == "PLAINTEXT":
            return None
        return SASLScram512(self.username, self.password, ssl_context=tls_context(self.ca_file))
