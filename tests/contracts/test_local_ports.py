"""On one machine (`make up`, deploy/local/services.sh) every service listens on a fixed gRPC port
that outgoing connections are never given, and every caller's default target is its peer's port.

A port inside the kernel's ephemeral range (32768-60999 by default) can be held by any client
socket: after a busy run, a Kafka client's connection in TIME_WAIT took 127.0.0.1:50052 and
`make up` failed with "Address already in use" (session 17)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.contracts.test_k8s_service_targets import CALLS, SERVICES, _settings
from tests.support.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVICES_SH = (ROOT / "deploy" / "local" / "services.sh").read_text()
LINUX_EPHEMERAL_FLOOR = 32768  # net.ipv4.ip_local_port_range's default low end


def _script_map(name: str) -> dict[str, str]:
    """An associative array of the script: `declare -A NAME=([key]=value [key]="a b" ...)`."""
    block = re.search(rf"declare -A {name}=\((.*?)\)\n", SERVICES_SH, re.DOTALL)
    assert block, f"deploy/local/services.sh declares no {name}"
    pairs = re.findall(r'\[(\w+)\]=(?:"([^"]*)"|(\d+))', block.group(1))
    return {key: quoted or number for key, quoted, number in pairs}


def _ephemeral_floor() -> int:
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return LINUX_EPHEMERAL_FLOOR
    return min(low, LINUX_EPHEMERAL_FLOOR)


def test_the_script_starts_each_service_on_its_own_default_port() -> None:
    ports = _script_map("GRPC_PORT")
    assert sorted(ports) == SERVICES
    for service, port in ports.items():
        assert int(port) == _settings(service).model_fields["grpc_port"].default, service
    assert len(set(ports.values())) == len(ports), "two services share a port"


@pytest.mark.parametrize("service", SERVICES)
def test_a_local_grpc_port_is_never_one_the_kernel_hands_to_a_client(service: str) -> None:
    port = _settings(service).model_fields["grpc_port"].default
    assert 1024 <= port < _ephemeral_floor(), (
        f"{service}'s gRPC port {port} lies in the ephemeral range: a client socket can take it"
    )


@pytest.mark.parametrize(("service", "peer"), CALLS, ids=[f"{s}->{p}" for s, p in CALLS])
def test_a_caller_finds_its_peer_where_it_listens_locally(service: str, peer: str) -> None:
    port = _settings(peer).model_fields["grpc_port"].default
    assert _settings(service).model_fields[f"{peer}_target"].default == f"127.0.0.1:{port}"
    # ...and the script points the caller at the peer's port when that port is moved.
    assert peer in _script_map("CALLS").get(service, "").split(), (
        f"deploy/local/services.sh does not export RECOUVRA_{service.upper()}_{peer.upper()}_TARGET"
    )


def test_free_ports_are_never_handed_out_twice_in_a_run() -> None:
    """A test server with several listeners takes one free_port each: they must all differ."""
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)
