"""Chromium for the calendar page's tests, only the one installed on this machine: no browser is ever downloaded.

`BOT_TEST_CHROMIUM` names one (a path, or a command on PATH); without it, `chromium` on PATH is used when there
is one. It is read once, when the test session imports this module, before each test's environment is cleaned.
With no Chromium the browser tests are skipped, and the run says so in one line. Naming one that cannot be found
fails them instead: asking for the browser tests and silently not running them would be worse than not asking
(`.ci/run` names it).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Sequence
from typing import Any

import pytest
from playwright.async_api import Error, async_playwright

VARIABLE = "BOT_TEST_CHROMIUM"
NAMED = os.environ.get(VARIABLE) or None
CHROMIUM = shutil.which(NAMED or "chromium")
# Chromium resolves no name but loopback's: the page and its assets come from the bot on 127.0.0.1, and anything
# else it asks for (a thumbnail's URL) is answered by the test's own route or fails, as `no_network` does for Python.
ARGS = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]

_SKIP_REASON = f"no Chromium: apt install chromium, or set {VARIABLE}"


def skip_unless_found(items: Sequence[pytest.Item]) -> None:
    """Skip the tests that open a browser when there is none, before their fixtures start a bot for nothing."""
    if CHROMIUM is None and NAMED is None:
        for item in items:
            if "browser" in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.skip(reason=_SKIP_REASON))


def executable() -> str:
    """The Chromium to launch; skips the test when none is found, and fails it when the one named is missing."""
    if CHROMIUM is None:
        if NAMED is not None:
            pytest.fail(f"{VARIABLE}={NAMED}: no such Chromium (apt install chromium)", pytrace=False)
        pytest.skip(_SKIP_REASON)
    return CHROMIUM


def report_skipped(reporter: Any) -> None:
    """One line at the end of the run: how many tests were skipped for want of a browser, and how to run them."""
    count = sum(_SKIP_REASON in str(report.longrepr) for report in reporter.stats.get("skipped", []))
    if count:
        reporter.write_line(
            f"Browser tests skipped ({count}): apt install chromium (or set {VARIABLE}=/path/to/chromium) to run them"
        )


async def _check() -> int:
    if CHROMIUM is None:
        print(f"No Chromium found ({VARIABLE}={NAMED or ''}): apt install chromium", file=sys.stderr)
        return 1
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, chromium_sandbox=False, args=ARGS)
            print(f"{CHROMIUM}: Chromium {browser.version}")
            await browser.close()
    except Error as exc:
        print(f"{CHROMIUM} does not start: {exc.message.splitlines()[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # `python -m tests.web.browser`: whether the browser starts, before a long run
    sys.exit(asyncio.run(_check()))
