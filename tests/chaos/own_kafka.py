"""A Kafka broker of the harness's own (SASL_SSL with its own users and ACLs), started by the
project's stack script on free ports with its own state directory: the harness SIGKILLs and
restarts it without touching the shared dev stack's broker that other engineers use.

Given a proxy, the broker is reached through it: toxiproxy listens on the port the broker
advertises (RECOUVRA_KAFKA_ADVERTISED_PORT) and forwards to its client listener, so every
connection a client opens after the bootstrap (to the partition leaders, the group and
transaction coordinators; the node's own inter-broker ones too) crosses the proxy, not only
the first. The controller listener stays direct."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shlex
import signal
import subprocess
from pathlib import Path

from tests.chaos.crashes import signal_and_wait
from tests.chaos.proxy import Toxiproxy
from tests.support.stack import KAFKA_USERS, STACK_SCRIPT, Stack, free_port


@dataclasses.dataclass
class OwnKafka:
    state: Path
    port: int = dataclasses.field(default_factory=free_port)
    controller_port: int = dataclasses.field(default_factory=free_port)
    proxy: Toxiproxy | None = None  # clients reach the broker through its link LINK
    advertised_port: int = 0  # the proxy's port when there is one, else the listener's

    LINK = "kafka"

    def __post_init__(self) -> None:
        if self.proxy is not None:
            self.advertised_port = self.proxy.link(self.LINK, f"127.0.0.1:{self.port}")
        else:
            self.advertised_port = self.port

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RECOUVRA_STATE": str(self.state),
            "RECOUVRA_KAFKA_PORT": str(self.port),
            "RECOUVRA_KAFKA_ADVERTISED_PORT": str(self.advertised_port),
            "RECOUVRA_KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "RECOUVRA_START_TIMEOUT": "600",
        }

    def _script(self, *args: str, timeout: float = 600) -> str:
        done = subprocess.run(
            [str(STACK_SCRIPT), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"stack.sh {' '.join(args)}: {done.stderr[-3000:]}")
        return done.stdout

    def start(self) -> OwnKafka:
        self._script("start", "kafka")
        return self

    def stack(self, shared: Stack) -> Stack:
        """The shared stack with this broker for Kafka (its users' passwords, its CA), bootstrapped
        on the advertised port (through the proxy when there is one)."""
        exported: dict[str, str] = {}
        for line in self._script("env", timeout=60).splitlines():
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").partition("=")
                exported[name] = shlex.split(value)[0] if value else ""
        return dataclasses.replace(
            shared,
            kafka_bootstrap=exported["RECOUVRA_KAFKA_BOOTSTRAP"],
            kafka_security_protocol="SASL_SSL",
            kafka_ca_file=exported["RECOUVRA_KAFKA_CA_FILE"],
            kafka_admin_password=exported["RECOUVRA_KAFKA_ADMIN_PASSWORD"],
            kafka_passwords={
                user: exported.get(f"RECOUVRA_{user.upper()}_KAFKA_PASSWORD", "")
                for user in KAFKA_USERS
            },
        )

    def crash(self) -> None:
        """SIGKILL the broker: nothing flushed, no controlled shutdown."""
        pid = int((self.state / "run" / "kafka.pid").read_text())
        signal_and_wait(pid, signal.SIGKILL, 30)

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._script("stop", "kafka", timeout=120)
