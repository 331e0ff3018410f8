"""Account use cases: plain functions of (command, unit of work); the caller commits.

They run inside a unit of work that the entrypoint commits together with the idempotency
record of the request, so a retried POST either sees the whole first effect or none of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from gateway.domain.api_keys import (
    NewApiKey,
    api_key_prefix,
    check_manages_keys,
    checked_expiry,
    checked_scopes,
    hash_api_key,
    make_api_key,
    same_hash,
)
from gateway.domain.errors import (
    Conflict,
    EmailTaken,
    InvalidCredentials,
    InvalidField,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
)
from gateway.domain.model import (
    ApiKey,
    CreateReferredCreditor,
    LoginPolicy,
    Organisation,
    OrganisationKind,
    Principal,
    SignUp,
    User,
    Vetting,
    check_password,
    new_id,
    organisation_name,
    valid_siren,
)
from gateway.service_layer.unit_of_work import GatewayUnitOfWork, Passwords
from recouvra.gateway.v1.account_events_pb2 import OrganisationRegistered
from recouvra_shared.events import new_event
from recouvra_shared.unit_of_work import OutgoingEvent, utcnow

SERVICE = "gateway"
ORGANISATION_REGISTERED = ("organisation-registered", 1)
MAX_KEY_NAME = 100


def organisation_registered(organisation: Organisation) -> OutgoingEvent:
    """The event announcing a new organisation (and who referred it)."""
    event_type, version = ORGANISATION_REGISTERED
    return new_event(
        producer=SERVICE,
        event_type=event_type,
        version=version,
        case_id="",
        tenant_id=organisation.organisation_id,
        payload=OrganisationRegistered(
            organisation_id=organisation.organisation_id,
            kind=organisation.kind.value,
            siren=organisation.siren or "",
            referrer_id=organisation.referrer_id or "",
            registered_at=organisation.created_at.isoformat(),
        ),
        occurred_at=organisation.created_at,
    )


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively."""
    return email.strip().lower()


async def sign_up(
    command: SignUp, uow: GatewayUnitOfWork, passwords: Passwords, vetting: Vetting | None = None
) -> tuple[Organisation, User]:
    """Open an organisation (creditor, partner or provider) with its first user."""
    name = organisation_name(command.organisation_name)
    siren = valid_siren(command.siren)
    check_password(command.password)
    now = utcnow()
    organisation = Organisation(
        organisation_id=new_id(),
        kind=command.kind,
        name=name,
        siren=siren,
        referrer_id=None,
        created_at=now,
        vetting=vetting,
    )
    user = User(
        user_id=new_id(),
        organisation_id=organisation.organisation_id,
        email=normalise_email(command.email),
        # Hashed before the e-mail is looked up: a taken e-mail costs the same time.
        password_hash=await passwords.hash(command.password),
        created_at=now,
    )
    if await uow.accounts.user_by_email(user.email) is not None:
        raise EmailTaken()  # before anything is stored
    await uow.accounts.add_organisation(organisation)
    if not await uow.accounts.add_user(user):
        # Two sign-ups with one e-mail in the same instant: the other one opened it.
        raise Conflict("email: an account was opened with it at the same moment")
    await uow.publish(organisation_registered(organisation))
    return organisation, user


async def sign_up_quietly(
    command: SignUp, uow: GatewayUnitOfWork, passwords: Passwords, vetting: Vetting | None = None
) -> tuple[Organisation, User, bool]:
    """sign_up, answering alike whether or not the e-mail already has an account, so that
    signing up does not tell who is a customer: for a taken e-mail nothing is stored, and the
    answer names an organisation and a user that do not exist (`opened` false, for the caller
    to skip what follows an opening). Its owner logs in as before; the other caller cannot."""
    try:
        organisation, user = await sign_up(command, uow, passwords, vetting)
    except EmailTaken:
        now = utcnow()
        organisation = Organisation(
            organisation_id=new_id(),
            kind=command.kind,
            name=organisation_name(command.organisation_name),
            siren=valid_siren(command.siren),
            referrer_id=None,
            created_at=now,
            vetting=vetting,
        )
        user = User(
            user_id=new_id(),
            organisation_id=organisation.organisation_id,
            email=normalise_email(command.email),
            password_hash="",
            created_at=now,
        )
        return organisation, user, False
    return organisation, user, True


async def log_in(
    email: str,
    password: str,
    uow: GatewayUnitOfWork,
    passwords: Passwords,
    policy: LoginPolicy,
    now: datetime | None = None,
    *,
    address: str = "",
    trusted_device: bool = False,
) -> Principal:
    """The user's principal when the password matches; InvalidCredentials otherwise.

    TooManyAttempts (even with the right password) while this address is locked out of this
    email, or while the email is under guesses from many addresses and the caller is not a
    device that logged in to it before (`trusted_device`). Each attempt is counted as a failure
    before the password is checked, under a lock per email, and committed at once: guesses that
    race each other are all counted. A success forgets this address's failures.
    """
    email = normalise_email(email)
    now = now or utcnow()
    window_start = now - timedelta(seconds=policy.window_seconds)
    await uow.accounts.lock_login(email)
    from_here = await uow.accounts.login_failures_since(email, window_start, address)
    _refuse_when_locked(from_here, policy.max_failures, policy.window_seconds, now)
    if not trusted_device:
        everywhere = await uow.accounts.login_failures_since(email, window_start)
        _refuse_when_locked(everywhere, policy.max_failures_per_email, policy.window_seconds, now)
    await uow.accounts.record_login_failure(email, now, forget_before=window_start, address=address)
    user = await uow.accounts.user_by_email(email)
    organisation = await uow.accounts.get_organisation(user.organisation_id) if user else None
    # Committed before the slow check: no transaction (nor database connection) is held while
    # the password waits for its turn to be hashed.
    await uow.commit()
    matches = await passwords.verify(user.password_hash if user else None, password)
    if user is None or organisation is None or not matches:
        raise InvalidCredentials("email or password is wrong")
    await uow.accounts.forget_login_failures(email, address)
    await uow.commit()
    return Principal(
        organisation_id=organisation.organisation_id,
        kind=organisation.kind,
        subject=f"user:{user.user_id}",
    )


def _refuse_when_locked(
    failures: Sequence[datetime], limit: int, window_seconds: int, now: datetime
) -> None:
    """TooManyAttempts until the oldest of the last `limit` failures leaves the window."""
    if len(failures) >= limit:
        oldest_counted = failures[len(failures) - limit]
        unlocks_at = oldest_counted + timedelta(seconds=window_seconds)
        raise TooManyAttempts(retry_after=max(1, math.ceil((unlocks_at - now).total_seconds())))


async def create_api_key(
    principal: Principal,
    name: str,
    uow: GatewayUnitOfWork,
    scopes: Sequence[str] | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, NewApiKey]:
    """A new key for the caller's organisation, with the scopes asked (read and write when none
    are) and an optional expiry; the plaintext exists only in the return value."""
    check_manages_keys(principal)
    now = utcnow()
    granted = checked_scopes(scopes, principal)
    expiry = checked_expiry(expires_at, now)
    name = name.strip()
    if not name:
        raise InvalidField("name", "is required")
    if len(name) > MAX_KEY_NAME:
        raise InvalidField("name", f"must be at most {MAX_KEY_NAME} characters")
    for _ in range(3):
        made = make_api_key()
        key = ApiKey(
            key_id=new_id(),
            organisation_id=principal.organisation_id,
            name=name,
            prefix=made.prefix,
            secret_hash=made.secret_hash,
            created_at=now,
            scopes=granted,
            expires_at=expiry,
        )
        if await uow.accounts.add_api_key(key):
            return key, made
    raise RuntimeError("three random API key prefixes in a row were taken")


async def list_api_keys(principal: Principal, uow: GatewayUnitOfWork) -> list[ApiKey]:
    """The caller's organisation's keys, newest first (never their secrets)."""
    check_manages_keys(principal)
    return await uow.accounts.api_keys_of(principal.organisation_id)


async def revoke_api_key(
    principal: Principal, key_id: str, uow: GatewayUnitOfWork, now: datetime | None = None
) -> None:
    """Revoke one of the caller's keys; NotFound for another organisation's key."""
    check_manages_keys(principal)
    if not await uow.accounts.revoke_api_key(principal.organisation_id, key_id, now or utcnow()):
        raise NotFound("api key: no such key")


async def authenticate_api_key(plaintext: str, uow: GatewayUnitOfWork) -> Principal:
    """The principal of a presented key; NotAuthenticated when unknown, forged or revoked."""
    prefix = api_key_prefix(plaintext)
    key = await uow.accounts.api_key_by_prefix(prefix) if prefix else None
    if key is None or not same_hash(key.secret_hash, hash_api_key(plaintext)):
        raise NotAuthenticated("invalid API key")
    if not key.active:
        raise NotAuthenticated("API key revoked")
    if key.expired(utcnow()):
        raise NotAuthenticated("API key expired")
    organisation = await uow.accounts.get_organisation(key.organisation_id)
    if organisation is None:
        raise NotAuthenticated("invalid API key")
    return Principal(
        organisation_id=organisation.organisation_id,
        kind=organisation.kind,
        subject=f"key:{key.key_id}",
        scopes=frozenset(key.scopes),
    )


async def create_referred_creditor(
    command: CreateReferredCreditor, uow: GatewayUnitOfWork
) -> Organisation:
    """A partner opens a creditor and is recorded as its referrer."""
    partner = await uow.accounts.get_organisation(command.partner_id)
    if partner is None or partner.kind is not OrganisationKind.PARTNER:
        raise NotAllowed("only partner accounts create creditors")
    creditor = Organisation(
        organisation_id=new_id(),
        kind=OrganisationKind.CREDITOR,
        name=organisation_name(command.organisation_name),
        siren=valid_siren(command.siren),
        referrer_id=partner.organisation_id,
        created_at=utcnow(),
    )
    await uow.accounts.add_organisation(creditor)
    await uow.publish(organisation_registered(creditor))
    return creditor


def own_creditor(principal: Principal, on_behalf_of: str | None) -> str:
    """A creditor acts only for itself; naming another creditor finds nothing."""
    if on_behalf_of and on_behalf_of != principal.organisation_id:
        raise NotFound("creditor: no such creditor")
    return principal.organisation_id


async def acting_creditor(
    principal: Principal, on_behalf_of: str | None, uow: GatewayUnitOfWork
) -> str:
    """The creditor a call acts for: the caller itself, or a creditor its partner referred."""
    if principal.kind is OrganisationKind.CREDITOR:
        return own_creditor(principal, on_behalf_of)
    if not on_behalf_of:
        raise InvalidField("X-On-Behalf-Of", "is required when a partner acts for a creditor")
    creditor = await uow.accounts.get_organisation(on_behalf_of)
    if creditor is None or creditor.referrer_id != principal.organisation_id:
        raise NotFound("creditor: no such creditor")
    return creditor.organisation_id
