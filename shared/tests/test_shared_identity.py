"""Signed caller identity: what a verified token says, and every token a receiver refuses."""

from __future__ import annotations

import json
import shutil
import stat
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.utils import base64url_encode

from recouvra_shared.context import Caller
from recouvra_shared.errors import Unauthenticated
from recouvra_shared.identity import (
    ReplayGuard,
    ServiceIdentity,
    TokenMinter,
    TokenVerifier,
    _main,
    generate_key_pair,
    load_signing_key,
    load_trusted_keys,
)
from recouvra_shared.settings import ServiceSettings

CREDITOR = Caller(kind="creditor", subject="finance@acme", tenant_id="creditor-1", role="admin")


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    """Private keys of the gateway and intake in private/, their public halves in trusted/."""
    for issuer in ("gateway", "intake"):
        _, public = generate_key_pair(issuer, tmp_path / "private")
        (tmp_path / "trusted").mkdir(exist_ok=True)
        shutil.copy(public, tmp_path / "trusted" / public.name)
    return tmp_path


def minter(keys: Path, issuer: str, **options: Any) -> TokenMinter:
    return TokenMinter.from_file(issuer, keys / "private" / f"{issuer}.key.pem", **options)


def verifier(keys: Path, audience: str = "vault") -> TokenVerifier:
    return TokenVerifier(audience, load_trusted_keys([keys / "trusted"]), ["gateway"])


def forged(keys: Path, issuer: str, **claims: Any) -> str:
    """A token signed with `issuer`'s real key, its claims as given over sound defaults."""
    signer = minter(keys, issuer)
    now = int(time.time())
    body = {
        "iss": issuer,
        "sub": issuer,
        "aud": "vault",
        "iat": now,
        "nbf": now,
        "exp": now + 30,
        "jti": str(uuid.uuid4()),
        "kind": "service",
        "org": "",
        "role": "",
    } | claims
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, signer.private_key, algorithm="EdDSA", headers={"kid": signer.key_id})


def test_the_gateway_names_a_person_and_the_receiver_reads_exactly_that(keys: Path) -> None:
    token = minter(keys, "gateway").mint("vault", CREDITOR)
    assert verifier(keys).verify(token) == CREDITOR
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == "gateway"
    assert claims["aud"] == "vault"
    assert 0 < claims["exp"] - claims["iat"] <= 60
    assert claims["nbf"] == claims["iat"]
    assert jwt.get_unverified_header(token)["kid"].startswith("gateway.")
    again = jwt.decode(
        minter(keys, "gateway").mint("vault", CREDITOR), options={"verify_signature": False}
    )
    assert again["jti"] != claims["jti"]


def test_a_service_without_a_caller_names_itself(keys: Path) -> None:
    token = minter(keys, "intake").mint("vault")
    assert verifier(keys).verify(token) == Caller(kind="service", subject="intake")


def refused(keys: Path, token: str, audience: str = "vault") -> str:
    with pytest.raises(Unauthenticated) as refusal:
        verifier(keys, audience).verify(token)
    return refusal.value.message


def test_an_expired_token_is_refused(keys: Path) -> None:
    old = minter(keys, "gateway", clock=lambda: time.time() - 120).mint("vault", CREDITOR)
    assert "expired" in refused(keys, old)


def test_a_token_not_valid_yet_is_refused(keys: Path) -> None:
    early = minter(keys, "gateway", clock=lambda: time.time() + 120).mint("vault", CREDITOR)
    assert "not yet valid" in refused(keys, early)


def test_a_token_for_another_service_is_refused(keys: Path) -> None:
    token = minter(keys, "gateway").mint("intake", CREDITOR)
    assert "Audience" in refused(keys, token)


def test_a_token_signed_by_a_key_nobody_trusts_is_refused(keys: Path, tmp_path: Path) -> None:
    stranger = TokenMinter("gateway", Ed25519PrivateKey.generate())
    assert "does not trust" in refused(keys, stranger.mint("vault", CREDITOR))


def test_only_a_people_asserting_issuer_names_a_person(keys: Path) -> None:
    for kind in ("creditor", "provider", "operator"):
        caller = Caller(kind=kind, subject="x", tenant_id="t")
        assert "may not speak for" in refused(keys, minter(keys, "intake").mint("vault", caller))


def test_a_service_speaks_only_for_itself(keys: Path) -> None:
    assert "only speak for itself" in refused(keys, forged(keys, "intake", sub="matching"))
    assert "unknown caller kind" in refused(keys, forged(keys, "intake", kind="root"))


def test_a_key_signs_only_for_its_own_issuer(keys: Path) -> None:
    # Intake's key, claiming to be the gateway so as to name a creditor.
    token = forged(keys, "intake", iss="gateway", kind="creditor", sub="u", org="c")
    assert "issuer" in refused(keys, token).lower()


@pytest.mark.parametrize("claim", ["jti", "exp", "nbf", "iat", "sub", "kind", "org", "role"])
def test_a_token_missing_a_required_claim_is_refused(keys: Path, claim: str) -> None:
    assert claim in refused(keys, forged(keys, "intake", **{claim: None}))


def test_a_token_living_longer_than_a_minute_is_refused(keys: Path) -> None:
    now = int(time.time())
    assert "60 s at most" in refused(keys, forged(keys, "intake", iat=now, exp=now + 3600))
    with pytest.raises(ValueError, match="lifetime_seconds"):
        minter(keys, "intake", lifetime_seconds=61)


def test_an_altered_or_unsigned_token_is_refused(keys: Path) -> None:
    token = minter(keys, "gateway").mint("vault", CREDITOR)
    header, body, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert refused(keys, f"{header}.{body}.{flipped}")
    claims = jwt.decode(token, options={"verify_signature": False}) | {"org": "creditor-2"}
    kid = jwt.get_unverified_header(token)["kid"]
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": kid})
    assert "does not trust" in refused(keys, unsigned)
    assert "not a token" in refused(keys, "not-a-jwt")


def test_rotation_trusts_old_and_new_then_only_the_new(keys: Path, tmp_path: Path) -> None:
    old_token = minter(keys, "gateway").mint("vault", CREDITOR)
    old_public = next((keys / "trusted").glob("gateway.*.pub.pem"))
    (keys / "private" / "gateway.key.pem").rename(tmp_path / "old-gateway.key.pem")
    _, new_public = generate_key_pair("gateway", keys / "private")
    shutil.copy(new_public, keys / "trusted" / new_public.name)
    new_token = minter(keys, "gateway").mint("vault", CREDITOR)
    assert verifier(keys).verify(old_token) == verifier(keys).verify(new_token) == CREDITOR
    old_public.unlink()
    assert verifier(keys).verify(new_token) == CREDITOR
    assert "does not trust" in refused(keys, old_token)


def test_at_most_two_keys_per_issuer_are_trusted(keys: Path) -> None:
    for n in range(2):
        _, public = generate_key_pair("gateway", keys / f"more-{n}")
        shutil.copy(public, keys / "trusted" / public.name)
    with pytest.raises(ValueError, match="at most 2 per issuer"):
        load_trusted_keys([keys / "trusted"])


def test_a_trusted_key_file_must_be_named_for_its_key(keys: Path) -> None:
    gateway = next((keys / "trusted").glob("gateway.*.pub.pem"))
    gateway.rename(keys / "trusted" / "intake.0123456789abcdef.pub.pem")
    with pytest.raises(ValueError, match="does not match"):
        load_trusted_keys([keys / "trusted"])


def test_key_generation_is_idempotent_and_keeps_the_private_key_private(tmp_path: Path) -> None:
    private, public = generate_key_pair("vault", tmp_path)
    first = load_signing_key(private).private_bytes_raw()
    assert generate_key_pair("vault", tmp_path) == (private, public)
    assert load_signing_key(private).private_bytes_raw() == first
    assert stat.S_IMODE(private.stat().st_mode) == 0o600


def test_a_service_trusting_no_key_does_not_start(tmp_path: Path) -> None:
    settings = ServiceSettings(service_name="vault", identity_trusted_keys=str(tmp_path))
    with pytest.raises(ValueError, match="names no public key"):
        ServiceIdentity.from_settings(settings)


def test_the_command_line_mints_a_token_a_service_accepts(
    keys: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = keys / "private" / "gateway.key.pem"
    argv = ["mint", "--key", str(key), "--issuer", "gateway", "--aud", "vault"]
    assert _main([*argv, "--kind", "creditor", "--sub", "me", "--org", "creditor-1"]) == 0
    scheme, token = capsys.readouterr().out.split()
    assert scheme == "Bearer"
    assert verifier(keys).verify(token) == Caller("creditor", "me", "creditor-1")


def test_a_token_is_taken_once_then_refused_as_a_replay(keys: Path) -> None:
    receiver = verifier(keys)
    token = minter(keys, "gateway").mint("vault", CREDITOR)
    assert receiver.verify(token) == CREDITOR
    assert "replayed" in refused_by(receiver, token)
    # A fresh token for the same caller is another call, taken at once.
    assert receiver.verify(minter(keys, "gateway").mint("vault", CREDITOR)) == CREDITOR


def test_a_refused_token_takes_no_slot_and_an_expired_id_is_forgotten(keys: Path) -> None:
    now = [1_000_000.0]
    guard = ReplayGuard(capacity=2, clock=lambda: now[0])
    receiver = TokenVerifier(
        "vault", load_trusted_keys([keys / "trusted"]), ["gateway"], replays=guard
    )
    assert refused_by(receiver, minter(keys, "intake").mint("vault", CREDITOR))
    assert len(guard) == 0
    guard.take("gateway:a", now[0] + 35)
    guard.take("gateway:b", now[0] + 35)
    with pytest.raises(Unauthenticated, match="replay cache full"):
        guard.take("gateway:c", now[0] + 35)
    with pytest.raises(Unauthenticated, match="replayed"):
        guard.take("gateway:a", now[0] + 35)
    now[0] += 36  # both tokens can no longer be verified: their ids are dropped
    guard.take("gateway:c", now[0] + 35)
    assert len(guard) == 1


def refused_by(receiver: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as refusal:
        receiver.verify(token)
    return refusal.value.message


def test_a_header_seen_in_a_good_token_still_checks_every_token_that_carries_it(
    keys: Path, tmp_path: Path
) -> None:
    receiver = verifier(keys)
    token = minter(keys, "gateway").mint("vault", CREDITOR)
    assert receiver.verify(token) == CREDITOR  # its header is now known to the receiver
    header, _body, signature = minter(keys, "gateway").mint("vault", CREDITOR).split(".")
    claims = jwt.decode(token, options={"verify_signature": False}) | {"org": "creditor-2"}
    altered = jwt.encode(claims, "x" * 32, algorithm="HS256").split(".")[1]
    assert "token refused" in refused_by(receiver, f"{header}.{altered}.{signature}")
    # The very same header segment, over fresh claims signed by a key nobody trusts.
    fresh = claims | {"org": "creditor-1", "jti": str(uuid.uuid4())}
    payload = base64url_encode(json.dumps(fresh).encode()).decode()
    forged_signature = Ed25519PrivateKey.generate().sign(f"{header}.{payload}".encode())
    stranger = f"{header}.{payload}.{base64url_encode(forged_signature).decode()}"
    assert "token refused" in refused_by(receiver, stranger)
    assert receiver.verify(minter(keys, "gateway").mint("vault", CREDITOR)) == CREDITOR
