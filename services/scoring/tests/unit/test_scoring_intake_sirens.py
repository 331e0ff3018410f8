"""The intake client scoring asks for SIRENs: an intake nobody answers at is an outage (the
inbox waits it out), a case intake does not know has no SIREN."""

from __future__ import annotations

import socket

import grpc
import pytest

from recouvra_shared.outages import is_transient
from scoring.adapters.intake_sirens import IntakeDebtorSirens
from scoring.service_layer.ports import SirenSourceUnreachable


def a_closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_intake_nobody_answers_at_is_an_outage_to_wait_out() -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{a_closed_port()}") as channel:
        sirens = IntakeDebtorSirens(channel, timeout_seconds=2)
        with pytest.raises(SirenSourceUnreachable) as outage:
            await sirens.siren_of("3f1c0000-0000-4000-8000-000000000000")
    assert is_transient(outage.value)
