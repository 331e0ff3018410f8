"""Toxiproxy, the real TCP proxy between the services and their servers: started by the
harness on free ports (installed by deploy/local/toxiproxy.sh), driven through its HTTP API."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from tests.support.stack import ROOT, free_port

INSTALL_SCRIPT = ROOT / "deploy" / "local" / "toxiproxy.sh"


def toxiproxy_binary() -> str:
    """The pinned toxiproxy server, built into the cache by the project's script if missing."""
    subprocess.run([str(INSTALL_SCRIPT), "install"], check=True, timeout=900)
    return subprocess.run(
        [str(INSTALL_SCRIPT), "path"], check=True, capture_output=True, text=True
    ).stdout.strip()


@dataclass
class Toxiproxy:
    """One toxiproxy server of the harness's own and the links it proxies (name -> port)."""

    log_path: Path
    api_port: int = field(default_factory=free_port)
    links: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self) -> Toxiproxy:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [toxiproxy_binary(), "-host", "127.0.0.1", "-port", str(self.api_port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.log_path.read_text(errors="replace")[-2000:])
            try:
                if httpx.get(f"{self.api}/version", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise TimeoutError(f"toxiproxy did not answer on {self.api}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()

    def link(self, name: str, upstream: str) -> int:
        """Proxy 127.0.0.1:<a free port> to upstream (host:port); returns the port to use."""
        port = free_port()
        created = httpx.post(
            f"{self.api}/proxies",
            json={"name": name, "listen": f"127.0.0.1:{port}", "upstream": upstream},
            timeout=5,
        )
        created.raise_for_status()
        self.links[name] = port
        return port

    def add_latency(self, name: str, latency_ms: int, jitter_ms: int = 0) -> None:
        """Every byte from the server to the service on this link arrives this much later."""
        self._toxic(name, "latency", {"latency": latency_ms, "jitter": jitter_ms})

    def add_drops(self, name: str, after_ms: int) -> None:
        """Every connection on this link is reset (TCP RST) `after_ms` after it carries data."""
        self._toxic(name, "reset_peer", {"timeout": after_ms})

    def cut(self, name: str) -> None:
        """Close every connection on this link and refuse new ones (a link down)."""
        self._set_enabled(name, enabled=False)

    def heal(self, name: str) -> None:
        """The link back up without any toxic."""
        self._set_enabled(name, enabled=True)
        listed = httpx.get(f"{self.api}/proxies/{name}/toxics", timeout=5)
        listed.raise_for_status()
        for toxic in listed.json():
            httpx.delete(f"{self.api}/proxies/{name}/toxics/{toxic['name']}", timeout=5)

    def toxics(self, name: str) -> list[str]:
        listed = httpx.get(f"{self.api}/proxies/{name}/toxics", timeout=5)
        listed.raise_for_status()
        return [toxic["type"] for toxic in listed.json()]

    def _toxic(self, name: str, kind: str, attributes: dict[str, int]) -> None:
        added = httpx.post(
            f"{self.api}/proxies/{name}/toxics",
            json={
                "name": f"{kind}-{name}",
                "type": kind,
                "stream": "downstream",
                "toxicity": 1.0,
                "attributes": attributes,
            },
            timeout=5,
        )
        if added.status_code == 409:  # already there: the newest wins
            httpx.delete(f"{self.api}/proxies/{name}/toxics/{kind}-{name}", timeout=5)
            return self._toxic(name, kind, attributes)
        added.raise_for_status()

    def _set_enabled(self, name: str, *, enabled: bool) -> None:
        changed = httpx.post(f"{self.api}/proxies/{name}", json={"enabled": enabled}, timeout=5)
        changed.raise_for_status()
