"""The runbook (docs/operations.md) tells on-call what each alert means and what to do: every
alert of k8s/monitoring/prometheus-rules.yml has its own section there, and the runbook names no
alert that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "docs" / "operations.md"


def _alerts() -> set[str]:
    groups = yaml.safe_load((ROOT / "k8s" / "monitoring" / "prometheus-rules.yml").read_text())
    return {
        rule["alert"] for group in groups["groups"] for rule in group["rules"] if "alert" in rule
    }


def _sections() -> dict[str, str]:
    """Level-3 heading -> its text, under the runbook's `## Alerts`."""
    alerts_part = RUNBOOK.read_text().split("\n## Alerts\n", 1)[1].split("\n## ", 1)[0]
    parts = re.split(r"^### (.+)$", alerts_part, flags=re.MULTILINE)
    return {heading.strip(): body for heading, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_every_alert_has_a_runbook_section_that_says_something() -> None:
    alerts = _alerts()
    sections = _sections()
    assert len(alerts) >= 13
    assert sorted(alerts - sections.keys()) == [], "alerts without a section in docs/operations.md"
    assert sorted(sections.keys() - alerts) == [], "runbook sections for alerts that do not exist"
    thin = [name for name, body in sections.items() if len(body.split()) < 20]
    assert thin == []
