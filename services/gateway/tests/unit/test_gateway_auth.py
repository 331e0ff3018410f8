"""Authentication: tokens, passwords, API keys and the partner -> creditor relationship."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from gateway.adapters import security
from gateway.adapters.security import Passwords, Tokens
from gateway.domain.errors import (
    EmailTaken,
    InvalidCredentials,
    InvalidField,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
)
from gateway.domain.model import (
    CreateReferredCreditor,
    LoginPolicy,
    OrganisationKind,
    Principal,
    SignUp,
)
from gateway.service_layer import accounts
from recouvra.gateway.v1.account_events_pb2 import OrganisationRegistered
from recouvra_shared.events import unpack
from services.gateway.tests.unit.gateway_fakes import SECRET, FakeStore

POLICY = LoginPolicy(max_failures=3, window_seconds=600)
ALICE = Principal(organisation_id="org-a", kind=OrganisationKind.CREDITOR, subject="user:alice")


def claims(**overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    base: dict[str, object] = {
        "iss": "recouvra-gateway",
        "aud": "recouvra-api",
        "sub": "user:alice",
        "org": "org-a",
        "kind": "creditor",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    return base | overrides


def test_a_token_names_its_principal(tokens: Tokens) -> None:
    issued = tokens.issue(ALICE)
    assert tokens.verify(issued.token) == ALICE
    assert issued.expires_in == 900


def test_an_expired_token_is_refused(tokens: Tokens) -> None:
    issued = tokens.issue(ALICE, now=datetime.now(UTC) - timedelta(seconds=901))
    with pytest.raises(NotAuthenticated, match="ExpiredSignature"):
        tokens.verify(issued.token)


def test_a_token_for_another_audience_is_refused(tokens: Tokens) -> None:
    token = jwt.encode(claims(aud="recouvra-back-office"), SECRET, algorithm="HS256")
    with pytest.raises(NotAuthenticated, match="InvalidAudience"):
        tokens.verify(token)


def test_a_token_from_another_issuer_is_refused(tokens: Tokens) -> None:
    token = jwt.encode(claims(iss="someone-else"), SECRET, algorithm="HS256")
    with pytest.raises(NotAuthenticated, match="InvalidIssuer"):
        tokens.verify(token)


def test_a_token_signed_with_another_algorithm_is_refused(tokens: Tokens) -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS512")
    with pytest.raises(NotAuthenticated, match="InvalidAlgorithm"):
        tokens.verify(token)


def test_an_unsigned_token_is_refused(tokens: Tokens) -> None:
    def part(data: object) -> str:
        raw = json.dumps(data, default=lambda d: int(d.timestamp())).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    unsigned = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims())}."
    with pytest.raises(NotAuthenticated):
        tokens.verify(unsigned)


def test_a_token_signed_with_another_key_is_refused(tokens: Tokens) -> None:
    token = jwt.encode(claims(), "another-signing-key-0123456789abcdef", algorithm="HS256")
    with pytest.raises(NotAuthenticated, match="InvalidSignature"):
        tokens.verify(token)


def test_a_token_without_expiry_is_refused(tokens: Tokens) -> None:
    without_exp = {k: v for k, v in claims().items() if k != "exp"}
    with pytest.raises(NotAuthenticated, match="MissingRequiredClaim"):
        tokens.verify(jwt.encode(without_exp, SECRET, algorithm="HS256"))


async def test_sign_up_then_log_in(store: FakeStore, passwords: Passwords) -> None:
    command = SignUp("Atelier Dupont", OrganisationKind.CREDITOR, "732 829 320", "A@x.fr", "p" * 12)
    async with store.unit_of_work() as uow:
        organisation, user = await accounts.sign_up(command, uow, passwords)
        await uow.commit()
    assert organisation.siren == "732829320"
    assert user.email == "a@x.fr"
    assert user.password_hash.startswith("$argon2id$")
    async with store.unit_of_work() as uow:
        principal = await accounts.log_in("a@X.fr", "p" * 12, uow, passwords, POLICY)
    for email, password in [("a@x.fr", "q" * 12), ("nobody@x.fr", "p" * 12)]:
        async with store.unit_of_work() as uow:
            with pytest.raises(InvalidCredentials):
                await accounts.log_in(email, password, uow, passwords, POLICY)
    assert principal == Principal(
        organisation.organisation_id, OrganisationKind.CREDITOR, f"user:{user.user_id}"
    )


async def test_sign_up_refuses_a_bad_siren_a_short_password_and_a_taken_email(
    store: FakeStore, passwords: Passwords
) -> None:
    async with store.unit_of_work() as uow:
        with pytest.raises(InvalidField) as bad_siren:
            await accounts.sign_up(
                SignUp("X", OrganisationKind.CREDITOR, "732829321", "a@x.fr", "p" * 12),
                uow,
                passwords,
            )
        with pytest.raises(InvalidField) as short:
            await accounts.sign_up(
                SignUp("X", OrganisationKind.CREDITOR, None, "a@x.fr", "short"), uow, passwords
            )
        await accounts.sign_up(
            SignUp("X", OrganisationKind.CREDITOR, None, "a@x.fr", "p" * 12), uow, passwords
        )
        with pytest.raises(EmailTaken):
            await accounts.sign_up(
                SignUp("Y", OrganisationKind.PARTNER, None, "A@x.fr", "p" * 12), uow, passwords
            )
    assert bad_siren.value.field == "siren"
    assert short.value.field == "password"


async def test_an_api_key_authenticates_until_revoked(
    store: FakeStore, passwords: Passwords
) -> None:
    async with store.unit_of_work() as uow:
        organisation, _ = await accounts.sign_up(
            SignUp("A", OrganisationKind.CREDITOR, None, "a@x.fr", "p" * 12), uow, passwords
        )
        owner = Principal(organisation.organisation_id, organisation.kind, "user:a")
        key, made = await accounts.create_api_key(owner, "billing export", uow)
        await uow.commit()
    assert made.plaintext.startswith("rk_live_")
    assert made.plaintext.startswith(key.prefix + "_")
    assert made.plaintext not in repr(store.accounts.keys)  # only the hash is stored
    async with store.unit_of_work() as uow:
        principal = await accounts.authenticate_api_key(made.plaintext, uow)
    assert principal == Principal(
        organisation.organisation_id,
        OrganisationKind.CREDITOR,
        f"key:{key.key_id}",
        scopes=frozenset({"read", "write"}),
    )
    async with store.unit_of_work() as uow:
        with pytest.raises(NotAuthenticated):
            await accounts.authenticate_api_key(made.plaintext[:-1] + "x", uow)
        with pytest.raises(NotFound):  # another organisation cannot revoke it
            await accounts.revoke_api_key(ALICE, key.key_id, uow)
        await accounts.revoke_api_key(owner, key.key_id, uow)
        await uow.commit()
    async with store.unit_of_work() as uow:
        with pytest.raises(NotAuthenticated, match="revoked"):
            await accounts.authenticate_api_key(made.plaintext, uow)


async def test_a_partner_acts_only_for_the_creditors_it_referred(
    store: FakeStore, passwords: Passwords
) -> None:
    async with store.unit_of_work() as uow:
        partner, _ = await accounts.sign_up(
            SignUp("Facturo", OrganisationKind.PARTNER, None, "api@facturo.fr", "p" * 12),
            uow,
            passwords,
        )
        stranger, _ = await accounts.sign_up(
            SignUp("Other", OrganisationKind.CREDITOR, None, "o@x.fr", "p" * 12), uow, passwords
        )
        referred = await accounts.create_referred_creditor(
            CreateReferredCreditor(partner.organisation_id, "Boulangerie Martin", "552100554"), uow
        )
        await uow.commit()
    as_partner = Principal(partner.organisation_id, OrganisationKind.PARTNER, "key:k")
    as_stranger = Principal(stranger.organisation_id, OrganisationKind.CREDITOR, "user:o")
    assert referred.referrer_id == partner.organisation_id
    announced = [unpack(e.envelope, OrganisationRegistered) for e in store.published]
    assert [(a.organisation_id, a.kind, a.referrer_id) for a in announced] == [
        (partner.organisation_id, "partner", ""),
        (stranger.organisation_id, "creditor", ""),
        (referred.organisation_id, "creditor", partner.organisation_id),
    ]
    # The organisation's name (a sole trader's is a person's) stays in the gateway.
    assert all(b"Martin" not in e.envelope.SerializeToString() for e in store.published)
    assert {e.topic for e in store.published} == {"gateway.organisation-registered.v1"}
    async with store.unit_of_work() as uow:
        acting = await accounts.acting_creditor(as_partner, referred.organisation_id, uow)
        assert acting == referred.organisation_id
        with pytest.raises(NotFound):
            await accounts.acting_creditor(as_partner, stranger.organisation_id, uow)
        with pytest.raises(InvalidField, match="X-On-Behalf-Of"):
            await accounts.acting_creditor(as_partner, None, uow)
        with pytest.raises(NotFound):
            await accounts.acting_creditor(as_stranger, referred.organisation_id, uow)
        assert await accounts.acting_creditor(as_stranger, None, uow) == stranger.organisation_id


async def test_a_taken_key_prefix_is_drawn_again(
    store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    draws = iter(["aaaaaaaaaaaa", "aaaaaaaaaaaa", "bbbbbbbbbbbb"])
    monkeypatch.setattr(security.secrets, "token_hex", lambda n: next(draws))
    async with store.unit_of_work() as uow:
        first, _ = await accounts.create_api_key(ALICE, "one", uow)
        second, made = await accounts.create_api_key(ALICE, "two", uow)
    assert (first.prefix, second.prefix) == ("rk_live_aaaaaaaaaaaa", "rk_live_bbbbbbbbbbbb")
    assert made.plaintext.startswith("rk_live_bbbbbbbbbbbb_")


async def test_repeated_wrong_passwords_lock_the_email_out_for_a_while(
    store: FakeStore, passwords: Passwords
) -> None:
    async with store.unit_of_work() as uow:
        await accounts.sign_up(
            SignUp("A", OrganisationKind.CREDITOR, None, "a@x.fr", "p" * 12), uow, passwords
        )
        await uow.commit()
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    for minute in range(3):
        at = start + timedelta(minutes=minute)
        async with store.unit_of_work() as uow:
            with pytest.raises(InvalidCredentials):
                await accounts.log_in("a@x.fr", "wrong" * 3, uow, passwords, POLICY, now=at)
    at = start + timedelta(minutes=5)
    async with store.unit_of_work() as uow:
        with pytest.raises(TooManyAttempts) as locked:  # even with the right password
            await accounts.log_in("A@x.fr", "p" * 12, uow, passwords, POLICY, now=at)
    assert locked.value.retry_after == 5 * 60  # when the first failure leaves the window
    async with store.unit_of_work() as uow:
        at = start + timedelta(minutes=10, seconds=1)
        principal = await accounts.log_in("a@x.fr", "p" * 12, uow, passwords, POLICY, now=at)
    assert principal.kind is OrganisationKind.CREDITOR


async def test_an_api_key_stops_authenticating_at_its_expiry(
    store: FakeStore, passwords: Passwords
) -> None:
    async with store.unit_of_work() as uow:
        organisation, _ = await accounts.sign_up(
            SignUp("A", OrganisationKind.CREDITOR, None, "a@x.fr", "p" * 12), uow, passwords
        )
        owner = Principal(organisation.organisation_id, organisation.kind, "user:a")
        soon = datetime.now(UTC) + timedelta(hours=1)
        key, made = await accounts.create_api_key(owner, "trial", uow, expires_at=soon)
        await uow.commit()
    assert key.expires_at == soon
    async with store.unit_of_work() as uow:
        assert (await accounts.authenticate_api_key(made.plaintext, uow)).subject.startswith("key:")
    expired = dataclasses.replace(key, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    store.accounts.keys[key.key_id] = expired
    async with store.unit_of_work() as uow:
        with pytest.raises(NotAuthenticated, match="expired"):
            await accounts.authenticate_api_key(made.plaintext, uow)
