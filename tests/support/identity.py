"""Signed caller identity in tests: one key pair per service, made once per test process, the
settings a service process needs to use them, and call metadata carrying a fresh token.

Tests call services the way the gateway does: with a token the gateway's key signs for a
person (`as_person`), or with a service's own token (`as_service`). The metadata mints a new
token each time a call is made with it, so a value kept for a long test never expires.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import overload

from recouvra_shared.context import Caller
from recouvra_shared.grpc import AUTHORIZATION
from recouvra_shared.identity import (
    PRIVATE_SUFFIX,
    TokenMinter,
    TokenVerifier,
    generate_key_pair,
    load_trusted_keys,
)

SERVICES = ("gateway", "intake", "scoring", "matching", "messaging", "vault", "settlement")
PEOPLE_ISSUERS = ("gateway",)


@dataclass(frozen=True)
class IdentityKeys:
    """A directory with every service's private key and the public keys they all trust."""

    directory: Path

    def private_key(self, service: str) -> Path:
        return self.directory / "private" / f"{service}{PRIVATE_SUFFIX}"

    @property
    def trusted(self) -> Path:
        return self.directory / "trusted"

    def minter(self, issuer: str = "gateway", **options: int) -> TokenMinter:
        """Mints as `issuer` with its key (the gateway's to name people)."""
        return TokenMinter.from_file(issuer, self.private_key(issuer), **options)  # type: ignore[arg-type]

    def verifier(self, service: str) -> TokenVerifier:
        """What `service` checks incoming calls with."""
        return TokenVerifier(service, load_trusted_keys([self.trusted]), PEOPLE_ISSUERS)

    def env(self, service: str) -> dict[str, str]:
        """The settings of a `service` process: its own key, the keys everyone trusts."""
        return {
            "RECOUVRA_IDENTITY_SIGNING_KEY": str(self.private_key(service)),
            "RECOUVRA_IDENTITY_TRUSTED_KEYS": str(self.trusted),
            "RECOUVRA_IDENTITY_PEOPLE_ISSUERS": ",".join(PEOPLE_ISSUERS),
        }


_MAKING = threading.Lock()


def identity_keys() -> IdentityKeys:
    """This test process's keys (generated on first use, deleted at exit); tests start service
    processes from several threads at once, and they must all get the same keys."""
    with _MAKING:
        return _make_keys()


@functools.cache
def _make_keys() -> IdentityKeys:
    directory = Path(tempfile.mkdtemp(prefix="recouvra-identity-"))
    atexit.register(shutil.rmtree, directory, True)
    for service in SERVICES:
        _, public = generate_key_pair(service, directory / "private")
        (directory / "trusted").mkdir(exist_ok=True)
        shutil.copy(public, directory / "trusted" / public.name)
    return IdentityKeys(directory)


class CallAs(Sequence[tuple[str, str]]):
    """gRPC metadata of a call to `audience` made by `caller` (signed by `issuer`), with a
    token minted afresh each time a call reads it."""

    def __init__(self, audience: str, caller: Caller | None, issuer: str = "gateway") -> None:
        self.audience, self.caller, self.issuer = audience, caller, issuer

    def token(self) -> str:
        return identity_keys().minter(self.issuer).mint(self.audience, self.caller)

    def _pairs(self) -> list[tuple[str, str]]:
        return [(AUTHORIZATION, f"Bearer {self.token()}")]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._pairs())

    def __len__(self) -> int:
        return 1

    @overload
    def __getitem__(self, index: int) -> tuple[str, str]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[str, str]]: ...
    def __getitem__(self, index: int | slice) -> tuple[str, str] | Sequence[tuple[str, str]]:
        return self._pairs()[index]

    def __repr__(self) -> str:
        return f"CallAs({self.audience!r}, {self.caller!r}, issuer={self.issuer!r})"


def as_person(audience: str, kind: str, tenant: str, subject: str = "", role: str = "") -> CallAs:
    """A call to `audience` by a person the gateway authenticated (creditor, provider, ...)."""
    return CallAs(audience, Caller(kind, subject or f"user-of-{tenant}", tenant or None, role))


def as_service(audience: str, service: str) -> CallAs:
    """A call to `audience` by `service` acting on its own behalf, signed with its own key."""
    return CallAs(audience, None, issuer=service)
