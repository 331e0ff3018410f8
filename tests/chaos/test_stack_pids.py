"""The stack script tells a server that is still starting from one that died
(deploy/local/stack/common.sh, `pid_alive`). A chaos run's SeaweedFS restart was reported
"exited during startup" while it went on starting: between two exec's a process's command line
reads empty, and it was read as gone."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pid_alive(tmp_path: Path, command_lines: list[str], pattern: str = "/opt/weed") -> bool:
    """`pid_alive` on a live process whose command line reads as each of `command_lines` in turn
    (the last one from then on), as the kernel would show it."""
    script = f"""
        set -u
        SCRIPT_DIR={ROOT}/deploy/local
        source "$SCRIPT_DIR/stack/common.sh"
        sleep 60 & server=$!
        echo "$server" >"{tmp_path}/server.pid"
        reads=({" ".join(repr(c) for c in command_lines)})
        echo 0 >"{tmp_path}/reads"
        proc_cmdline() {{  # called in a subshell: the count lives in a file
          local n; n=$(<"{tmp_path}/reads"); echo $((n + 1)) >"{tmp_path}/reads"
          ((n < ${{#reads[@]}})) || n=$((${{#reads[@]}} - 1))
          printf '%s' "${{reads[$n]}}"
        }}
        if pid_alive "{tmp_path}/server.pid" {pattern!r}; then echo alive; else echo gone; fi
        kill "$server"
    """
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=30, check=True
    )
    return done.stdout.strip() == "alive"


def test_a_server_between_two_execs_is_still_starting(tmp_path: Path) -> None:
    assert pid_alive(tmp_path, ["", "", "/opt/weed mini -dir=/data "])


def test_a_process_whose_command_line_stays_empty_is_gone(tmp_path: Path) -> None:
    assert not pid_alive(tmp_path, [""])  # a zombie: killed, never reaped


def test_another_program_on_the_recorded_pid_is_not_the_server(tmp_path: Path) -> None:
    assert not pid_alive(tmp_path, ["/usr/bin/python3 -m something "])
    assert pid_alive(tmp_path, ["/opt/weed mini -dir=/data "])


def test_a_pid_with_no_process_is_gone_at_once(tmp_path: Path) -> None:
    (tmp_path / "server.pid").write_text("999999999\n")
    script = f"""
        SCRIPT_DIR={ROOT}/deploy/local
        source "$SCRIPT_DIR/stack/common.sh"
        pid_alive "{tmp_path}/server.pid" /opt/weed && echo alive || echo gone
    """
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=5)
    assert done.stdout.strip() == "gone"
