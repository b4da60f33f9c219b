"""Fixtures for the Playwright browser walks (``pytest -m browser -p no:xdist``).

The browser is Debian's Chromium (``scripts/ensure-chromium.sh``), driven through the sync API of the
``playwright`` package. Each test gets a fresh zh-CN context and logs in through the real login form.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
TIMEOUT_MS = 10_000


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so the ``page`` fixture can tell that the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh (installs chromium + fonts-noto-cjk)"
        )
    # Playwright's sync API keeps an event loop running in the main thread; the ORM calls made by the
    # tests themselves (building data, checking results) are synchronous and safe here.
    old = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()
        pw.stop()
        if old is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = old


@pytest.fixture
def page(browser, live_server, request) -> Iterator:
    """A page in a fresh zh-CN context. Uncaught JS errors and failed static files fail the test; a failed
    test leaves a screenshot FAILED-<test>.png next to the others."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    problems: list[str] = []

    def on_response(response) -> None:
        if "/static/" in response.url and response.status >= 400:
            problems.append(f"static file {response.status}: {response.url}")

    pg.on("pageerror", lambda exc: problems.append(f"JS error: {exc}"))
    pg.on("response", on_response)
    try:
        yield pg
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            shot(pg, f"FAILED-{request.node.name}")
    finally:
        context.close()
    assert not problems, problems


@pytest.fixture
def browser_world(transactional_db, request):
    """The shared ``world`` under a transactional database, so the live server thread sees it
    (``world`` recreates the standard roles that transactional flushes remove)."""
    return request.getfixturevalue("world")


def login_as(page, live_server, username: str, password: str = PASSWORD) -> None:
    """Log in through the real login form and wait for the 工作台."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"^(?!.*/accounts/login/).*$"))


def shot(page, name: str) -> Path:
    """Save a full-page screenshot to test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
