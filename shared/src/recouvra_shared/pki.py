"""A small PKI (cryptography): the local stack's CA and service certificates, and the tests'.

Keys are ECDSA P-256. A service certificate may authenticate a server and a client (a service
is both); a person's or a test's certificate only a client. Names go in subjectAltName: the bare
service name that clients check, and the service's Kubernetes DNS names.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Local certificates live a month and are renewed in their last ten days, as cert-manager does
# in k8s/. The CA lives a year.
SERVICE_VALIDITY = dt.timedelta(days=30)
RENEW_BEFORE = dt.timedelta(days=10)
CA_VALIDITY = dt.timedelta(days=365)
ORGANISATION = "Recouvra"


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key, PEM."""

    cert_pem: bytes
    key_pem: bytes


def service_dns_names(service: str, namespace: str = "recouvra") -> list[str]:
    """The names a service's certificate carries: the bare name clients check, and its
    Kubernetes Service names (ClusterIP and the headless `-pods` twin) in `namespace`."""
    names = [service]
    for host in (service, f"{service}-pods"):
        names += [f"{host}.{namespace}.svc", f"{host}.{namespace}.svc.cluster.local"]
    return names


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def create_ca(
    common_name: str = "Recouvra local CA", validity: dt.timedelta = CA_VALIDITY
) -> Issued:
    """A self-signed CA that may sign service certificates and nothing below them."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def issue_certificate(
    ca: Issued,
    common_name: str,
    dns_names: Sequence[str],
    *,
    validity: dt.timedelta = SERVICE_VALIDITY,
    server: bool = True,
) -> Issued:
    """A leaf certificate signed by `ca`: client authentication always, server authentication
    when `server` (a service), names in its subjectAltName."""
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
    if server:
        usages.insert(0, ExtendedKeyUsageOID.SERVER_AUTH)
    alt_names = [x509.DNSName(name) for name in dns_names]
    now = _now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
                    x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + validity, ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return Issued(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def needs_renewal(
    cert_pem: bytes,
    ca_pem: bytes,
    dns_names: Sequence[str],
    renew_before: dt.timedelta = RENEW_BEFORE,
) -> bool:
    """True when the certificate expires within `renew_before`, was not issued by this CA, or
    does not carry exactly these names."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    ca_cert = x509.load_pem_x509_certificate(ca_pem)
    if cert.not_valid_after_utc - renew_before <= _now() or cert.issuer != ca_cert.subject:
        return True
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return True
    try:
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = alt.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    return sorted(names) != sorted(dns_names)


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner may read (private keys)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def ensure_pki(
    directory: Path,
    services: Sequence[str],
    clients: Sequence[str] = (),
    *,
    namespace: str = "recouvra",
) -> list[str]:
    """Make `directory` hold a CA (`ca.crt`, `ca.key`) and `<name>.crt`/`<name>.key` for each
    service (server and client) and each client-only name; returns the names (re)issued.

    Idempotent: a certificate is issued again only when missing, within RENEW_BEFORE of its
    end, signed by another CA or naming other hosts; a CA within RENEW_BEFORE of its end is
    replaced, and every certificate with it.
    """
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca_crt, ca_key = directory / "ca.crt", directory / "ca.key"
    issued: list[str] = []
    if not (ca_crt.exists() and ca_key.exists()) or needs_renewal(
        ca_crt.read_bytes(), ca_crt.read_bytes(), [], RENEW_BEFORE
    ):
        ca = create_ca()
        write_private(ca_key, ca.key_pem)
        ca_crt.write_bytes(ca.cert_pem)
        issued.append("ca")
    ca = Issued(ca_crt.read_bytes(), ca_key.read_bytes())
    wanted = [(s, service_dns_names(s, namespace), True) for s in services]
    wanted += [(c, [], False) for c in clients]
    for name, dns_names, server in wanted:
        crt, key = directory / f"{name}.crt", directory / f"{name}.key"
        if (
            crt.exists()
            and key.exists()
            and not needs_renewal(crt.read_bytes(), ca.cert_pem, dns_names)
        ):
            continue
        leaf = issue_certificate(ca, name, dns_names, server=server)
        write_private(key, leaf.key_pem)
        crt.write_bytes(leaf.cert_pem)
        issued.append(name)
    return issued
