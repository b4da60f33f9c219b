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


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh (installs chromium + fonts-noto-cjk)")
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
def page(browser, live_server) -> Iterator:
    """A page in a fresh zh-CN context. Uncaught JS errors and failed static files fail the test."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda exc: problems.append(f"JS error: {exc}"))
    pg.on(
        "response",
        lambda r: problems.append(f"static {r.status}: {r.url}") if "/static/" in r.url and r.status >= 400 else None,
    )
    pg.problems = problems  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        context.close()
    assert not problems, problems


@pytest.fixture
def browser_world(transactional_db, request):
    """The shared ``world`` under a transactional database, so the live server thread sees it.

    Transactional tests flush the database afterwards, which also removes the standard roles the data
    migration created; put them back before the world's accounts are given their roles.
    """
    from branchcare.org.capabilities import STANDARD_ROLES
    from branchcare.org.models import Role

    for code, (name, scope, caps) in STANDARD_ROLES.items():
        Role.objects.get_or_create(code=code, defaults={"name": name, "scope": str(scope), "capabilities": list(caps)})
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
