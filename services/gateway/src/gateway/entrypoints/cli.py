"""`python -m gateway operators ...`: the only way to make an operator, and a way to vet
providers from a shell (the same use cases as the REST routes, recorded in the same audit trail
as `cli:<login>`).

    python -m gateway operators create EMAIL          (password from RECOUVRA_OPERATOR_PASSWORD,
                                                       or asked without echo)
    python -m gateway operators approve PROVIDER_ID [--reason TEXT]
    python -m gateway operators reject PROVIDER_ID --reason TEXT
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence

from gateway.adapters.matching import ProviderDirectoryClient
from gateway.adapters.repository import SqlGatewayUnitOfWork
from gateway.adapters.security import Passwords
from gateway.config import GatewaySettings
from gateway.domain.model import Vetting
from gateway.service_layer import operators
from recouvra.matching.v1 import bidding_pb2_grpc
from recouvra_shared.db import Database
from recouvra_shared.errors import Refusal
from recouvra_shared.identity import ServiceIdentity
from recouvra_shared.runtime import Wiring
from recouvra_shared.tls import load_tls

PASSWORD_VARIABLE = "RECOUVRA_OPERATOR_PASSWORD"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gateway operators")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="make an operator account")
    create.add_argument("email")
    for name in ("approve", "reject"):
        decide = commands.add_parser(name, help=f"{name} a provider")
        decide.add_argument("provider_id")
        decide.add_argument("--reason", default="")
    return parser


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _password() -> str:
    given = os.environ.get(PASSWORD_VARIABLE)
    if given:
        return given
    first = getpass.getpass("operator password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("the two passwords differ")
    return first


async def _create(settings: GatewaySettings, database: Database, email: str) -> str:
    async with SqlGatewayUnitOfWork(database) as uow:
        user = await operators.create_operator(email, _password(), _actor(), uow, Passwords())
        await uow.commit()
    return f"operator {user.email} created (user:{user.user_id})"


async def _decide(
    settings: GatewaySettings, database: Database, provider_id: str, decision: Vetting, reason: str
) -> str:
    wiring = Wiring(
        settings=settings,
        database=database,
        broker=None,
        tls=load_tls(settings),
        identity=ServiceIdentity.from_settings(settings),
    )
    channel = wiring.channel_to("matching", settings.matching_target)
    try:
        directory = ProviderDirectoryClient(bidding_pb2_grpc.ProviderDirectoryServiceStub(channel))
        async with SqlGatewayUnitOfWork(database) as uow:
            await operators.decide_on_provider(
                _actor(), provider_id, decision, reason, uow, directory
            )
            await uow.commit()
    finally:
        await channel.close()
    return f"provider {provider_id} {decision.value}"


async def _run(args: argparse.Namespace) -> str:
    settings = GatewaySettings()
    database = Database.connect(settings.database_url.get_secret_value(), pool_size=1)
    try:
        if args.command == "create":
            return await _create(settings, database, args.email)
        decision = Vetting.APPROVED if args.command == "approve" else Vetting.REJECTED
        return await _decide(settings, database, args.provider_id, decision, args.reason)
    finally:
        await database.dispose()


def main(argv: Sequence[str]) -> None:
    """Run one operators command; a refusal is printed with its fields and exits 2."""
    args = _parser().parse_args(argv)
    try:
        done = asyncio.run(_run(args))
    except Refusal as refusal:
        fields = "; ".join(f"{v.field}: {v.rule}" for v in refusal.violations)
        sys.stderr.write(f"refused: {fields or refusal}\n")
        raise SystemExit(2) from None
    sys.stdout.write(done + "\n")
