"""A SeaweedFS (S3) of the harness's own, started by the project's stack script on free ports
with its own state directory: the harness may SIGKILL it (the `s3-crash` fault) without touching
the shared dev stack's, which other engineers use."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
from pathlib import Path

from tests.chaos.crashes import signal_and_wait
from tests.support.stack import STACK_SCRIPT, Stack

GRPC_OFFSET = 10_000  # deploy/local/stack/seaweedfs.sh: each server's gRPC port is 10000 above


def free_pair() -> int:
    """A port free on 127.0.0.1 whose gRPC twin (10000 above) is free as well."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + GRPC_OFFSET > 65_535:
            continue
        with socket.socket() as twin:
            try:
                twin.bind(("127.0.0.1", port + GRPC_OFFSET))
            except OSError:
                continue
        return port


@dataclasses.dataclass
class OwnSeaweed:
    state: Path
    ports: dict[str, int] = dataclasses.field(
        default_factory=lambda: {
            name: free_pair()
            for name in ("S3", "WEED_MASTER", "WEED_VOLUME", "WEED_FILER", "WEED_ADMIN")
        }
    )

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RECOUVRA_STATE": str(self.state),
            **{f"RECOUVRA_{name}_PORT": str(port) for name, port in self.ports.items()},
            "RECOUVRA_START_TIMEOUT": "600",  # a busy machine of two cores
        }

    @property
    def pid_file(self) -> Path:
        return self.state / "run" / "seaweedfs.pid"

    def stack(self, shared: Stack) -> Stack:
        """The shared stack (same S3 credentials: deploy/local/seaweedfs/s3.json) with this S3."""
        return dataclasses.replace(shared, s3_endpoint=f"127.0.0.1:{self.ports['S3']}")

    def start(self) -> OwnSeaweed:
        done = subprocess.run(
            [str(STACK_SCRIPT), "start", "seaweedfs"],
            env=self.env,
            check=False,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            log = self.state / "logs" / "seaweedfs.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"stack.sh start seaweedfs: {done.stderr[-2000:]}\n{tail}")
        return self

    def crash(self) -> None:
        """SIGKILL, as a node failure: no shutdown code runs."""
        pid = int(self.pid_file.read_text())
        if not signal_and_wait(pid, signal.SIGKILL, 60):
            raise TimeoutError(f"SeaweedFS {pid} still runs a minute after SIGKILL")

    def stop(self) -> None:
        subprocess.run(
            [str(STACK_SCRIPT), "stop", "seaweedfs"],
            env=self.env,
            check=False,
            capture_output=True,
            timeout=120,
        )
