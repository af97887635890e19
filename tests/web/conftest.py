"""The calendar page in headless Chromium, served by a runtime's own HTTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from playwright.async_api import Browser, Dialog, Page, Route, async_playwright

from tests.web import browser as chromium

# A thumbnail for every image a post names: the tests never reach the addresses captions point at.
THUMBNAIL = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="90">'
    '<rect width="160" height="90" fill="#c7d2fe"/><circle cx="120" cy="30" r="14" fill="#fde68a"/>'
    '<path d="M0 90 L55 40 L95 75 L120 55 L160 90 Z" fill="#6366f1"/></svg>'
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    chromium.skip_unless_found(items)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    chromium.report_skipped(terminalreporter)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = chromium.executable()
    async with async_playwright() as playwright:
        # Playwright's own sandbox switch: Chromium's sandbox cannot start as root, which CI runs as.
        launched = await playwright.chromium.launch(
            executable_path=executable, headless=True, chromium_sandbox=False, args=chromium.ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


OpenPage = Callable[..., Awaitable[Page]]


@pytest.fixture
async def open_page(browser: Browser) -> AsyncIterator[OpenPage]:
    """Opens a URL in a fresh browser context in a time zone; the test fails on any script error or dialog."""
    problems: list[str] = []

    async def thumbnail(route: Route) -> None:
        await route.fulfill(status=200, content_type="image/svg+xml", body=THUMBNAIL)

    async def open_in(url: str, *, zone: str, width: int = 1280, height: int = 800) -> Page:
        context = await browser.new_context(
            timezone_id=zone, locale="en-GB", viewport={"width": width, "height": height}
        )
        await context.route("https://**/*", thumbnail)
        page = await context.new_page()
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

        async def dialog(shown: Dialog) -> None:
            problems.append(f"a dialog opened: {shown.type} {shown.message!r}")
            await shown.dismiss()

        page.on("dialog", dialog)
        await page.goto(url)
        return page

    yield open_in
    assert problems == []
