"""/docs and /redoc render in headless Chromium with every request outside the gateway blocked.

No broker: the gateway runs in-process without its lifespan (the documents need no Kafka).
What a unit test cannot see: the pages really start under their Content-Security-Policy (no
inline script, no CDN), and nothing they load comes from elsewhere.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
import uvicorn
from playwright.async_api import Browser, Page, Route, async_playwright, expect

from cli.broker import free_port
from gateway.main import create_app
from hotline.settings import Settings

from .browser import launch, screenshot

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.asyncio(loop_scope="module"),
]


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        create_app(Settings()), host="127.0.0.1", port=port, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await launch(pw)
        yield b
        await b.close()


class Offline:
    """A page on which every request to another origin is aborted and recorded, as are CSP
    violations and script errors."""

    def __init__(self, page: Page, origin: str) -> None:
        self.page = page
        self.origin = origin
        self.outside: list[str] = []
        self.problems: list[str] = []
        page.on("pageerror", lambda exc: self.problems.append(f"error: {exc}"))
        page.on("console", self._console)

    def _console(self, msg: object) -> None:
        text = getattr(msg, "text", "")
        if "Content Security Policy" in text or getattr(msg, "type", "") == "error":
            self.problems.append(text)

    async def route(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(self.origin) or url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            self.outside.append(url)
            await route.abort()


async def open_offline(browser: Browser, url: str, origin: str) -> Offline:
    page = await browser.new_page()
    watch = Offline(page, origin)
    await page.route("**/*", watch.route)
    await page.goto(url)
    return watch


async def test_swagger_ui_renders_offline_with_an_authorize_dialog(
    browser: Browser, base_url: str
) -> None:
    w = await open_offline(browser, f"{base_url}/docs", base_url)
    page = w.page
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Hotline")
    await expect(page.locator(".opblock-summary-path", has_text="/v1/alerts/batch")).to_be_visible()
    await page.locator("button.authorize").first.click()
    dialog = page.locator(".modal-ux")
    for scheme in ("partnerKey", "officerToken", "operatorToken"):
        await expect(dialog).to_contain_text(scheme)
    await screenshot(page, "docs-swagger.png")
    assert w.outside == [] and w.problems == [], (w.outside, w.problems)
    await page.close()


async def test_redoc_renders_offline(browser: Browser, base_url: str) -> None:
    w = await open_offline(browser, f"{base_url}/redoc", base_url)
    page = w.page
    await expect(page.locator("h1").first).to_contain_text("Hotline")
    await expect(page.locator('[data-section-id="operation/postAlertBatch"]')).to_have_count(1)
    await expect(page.get_by_text("Something went wrong")).to_have_count(0)
    await page.wait_for_timeout(500)  # the search worker starts after the first render
    await screenshot(page, "docs-redoc.png")
    assert w.outside == [] and w.problems == [], (w.outside, w.problems)
    await page.close()
