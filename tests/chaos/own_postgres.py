"""A PostgreSQL server of the harness's own, started by the project's stack script on a free
port with its own state directory: the harness may crash it (`immediate` stop: no checkpoint, as
a power cut leaves it) without touching the shared dev stack that other engineers use."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
from pathlib import Path

from tests.chaos.crashes import signal_and_wait
from tests.support.stack import STACK_SCRIPT, Stack, free_port

SUPERUSER = "recouvra:recouvra"  # deploy/local/stack/postgres.sh's local superuser


@dataclasses.dataclass
class OwnPostgres:
    state: Path
    port: int = dataclasses.field(default_factory=free_port)

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RECOUVRA_STATE": str(self.state),
            "RECOUVRA_POSTGRES_PORT": str(self.port),
            # The dev stack's `off` forgets acknowledged commits when the server crashes: the
            # harness crashes it, and must lose nothing a real server would keep.
            "RECOUVRA_POSTGRES_SYNCHRONOUS_COMMIT": "on",
            # initdb and provisioning on a busy machine of two cores can outlast the default 120 s
            "RECOUVRA_START_TIMEOUT": "600",
        }

    @property
    def pid_file(self) -> Path:
        return self.state / "run" / "postgres.pid"

    def stack(self, shared: Stack) -> Stack:
        """The shared stack's Kafka and S3 with this PostgreSQL."""
        return shared.on_postgres(f"127.0.0.1:{self.port}", SUPERUSER)

    def start(self) -> OwnPostgres:
        done = subprocess.run(
            [str(STACK_SCRIPT), "start", "postgres"],
            env=self.env,
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            log = self.state / "logs" / "postgres.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"stack.sh start postgres: {done.stderr[-2000:]}\n{tail}")
        return self

    def crash(self) -> None:
        """`pg_ctl stop -m immediate`: SIGQUIT to the postmaster, every backend gone at once,
        recovery from the WAL at the next start."""
        pid = int(self.pid_file.read_text())
        if not signal_and_wait(pid, signal.SIGQUIT, 60):
            raise TimeoutError(f"PostgreSQL {pid} still runs a minute after SIGQUIT")

    def stop(self) -> None:
        subprocess.run(
            [str(STACK_SCRIPT), "stop", "postgres"],
            env=self.env,
            check=False,
            capture_output=True,
            timeout=120,
        )
