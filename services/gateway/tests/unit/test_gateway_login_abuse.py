"""Issue 13, point 4: log-in and sign-up can no longer take the gateway down or lock owners out.

Bounded hashing, rate limits per address and overall, lock-outs per email and address with a
device cookie for the owner, and a sign-up that does not tell who is a customer. (That racing
guesses are all counted needs PostgreSQL's lock: tests/integration/test_gateway_accounts_db.py.)
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from gateway.adapters.rate_limits import CREATE_KEY, LOG_IN, SIGN_UP, ActionLimit, RateLimits
from gateway.adapters.security import DeviceCookies, Passwords, Tokens
from gateway.domain.errors import Busy, InvalidCredentials, TooManyAttempts
from gateway.domain.model import LoginPolicy, OrganisationKind, SignUp
from gateway.entrypoints.api.deps import GatewayServices
from gateway.entrypoints.http import create_app
from gateway.service_layer import accounts
from services.gateway.tests.unit.gateway_fakes import SECRET, FakeStore

PASSWORD = "correct horse battery staple"
POLICY = LoginPolicy(max_failures=3, window_seconds=600, max_failures_per_email=10)
START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class SlowHasher(PasswordHasher):
    """argon2 with cheap parameters that takes a while and counts how many run at once."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.05)
            return super().verify(hash, password)
        finally:
            with self._lock:
                self.running -= 1


async def test_hashing_runs_at_most_its_bound_at_once_and_refuses_past_its_queue() -> None:
    hasher = SlowHasher()
    passwords = Passwords(hasher, concurrency=2, waiting=3)
    results = await asyncio.gather(
        *(passwords.verify(None, "guess") for _ in range(9)), return_exceptions=True
    )
    assert hasher.most == 2  # never more than two argon2 computations in memory at once
    assert sum(isinstance(r, Busy) for r in results) == 4  # 2 running + 3 waiting admitted
    assert all(r is False for r in results if not isinstance(r, Busy))
    assert await passwords.verify(None, "again") is False  # the queue drained: admitted again


def test_the_hashing_bound_follows_the_memory_given_to_it() -> None:
    assert Passwords.concurrency_within(128) == 2  # argon2id's default costs 64 MiB
    assert Passwords.concurrency_within(512) == 8
    assert Passwords.concurrency_within(10) == 1  # at least one, or nobody logs in


async def sign_up(store: FakeStore, passwords: Passwords, email: str = "owner@x.fr") -> None:
    async with store.unit_of_work() as uow:
        await accounts.sign_up(
            SignUp("Owner", OrganisationKind.CREDITOR, None, email, PASSWORD), uow, passwords
        )
        await uow.commit()


async def attempt(
    store: FakeStore,
    passwords: Passwords,
    password: str,
    address: str,
    minute: int = 0,
    trusted: bool = False,
    at: datetime | None = None,
) -> Any:
    async with store.unit_of_work() as uow:
        try:
            return await accounts.log_in(
                "owner@x.fr",
                password,
                uow,
                passwords,
                POLICY,
                now=at or START + timedelta(minutes=minute),
                address=address,
                trusted_device=trusted,
            )
        except (InvalidCredentials, TooManyAttempts) as refusal:
            return refusal


async def test_guesses_from_one_address_do_not_lock_the_owner_out_elsewhere(
    store: FakeStore, passwords: Passwords
) -> None:
    await sign_up(store, passwords)
    for _ in range(3):
        assert isinstance(
            await attempt(store, passwords, "wrong", "203.0.113.9"), InvalidCredentials
        )
    locked = await attempt(store, passwords, PASSWORD, "203.0.113.9", minute=1)
    assert isinstance(locked, TooManyAttempts)  # the guesser, even with the right password
    owner = await attempt(store, passwords, PASSWORD, "198.51.100.7", minute=1)
    assert owner.kind is OrganisationKind.CREDITOR  # the owner, from its own address


async def test_guesses_from_many_addresses_leave_in_only_a_device_that_logged_in_before(
    store: FakeStore, passwords: Passwords
) -> None:
    await sign_up(store, passwords)
    for n in range(10):  # a botnet: two guesses each from five addresses
        await attempt(store, passwords, "wrong", f"203.0.113.{n // 2}")
    stranger = await attempt(store, passwords, PASSWORD, "198.51.100.7", minute=1)
    assert isinstance(stranger, TooManyAttempts)
    owner = await attempt(store, passwords, PASSWORD, "198.51.100.7", minute=1, trusted=True)
    assert owner.kind is OrganisationKind.CREDITOR


async def test_a_success_forgets_its_address_failures(
    store: FakeStore, passwords: Passwords
) -> None:
    await sign_up(store, passwords)
    for _ in range(2):
        await attempt(store, passwords, "wrong", "198.51.100.7")
    await attempt(store, passwords, PASSWORD, "198.51.100.7")
    # Two more typos after logging in do not lock the owner out: the count started again.
    for _ in range(2):
        assert isinstance(
            await attempt(store, passwords, "wrong", "198.51.100.7"), InvalidCredentials
        )


async def test_a_device_cookie_vouches_only_for_its_email_and_only_while_valid() -> None:
    cookies = DeviceCookies(SECRET, ttl_days=1)
    cookie = cookies.issue("owner@x.fr")
    assert cookies.vouches_for(cookie, "owner@x.fr")
    assert not cookies.vouches_for(cookie, "other@x.fr")
    assert not cookies.vouches_for(cookie + "x", "owner@x.fr")
    assert not DeviceCookies("another secret of at least 32 bytes!!").vouches_for(
        cookie, "owner@x.fr"
    )
    old = cookies.issue("owner@x.fr", now=datetime.now(UTC) - timedelta(days=2))
    assert not cookies.vouches_for(old, "owner@x.fr")


async def test_rate_limits_count_per_address_and_overall() -> None:
    limits = RateLimits({LOG_IN: ActionLimit("2/minute", "3/minute")})
    await limits.check(LOG_IN, "a")
    await limits.check(LOG_IN, "a")
    with pytest.raises(TooManyAttempts) as per_address:
        await limits.check(LOG_IN, "a")
    assert "log-in from this address" in per_address.value.message
    assert 1 <= per_address.value.retry_after <= 60
    await limits.check(LOG_IN, "b")  # another address still passes: 3 overall so far
    with pytest.raises(TooManyAttempts) as overall:
        await limits.check(LOG_IN, "c")
    assert "log-in on this server" in overall.value.message


@pytest.fixture
async def client(store: FakeStore, passwords: Passwords) -> Any:
    services = GatewayServices(
        unit_of_work=store.unit_of_work,
        passwords=passwords,
        tokens=Tokens(SECRET, issuer="recouvra-gateway", audience="recouvra-api", ttl_seconds=900),
        login_policy=POLICY,
        fingerprint_secret=b"unit",
        rate_limits=RateLimits(
            {
                LOG_IN: ActionLimit("8/minute", "100/minute"),
                SIGN_UP: ActionLimit("3/minute", "100/minute"),
                CREATE_KEY: ActionLimit("5/minute", "100/minute"),
            }
        ),
        device_cookies=DeviceCookies(SECRET),
    )
    transport = httpx.ASGITransport(app=create_app(services, {}), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://gateway") as http:
        yield http


def sign_up_body(email: str, password: str = PASSWORD) -> dict[str, str]:
    return {
        "organisation_name": "Atelier",
        "kind": "creditor",
        "email": email,
        "password": password,
    }


async def test_sign_up_answers_alike_for_a_taken_email_and_opens_nothing(
    client: httpx.AsyncClient, store: FakeStore
) -> None:
    first = await client.post(
        "/v1/accounts", json=sign_up_body("owner@x.fr"), headers={"Idempotency-Key": "1"}
    )
    again = await client.post(
        "/v1/accounts",
        json=sign_up_body("Owner@x.fr", "a different password"),
        headers={"Idempotency-Key": "2"},
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json().keys() == again.json().keys()
    assert again.json()["email"] == "owner@x.fr"
    assert len(store.accounts.users) == 1
    assert len(store.accounts.organisations) == 1
    assert len(store.published) == 1  # one organisation announced
    owner = await client.post("/v1/auth/token", json={"email": "owner@x.fr", "password": PASSWORD})
    assert owner.status_code == 200
    other = await client.post(
        "/v1/auth/token", json={"email": "owner@x.fr", "password": "a different password"}
    )
    assert other.status_code == 401


async def test_log_in_gives_a_device_cookie_that_lets_the_owner_in_during_a_spread_attack(
    client: httpx.AsyncClient, store: FakeStore, passwords: Passwords
) -> None:
    await sign_up(store, passwords)
    logged_in = await client.post(
        "/v1/auth/token", json={"email": "owner@x.fr", "password": PASSWORD}
    )
    cookie = logged_in.cookies[DeviceCookies.NAME]
    header = logged_in.headers["set-cookie"].lower()
    assert "httponly" in header
    assert "samesite=strict" in header
    assert "secure" in header
    for n in range(10):  # guesses from ten other addresses reach the per-email limit
        await attempt(store, passwords, "wrong", f"203.0.113.{n}", at=datetime.now(UTC))
    client.cookies.clear()
    stranger = await client.post(
        "/v1/auth/token", json={"email": "owner@x.fr", "password": PASSWORD}
    )
    assert stranger.status_code == 429
    assert int(stranger.headers["retry-after"]) > 0
    client.cookies.set(DeviceCookies.NAME, cookie)  # the owner's browser, with what it kept
    owner = await client.post("/v1/auth/token", json={"email": "owner@x.fr", "password": PASSWORD})
    assert owner.status_code == 200, owner.text


async def test_log_in_and_sign_up_are_rate_limited_per_address(client: httpx.AsyncClient) -> None:
    answers = [
        await client.post("/v1/auth/token", json={"email": f"u{n}@x.fr", "password": "guess"})
        for n in range(9)
    ]
    assert [a.status_code for a in answers] == [401] * 8 + [429]
    assert answers[-1].headers["content-type"].startswith("application/problem+json")
    assert "8 per 1 minute" in answers[-1].json()["detail"]
    signed = [
        await client.post(
            "/v1/accounts", json=sign_up_body(f"n{n}@x.fr"), headers={"Idempotency-Key": f"s{n}"}
        )
        for n in range(4)
    ]
    assert [s.status_code for s in signed] == [201, 201, 201, 429]


async def test_a_busy_gateway_answers_503_with_retry_after(store: FakeStore) -> None:
    passwords = Passwords(SlowHasher(), concurrency=1, waiting=0)
    services = GatewayServices(
        unit_of_work=store.unit_of_work,
        passwords=passwords,
        tokens=Tokens(SECRET, issuer="recouvra-gateway", audience="recouvra-api", ttl_seconds=900),
        login_policy=POLICY,
        fingerprint_secret=b"unit",
    )
    transport = httpx.ASGITransport(app=create_app(services, {}), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://gateway") as http:
        answers = await asyncio.gather(
            *(
                http.post("/v1/auth/token", json={"email": f"u{n}@x.fr", "password": "guess"})
                for n in range(4)
            )
        )
    codes = sorted(a.status_code for a in answers)
    assert codes[0] == 401
    assert codes[-1] == 503
    busy = next(a for a in answers if a.status_code == 503)
    assert busy.headers["retry-after"] == "1"
    assert busy.json()["type"].endswith("busy")
