"""Signed caller identity between services: a short-lived Ed25519 JWT minted for each call.

The gateway, having authenticated a person or an API key, mints a token naming that person for
each call it makes; a service acting on its own behalf mints one naming itself (kind `service`,
subject its own name). The receiver believes a token only when a key it trusts signed it (chosen
by `kid`, each key bound to one issuer), its own name is the audience, the token lives a minute at
most and is within its validity, and the issuer may speak for that caller: only the issuers
configured to assert people (the gateway) may name a creditor, provider or operator.

Files: a service's private key is `<issuer>.key.pem` (PKCS#8 PEM, mode 0600); its public half is
`<kid>.pub.pem` with `kid = <issuer>.<fingerprint>`. A directory of public halves is what a
service trusts; two per issuer at once let a key be rotated without a refused call.

    python -m recouvra_shared.identity keygen --issuer intake --dir var/identity
    python -m recouvra_shared.identity mint --key var/identity/gateway.key.pem --issuer gateway \
        --aud intake --kind creditor --sub finance@acme --org <creditor id>
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import os
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from recouvra_shared.context import Caller
from recouvra_shared.errors import Unauthenticated
from recouvra_shared.settings import ServiceSettings

ALGORITHM = "EdDSA"
SERVICE_KIND = "service"
# Kinds that name a person or an organisation's account; only a people-asserting issuer names them.
PERSON_KINDS = frozenset({"creditor", "partner", "provider", "operator", "debtor"})
MAX_LIFETIME_SECONDS = 60
DEFAULT_LIFETIME_SECONDS = 30
LEEWAY_SECONDS = 5
MAX_KEYS_PER_ISSUER = 2
REQUIRED_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "nbf", "jti", "kind", "org", "role")
# Token ids remembered per receiving process (one entry lives 65 s at most: ~1,500 calls a second).
REPLAY_CACHE_ENTRIES = 100_000
PRIVATE_SUFFIX = ".key.pem"
PUBLIC_SUFFIX = ".pub.pem"


def key_id(issuer: str, public_key: Ed25519PublicKey) -> str:
    """`<issuer>.<first 16 hex digits of the SHA-256 of the raw public key>`."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return f"{issuer}.{hashlib.sha256(raw).hexdigest()[:16]}"


def _public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def generate_key_pair(issuer: str, directory: Path) -> tuple[Path, Path]:
    """Write `<issuer>.key.pem` and its `<kid>.pub.pem` in `directory`; an existing private key
    is kept (so running it again changes nothing) and only its public half is written again."""
    if not issuer or "." in issuer or "/" in issuer:
        raise ValueError(f"issuer: {issuer!r} must be a non-empty name without '.' or '/'")
    directory.mkdir(parents=True, exist_ok=True)
    private_path = directory / f"{issuer}{PRIVATE_SUFFIX}"
    if private_path.exists():
        private_key = load_signing_key(private_path)
    else:
        private_key = Ed25519PrivateKey.generate()
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
    public_key = private_key.public_key()
    public_path = directory / f"{key_id(issuer, public_key)}{PUBLIC_SUFFIX}"
    public_path.write_bytes(_public_pem(public_key))
    return private_path, public_path


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in a PEM file; anything else is refused."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return key


@dataclass(frozen=True)
class TrustedKey:
    """A public key the receiver trusts, and the one issuer it may sign for."""

    issuer: str
    key_id: str
    public_key: Ed25519PublicKey


def trusted_key(path: Path) -> TrustedKey:
    """The trusted key in a `<kid>.pub.pem` file, refused when its name does not match it."""
    if not path.name.endswith(PUBLIC_SUFFIX):
        raise ValueError(f"{path}: a trusted key file is named <kid>{PUBLIC_SUFFIX}")
    kid = path.name.removesuffix(PUBLIC_SUFFIX)
    issuer = kid.rpartition(".")[0]
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path}: not an Ed25519 public key")
    if not issuer or key_id(issuer, key) != kid:
        raise ValueError(f"{path}: the file name does not match the key it holds")
    return TrustedKey(issuer=issuer, key_id=kid, public_key=key)


def load_trusted_keys(sources: Iterable[Path]) -> dict[str, TrustedKey]:
    """Every `*.pub.pem` of the given directories and files, by key id; at most two per issuer."""
    keys: dict[str, TrustedKey] = {}
    for source in sources:
        files = sorted(source.glob(f"*{PUBLIC_SUFFIX}")) if source.is_dir() else [source]
        for path in files:
            key = trusted_key(path)
            keys[key.key_id] = key
    per_issuer = Counter(key.issuer for key in keys.values())
    crowded = sorted(issuer for issuer, count in per_issuer.items() if count > MAX_KEYS_PER_ISSUER)
    if crowded:
        raise ValueError(
            f"trusted keys: at most {MAX_KEYS_PER_ISSUER} per issuer (old and new during a "
            f"rotation); too many for {', '.join(crowded)}"
        )
    return keys


class TokenMinter:
    """Mints the token of one call: for the caller in hand, or for this service itself."""

    def __init__(
        self,
        issuer: str,
        private_key: Ed25519PrivateKey,
        *,
        lifetime_seconds: int = DEFAULT_LIFETIME_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 < lifetime_seconds <= MAX_LIFETIME_SECONDS:
            raise ValueError(f"lifetime_seconds: must be within 1..{MAX_LIFETIME_SECONDS}")
        self.issuer = issuer
        self.private_key = private_key
        self.key_id = key_id(issuer, private_key.public_key())
        self.lifetime_seconds = lifetime_seconds
        self.clock = clock

    @classmethod
    def from_file(cls, issuer: str, path: Path, **options: Any) -> TokenMinter:
        """A minter signing with the private key in `path`."""
        return cls(issuer, load_signing_key(path), **options)

    def mint(self, audience: str, caller: Caller | None = None) -> str:
        """A token for one call to `audience`, naming `caller`; a service caller (or none) is
        this service itself, whatever subject it claims."""
        now = int(self.clock())
        if caller is None or caller.kind == SERVICE_KIND:
            kind, subject, org, role = SERVICE_KIND, self.issuer, "", ""
        else:
            kind, subject, org, role = (
                caller.kind,
                caller.subject,
                caller.tenant_id or "",
                caller.role,
            )
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime_seconds,
            "jti": str(uuid.uuid4()),
            "kind": kind,
            "org": org or "",
            "role": role or "",
        }
        headers = {"kid": self.key_id}
        return jwt.encode(claims, self.private_key, algorithm=ALGORITHM, headers=headers)


class ReplayGuard:
    """The token ids this process has taken, each kept until its token can no longer be
    verified (expiry plus leeway), so a token is taken once. Bounded: when every slot holds a
    live token id the call is refused (failing closed) rather than forgetting one still usable.

    Per process, not shared between replicas: a token is bound to one audience and lives 30 s
    (60 at most), and travels only over mutual TLS between services; see "Token replay" in
    the README for why that suffices."""

    def __init__(
        self,
        capacity: int = REPLAY_CACHE_ENTRIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.capacity = capacity
        self.clock = clock
        self._until: dict[str, float] = {}
        self._expiries: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._until)

    def take(self, token_id: str, usable_until: float) -> None:
        """Records `token_id`; Unauthenticated when it was taken before or no slot is free."""
        with self._lock:
            now = self.clock()
            while self._expiries and self._expiries[0][0] < now:
                _, gone = heapq.heappop(self._expiries)
                self._until.pop(gone, None)
            if token_id in self._until:
                raise Unauthenticated("authorization: token already used (jti replayed)")
            if len(self._until) >= self.capacity:
                raise Unauthenticated("authorization: replay cache full; call refused")
            self._until[token_id] = usable_until
            heapq.heappush(self._expiries, (usable_until, token_id))


# Headers are cached only from verified tokens: one per trusted key in practice.
MAX_CACHED_HEADERS = 64


class TokenVerifier:
    """Derives the caller of a call from its token, or refuses it as Unauthenticated; each
    token is taken once (its `jti` is remembered until it expires)."""

    def __init__(
        self,
        audience: str,
        trusted: Mapping[str, TrustedKey],
        people_issuers: Iterable[str],
        *,
        leeway_seconds: int = LEEWAY_SECONDS,
        replays: ReplayGuard | None = None,
    ) -> None:
        self.audience = audience
        self.trusted = dict(trusted)
        self.people_issuers = frozenset(people_issuers)
        self.leeway_seconds = leeway_seconds
        self.replays = replays if replays is not None else ReplayGuard()
        # The parsed header of each header segment seen in a token that passed every check: one
        # per caller's key, the same in all its tokens. Parsing it again cost a quarter of a
        # verification (docs/performance.md, Scoring); the segment is part of what the
        # signature covers, so a cached one is still checked on every token.
        self._headers: dict[str, dict[str, Any]] = {}

    def verify(self, token: str) -> Caller:
        """The caller the token names; Unauthenticated (its reason says which check failed)."""
        segment = token.partition(".")[0]
        header = self._headers.get(segment)
        if header is None:
            try:
                header = jwt.get_unverified_header(token)
            except jwt.PyJWTError as exc:
                raise Unauthenticated(f"authorization: not a token ({exc})") from exc
        key = self.trusted.get(str(header.get("kid", "")))
        if header.get("alg") != ALGORITHM or key is None:
            raise Unauthenticated("authorization: signed by a key this service does not trust")
        try:
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=key.issuer,
                leeway=self.leeway_seconds,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"authorization: token refused ({exc})") from exc
        caller = self._caller(claims)
        # Only a token that passed every check takes a slot: nobody without a key can fill it.
        token_id = claims["jti"]
        if not isinstance(token_id, str) or not token_id:
            raise Unauthenticated("authorization: jti is required")
        self.replays.take(f"{key.issuer}:{token_id}", claims["exp"] + self.leeway_seconds)
        if len(self._headers) < MAX_CACHED_HEADERS:
            self._headers[segment] = header
        return caller

    def _caller(self, claims: dict[str, Any]) -> Caller:
        if not isinstance(claims["iat"], int) or not isinstance(claims["exp"], int):
            raise Unauthenticated("authorization: iat and exp must be whole seconds")
        if claims["exp"] - claims["iat"] > MAX_LIFETIME_SECONDS:
            raise Unauthenticated(
                f"authorization: a token may live {MAX_LIFETIME_SECONDS} s at most"
            )
        issuer, kind, subject = claims["iss"], claims["kind"], claims["sub"]
        if kind == SERVICE_KIND:
            if subject != issuer:
                raise Unauthenticated("authorization: a service may only speak for itself")
        elif kind in PERSON_KINDS:
            if issuer not in self.people_issuers:
                raise Unauthenticated(f"authorization: {issuer} may not speak for a {kind}")
        else:
            raise Unauthenticated(f"authorization: unknown caller kind {kind!r}")
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated("authorization: sub is required")
        return Caller(
            kind=kind,
            subject=subject,
            tenant_id=str(claims["org"]) or None,
            role=str(claims["role"]),
        )


@dataclass(frozen=True)
class ServiceIdentity:
    """What a service signs its own calls with and checks incoming calls against."""

    name: str
    verifier: TokenVerifier
    minter: TokenMinter | None = None

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> ServiceIdentity:
        """The identity the settings configure; refused when they name no trusted key."""
        sources = [Path(p.strip()) for p in settings.identity_trusted_keys.split(",") if p.strip()]
        trusted = load_trusted_keys(sources)
        if not trusted:
            raise ValueError(
                "identity_trusted_keys: names no public key; without one every call is refused "
                "(set RECOUVRA_IDENTITY_TRUSTED_KEYS)"
            )
        people = [p.strip() for p in settings.identity_people_issuers.split(",") if p.strip()]
        signing_key = settings.identity_signing_key.strip()
        minter = (
            TokenMinter.from_file(
                settings.service_name,
                Path(signing_key),
                lifetime_seconds=settings.identity_token_lifetime_seconds,
            )
            if signing_key
            else None
        )
        verifier = TokenVerifier(settings.service_name, trusted, people)
        return cls(settings.service_name, verifier, minter)

    def signer(self) -> TokenMinter:
        """The minter of this service's own calls; refused when no signing key is configured."""
        if self.minter is None:
            raise ValueError(
                f"identity_signing_key: {self.name} calls other services and needs a signing key "
                "(set RECOUVRA_IDENTITY_SIGNING_KEY)"
            )
        return self.minter


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recouvra_shared.identity")
    commands = parser.add_subparsers(dest="command", required=True)
    keygen = commands.add_parser("keygen", help="write an issuer's key pair (kept if present)")
    keygen.add_argument("--issuer", required=True, action="append", help="repeat for several")
    keygen.add_argument("--dir", required=True, type=Path)
    mint = commands.add_parser("mint", help="print a token (for grpcurl -H 'authorization: ...')")
    mint.add_argument("--key", required=True, type=Path, help="the issuer's private key file")
    mint.add_argument("--issuer", required=True, help="whose key it is (gateway to name people)")
    mint.add_argument("--aud", required=True, help="the service called, e.g. intake")
    mint.add_argument("--kind", default=SERVICE_KIND, help="creditor, provider, operator, ...")
    mint.add_argument("--sub", default="", help="the person or account (a service: itself)")
    mint.add_argument("--org", default="", help="the tenant: creditor or provider id")
    mint.add_argument("--role", default="")
    mint.add_argument("--ttl", type=int, default=MAX_LIFETIME_SECONDS)
    args = parser.parse_args(argv)
    if args.command == "keygen":
        for issuer in args.issuer:
            private_path, public_path = generate_key_pair(issuer, args.dir)
            print(f"{private_path}\n{public_path}")
        return 0
    minter = TokenMinter.from_file(args.issuer, args.key, lifetime_seconds=args.ttl)
    caller = Caller(kind=args.kind, subject=args.sub, tenant_id=args.org or None, role=args.role)
    print(f"Bearer {minter.mint(args.aud, caller)}")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
