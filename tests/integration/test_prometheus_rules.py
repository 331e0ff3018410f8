"""The recording rules and alerts of k8s/monitoring load in Prometheus's own tool, their test
cases pass (one fires when a dead letter appears), and every metric they name is one the
services really export."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.support.stack import ROOT

pytestmark = pytest.mark.integration

MONITORING = ROOT / "k8s" / "monitoring"
RULES = MONITORING / "prometheus-rules.yml"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    assert tool, "promtool is installed with Prometheus by `deploy/local/stack.sh install`"
    return subprocess.run(
        [tool, *args], cwd=MONITORING, capture_output=True, text=True, timeout=120, check=False
    )


def test_rules_load_and_their_test_cases_pass() -> None:
    checked = promtool("check", "rules", RULES.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", "prometheus-rules.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    cases = yaml.safe_load((MONITORING / "prometheus-rules.test.yml").read_text())["tests"]
    assert any(
        t["alertname"] == "RecouvraDeadLetterWritten" and t["exp_alerts"]
        for case in cases
        for t in case.get("alert_rule_test", [])
    )


def test_every_metric_the_rules_name_is_exported_by_the_code() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    named = {
        name
        for group in groups
        for rule in group["rules"]
        for name in re.findall(r"(?<![:\w])recouvra_[a-z_]+(?![:\w])", rule["expr"])
    }
    sources = [*(ROOT / "shared" / "src").rglob("*.py"), *(ROOT / "services").glob("*/src/**/*.py")]
    code = "\n".join(path.read_text() for path in sources)
    suffixes = ("_total", "_bucket", "_count", "_sum")
    missing = set()
    for name in named:
        base = next((name.removesuffix(s) for s in suffixes if name.endswith(s)), name)
        if f'"{base}"' not in code and f'"{name}"' not in code:
            missing.add(name)
    assert not missing, f"rules name metrics no service exports: {sorted(missing)}"
    assert len(named) > 15
