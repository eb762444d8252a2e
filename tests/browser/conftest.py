"""Real headless Chromium driven by Playwright against pytest-django's live server."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Assertions wait as long as page actions do: expect()'s own 5 s ran out on a busy machine
# while a 50 MP mask export or an order round trip was still on its way.
expect.set_options(timeout=15_000)

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(DEBIAN_CHROMIUM) if DEBIAN_CHROMIUM.exists() else None,
            args=CHROMIUM_ARGS,
        )
        yield browser
        browser.close()


def csp_violations(page) -> list[str]:
    """Chromium reports what the Content-Security-Policy blocked as console errors; they
    are collected across navigations."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


@pytest.fixture
def page(browser, live_server):
    """A page on the live server. Every test that uses it also checks that nothing it did
    was blocked by the Content-Security-Policy."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = csp_violations(page)
    yield page
    context.close()
    assert not violations, "blocked by the Content-Security-Policy:\n" + "\n".join(violations)


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot under test-results/ for people to look at."""

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    take.folder = SCREENSHOTS
    return take
