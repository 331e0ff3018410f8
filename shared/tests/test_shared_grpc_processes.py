"""A service's extra gRPC processes: settings that can be scraped, a refusal for a service not
made for it, and the first process's supervision (a dead one started again, one that keeps dying
stopping the service, all stopped on stop) over real child processes."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable

import pytest
from pydantic import ValidationError

from recouvra_shared import grpc_processes
from recouvra_shared.grpc_processes import GrpcProcesses, GrpcProcessesFailing
from recouvra_shared.metrics import GRPC_PROCESS_RESTARTS
from recouvra_shared.runtime import ServiceParts, refuse_many_processes
from recouvra_shared.settings import ServiceSettings


def test_extra_processes_with_a_metrics_port_need_one_port_each() -> None:
    with pytest.raises(ValidationError, match="grpc_process_metrics_ports: 2 port"):
        ServiceSettings(grpc_processes=3, metrics_port=9102, grpc_process_metrics_ports=[9103])
    ServiceSettings(grpc_processes=3, metrics_port=9102, grpc_process_metrics_ports=[9103, 9104])
    ServiceSettings(grpc_processes=3)  # no metrics served: nothing to name
    with pytest.raises(ValidationError, match="grpc_processes"):
        ServiceSettings(grpc_processes=0)


def test_only_a_service_made_for_it_is_served_by_many_processes() -> None:
    two = ServiceSettings(service_name="matching", grpc_processes=2)
    with pytest.raises(SystemExit, match="grpc_processes: matching serves gRPC from one process"):
        refuse_many_processes(two, ServiceParts())
    refuse_many_processes(two, ServiceParts(grpc_in_many_processes=True))
    refuse_many_processes(ServiceSettings(), ServiceParts())


class Sleepers(GrpcProcesses):
    """The supervision as the service runs it, over processes that only sleep."""

    def command(self, number: int, ready_fd: int) -> list[str]:
        serve = f"import os, time; os.write({ready_fd}, b'1'); time.sleep(120)"
        return [sys.executable, "-c", serve]


def pids(processes: GrpcProcesses) -> list[int]:
    return [p.pid for p in processes.running.values() if p.returncode is None]


async def until(check: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.05)


async def test_a_dead_process_is_started_again_and_all_stop_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(grpc_processes, "RESTART_DELAY_SECONDS", 0.05)
    processes = Sleepers(ServiceSettings(grpc_processes=3), port=1, module="unused")
    await processes.start()
    supervising = asyncio.create_task(processes.supervise())
    first = pids(processes)
    assert len(first) == 2
    restarts = GRPC_PROCESS_RESTARTS._value.get()

    os.kill(first[0], signal.SIGKILL)
    await until(lambda: len(pids(processes)) == 2 and first[0] not in pids(processes))
    assert first[1] in pids(processes)  # the other kept running
    assert GRPC_PROCESS_RESTARTS._value.get() == restarts + 1

    running = pids(processes)
    await processes.stop(grace_seconds=1)
    await asyncio.wait_for(supervising, 5)
    assert pids(processes) == []
    for pid in running:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


async def test_processes_that_keep_dying_stop_the_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(grpc_processes, "RESTART_DELAY_SECONDS", 0.01)

    class Crashing(GrpcProcesses):
        def command(self, number: int, ready_fd: int) -> list[str]:
            serve_then_die = f"import os; os.write({ready_fd}, b'1'); raise SystemExit(3)"
            return [sys.executable, "-c", serve_then_die]

    processes = Crashing(ServiceSettings(grpc_processes=2), port=1, module="unused")
    await processes.start()
    with pytest.raises(GrpcProcessesFailing, match="exited with 3"):
        await asyncio.wait_for(processes.supervise(), 60)
    await processes.stop(grace_seconds=1)


async def test_a_process_that_never_serves_fails_the_start() -> None:
    class NeverServing(GrpcProcesses):
        def command(self, number: int, ready_fd: int) -> list[str]:
            return [sys.executable, "-c", "raise SystemExit(4)"]

    processes = NeverServing(ServiceSettings(grpc_processes=2), port=1, module="unused")
    with pytest.raises(GrpcProcessesFailing, match="exited with 4 before serving"):
        await processes.start()
