"""What every browser test does on a page: check it with axe-core, watch for CSP violations,
save a screenshot. Playwright drives Debian's Chromium (deploy/local/browser.sh install),
never a browser of its own download."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, ConsoleMessage, Page, Playwright

from tests.support.stack import ROOT

CHROMIUM = Path(os.environ.get("RECOUVRA_CHROMIUM", "/usr/bin/chromium"))
AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
SCREENSHOTS = ROOT / "var" / "screenshots"
BLOCKING_IMPACTS = ("serious", "critical")


async def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless (no sandbox: these machines run tests as root)."""
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 (once, before the browser starts)
        raise RuntimeError(f"{CHROMIUM} is missing: run deploy/local/browser.sh install")
    return await playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
    )


class Watched:
    """A page whose console is watched for Content-Security-Policy violations."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.csp_violations: list[str] = []
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.csp_violations.append(message.text)


async def accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now. axe is evaluated
    through the DevTools protocol, so the page's own CSP (rightly) does not block it."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE)
    result = await page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"
    )
    return [v for v in result if v["impact"] in BLOCKING_IMPACTS]


async def checked(watched: Watched, name: str) -> None:
    """Fail on any CSP violation reported so far or any serious or critical axe violation, then
    screenshot the page as `name`."""
    page = watched.page
    await page.wait_for_load_state("networkidle")
    assert watched.csp_violations == [], f"{name}: {watched.csp_violations}"
    violations = await accessibility_violations(page)
    assert violations == [], f"{name} ({page.url}): {violations}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # caret="initial": hiding the caret would inject a <style>, which the CSP rightly blocks.
    await page.screenshot(
        path=str(SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]', '-', name)}.png"),
        full_page=True,
        caret="initial",
    )
