"""Playwright driving Debian's Chromium (never `playwright install`), and axe-core accessibility scans.

browser = launch_browser(playwright)          # /usr/bin/chromium with the flags from RECIPES.md
violations = axe_check(page)                  # WCAG 2.2 AA violations only
assert not violations, violations.report()    # readable: rule, impact, help URL, offending elements
"""

from __future__ import annotations

import os
import re
from pathlib import Path

CHROMIUM = os.environ.get("BOOKINGS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WCAG_22_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_22_AA_TAGS}, "resultTypes": ["violations"]}
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def chromium_available() -> bool:
    return os.access(CHROMIUM, os.X_OK)


def playwright_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def launch_browser(playwright):
    """Chromium from Debian, headless, with the flags that keep it offline and quiet."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def save_screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/screenshots/<name>.png and return its path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:150] or "page"
    path = SCREENSHOT_DIR / f"{safe}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


class AxeViolations(list):
    """axe-core violations (each a dict: id, impact, help, helpUrl, nodes) with a readable report."""

    def __init__(self, violations: list[dict], url: str = ""):
        super().__init__(violations)
        self.url = url

    def report(self) -> str:
        if not self:
            return f"no WCAG 2.2 AA violations on {self.url}"
        lines = [f"{len(self)} WCAG 2.2 AA violation(s) on {self.url}:"]
        for violation in self:
            lines.append(
                f"- {violation['id']} ({violation.get('impact')}): {violation['help']} <{violation['helpUrl']}>"
            )
            for node in violation.get("nodes", []):
                target = " ".join(str(t) for t in node.get("target", []))
                summary = " ".join((node.get("failureSummary") or "").split())
                lines.append(f"    at {target}: {summary}")
                lines.append(f"       {node.get('html', '')[:200]}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()


def axe_check(page, context=None) -> AxeViolations:
    """Run axe-core (bundled with axe-playwright-python, works offline) for WCAG 2.2 AA on the page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context, options=AXE_OPTIONS)
    return AxeViolations(results.response["violations"], url=page.url)
