"""Web sessions the server can end: a session carries its user's session generation, and is
refused once the user logged out everywhere or changed the password (each raises it)."""

from __future__ import annotations

from gateway.domain.errors import InvalidField, NotAuthenticated
from gateway.domain.model import Principal
from gateway.service_layer.unit_of_work import GatewayUnitOfWork, Passwords

USER_PREFIX = "user:"
MIN_PASSWORD = 12


def user_id_of(principal: Principal) -> str:
    """The user a person's principal names; NotAuthenticated for an API key or a stranger."""
    if not principal.subject.startswith(USER_PREFIX):
        raise NotAuthenticated("log in to see this page")
    return principal.subject.removeprefix(USER_PREFIX)


async def generation(principal: Principal, uow: GatewayUnitOfWork) -> int:
    """The user's session generation now, for a session about to be opened."""
    user = await uow.accounts.user_by_id(user_id_of(principal))
    if user is None:
        raise NotAuthenticated("log in to see this page")
    return user.session_generation


async def check_live(principal: Principal, session_generation: int, uow: GatewayUnitOfWork) -> None:
    """Refuse a session opened before the user last ended its sessions."""
    user = await uow.accounts.user_by_id(user_id_of(principal))
    if user is None or user.session_generation != session_generation:
        raise NotAuthenticated("your session was ended; log in again")


async def end_sessions(principal: Principal, uow: GatewayUnitOfWork) -> int:
    """Log out everywhere: every session of the user is refused from now on. The new
    generation, for a session this browser may keep."""
    new = await uow.accounts.end_sessions(user_id_of(principal))
    await uow.commit()
    return new


async def change_password(
    principal: Principal,
    current: str,
    new: str,
    uow: GatewayUnitOfWork,
    passwords: Passwords,
) -> int:
    """A new password once the current one is proven; every session of the user ends (a
    stolen session dies with the old password). The new generation."""
    user_id = user_id_of(principal)
    user = await uow.accounts.user_by_id(user_id)
    if user is None or not await passwords.verify(user.password_hash, current):
        raise InvalidField("current_password", "is not your current password")
    if len(new) < MIN_PASSWORD:
        raise InvalidField("new_password", f"must be at least {MIN_PASSWORD} characters long")
    if new == current:
        raise InvalidField("new_password", "must differ from the current password")
    await uow.accounts.set_password_hash(user_id, await passwords.hash(new))
    new_generation = await uow.accounts.end_sessions(user_id)
    await uow.commit()
    return new_generation
