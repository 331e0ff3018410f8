"""More processes answering a service's gRPC on its one port, started and watched by its first.

gRPC binds with SO_REUSEPORT, so each process listens on the same port and the kernel spreads
new connections over them: a second core's worth of Python for a service whose gRPC handlers
keep nothing in process (`ServiceSettings.grpc_processes`). Only the first process consumes,
relays, prunes and reads the service-wide metrics; the others (`python -m <service>
grpc-worker`, `runtime.serve_grpc_only`) answer gRPC and count their own calls. Nothing is left
half-running:

- a gRPC process that dies alone is started again after a second and counted
  (`recouvra_grpc_process_restarts_total`, an ERROR in the log); one that keeps dying (more
  than MAX_RESTARTS in RESTART_WINDOW_SECONDS) stops the whole service, for its supervisor to
  see;
- the first process killed (SIGKILL, a node failure) takes the others with it: each asks Linux
  for SIGKILL when its parent dies, and watches its parent's pid as well;
- SIGTERM to the first process stops them all, each finishing its calls in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import sys
import time
from collections import deque

from recouvra_shared.metrics import GRPC_PROCESS_RESTARTS
from recouvra_shared.settings import ServiceSettings

log = logging.getLogger(__name__)

WORKER_COMMAND = "grpc-worker"
RESTART_DELAY_SECONDS = 1.0
MAX_RESTARTS = 5
RESTART_WINDOW_SECONDS = 60.0
PARENT_WATCH_SECONDS = 1.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class GrpcProcessesFailing(RuntimeError):
    """The service's other gRPC processes keep dying: the service stops rather than serve
    from fewer processes than it was told to without anyone noticing."""


def service_module(settings: ServiceSettings) -> str:
    """The package `python -m` ran (`scoring` for `python -m scoring`)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return spec.parent if spec is not None and spec.parent else settings.service_name


class GrpcProcesses:
    """The 2nd..Nth gRPC processes of a service, seen from its first."""

    def __init__(self, settings: ServiceSettings, port: int, module: str) -> None:
        self.settings = settings
        self.port = port
        self.module = module
        self.numbers = range(2, settings.grpc_processes + 1)
        self.running: dict[int, asyncio.subprocess.Process] = {}
        self.restarts: deque[float] = deque()
        self.stopping = asyncio.Event()

    def command(self, number: int, ready_fd: int) -> list[str]:
        """`python -m <service> grpc-worker` for the process with this number, which writes a
        byte to `ready_fd` once it serves."""
        return [
            sys.executable,
            "-m",
            self.module,
            WORKER_COMMAND,
            f"--number={number}",
            f"--port={self.port}",
            f"--parent={os.getpid()}",
            f"--ready-fd={ready_fd}",
        ]

    async def _start(self, number: int) -> bool:
        """Start the process with this number and wait until it serves; False if it died
        first."""
        read_end, write_end = os.pipe()
        try:
            # Forked from the event loop's thread, which lives as long as the process: the
            # child's parent-death signal follows the thread that forked it.
            process = await asyncio.create_subprocess_exec(
                *self.command(number, write_end), pass_fds=(write_end,)
            )
        finally:
            os.close(write_end)
        self.running[number] = process
        try:
            ready = await asyncio.to_thread(os.read, read_end, 1)  # b"" once it exited
        finally:
            os.close(read_end)
        log.info(
            "%s gRPC process %d (pid %d) %s",
            self.settings.service_name,
            number,
            process.pid,
            "serving" if ready else "exited before serving",
        )
        return bool(ready)

    async def start(self) -> None:
        """Start every process after the first and wait until they all serve: the first
        reports SERVING after this, so a caller's connections meet every process."""
        for number in self.numbers:
            if not await self._start(number):
                code = await self.running[number].wait()
                raise GrpcProcessesFailing(
                    f"{self.settings.service_name}: gRPC process {number} exited with {code} "
                    "before serving"
                )

    async def supervise(self) -> None:
        """Start again a process that died alone; raise when they keep dying, which stops the
        service. Returns once stopping."""
        if not self.numbers:
            await self.stopping.wait()
            return
        stop = asyncio.ensure_future(self.stopping.wait())
        try:
            while not self.stopping.is_set():
                exits = {
                    asyncio.ensure_future(process.wait()): number
                    for number, process in self.running.items()
                }
                done, _ = await asyncio.wait([stop, *exits], return_when=asyncio.FIRST_COMPLETED)
                for waiting in exits:
                    waiting.cancel()
                if self.stopping.is_set():
                    return
                for ended in done:
                    await self._replace(exits[ended], ended.result())
        finally:
            stop.cancel()

    async def _replace(self, number: int, code: int) -> None:
        gone = self.running[number]
        now = time.monotonic()
        self.restarts.append(now)
        while self.restarts and self.restarts[0] < now - RESTART_WINDOW_SECONDS:
            self.restarts.popleft()
        GRPC_PROCESS_RESTARTS.inc()
        if len(self.restarts) > MAX_RESTARTS:
            raise GrpcProcessesFailing(
                f"{self.settings.service_name}: gRPC processes died {len(self.restarts)} times "
                f"in {RESTART_WINDOW_SECONDS:.0f} s (the last, number {number}, exited with "
                f"{code}); stopping the service"
            )
        log.error(
            "%s gRPC process %d (pid %d) exited with %s; starting it again",
            self.settings.service_name,
            number,
            gone.pid,
            code,
        )
        await asyncio.sleep(RESTART_DELAY_SECONDS)
        if not self.stopping.is_set():
            await self._start(number)

    async def stop(self, grace_seconds: float) -> None:
        """SIGTERM each (they finish their calls in flight), SIGKILL what still runs after the
        grace period."""
        self.stopping.set()
        alive = [p for p in self.running.values() if p.returncode is None]
        for process in alive:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        if not alive:
            return
        _, late = await asyncio.wait(
            [asyncio.ensure_future(p.wait()) for p in alive], timeout=grace_seconds + 5
        )
        for process in alive:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        for waiting in late:
            waiting.cancel()


def die_with_parent(parent: int) -> None:
    """Have Linux SIGKILL this process when its parent dies, so a killed service leaves nothing
    answering on its port; exit at once if the parent is already gone."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:
        raise SystemExit(f"gRPC process: its service's first process {parent} is gone")


async def watch_parent(parent: int, stopping: asyncio.Event) -> None:
    """Stop this process if its parent is gone (the kernel's signal is the first line)."""
    while not stopping.is_set():
        if os.getppid() != parent:
            log.error("gRPC process: its service's first process %d is gone; stopping", parent)
            stopping.set()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=PARENT_WATCH_SECONDS)
