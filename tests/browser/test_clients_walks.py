"""Browser walks through login, the 工作台, the client list (global search, HTMX filters, bulk reassign)
and the client 360 page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from branchcare.clients.models import Client
from branchcare.testing.factories import HoldingFactory, PriceFactory, SecurityFactory

from .conftest import login_as, shot

pytestmark = pytest.mark.browser


def _is_htmx_list(response) -> bool:
    return response.request.headers.get("hx-request") == "true" and "/clients/" in response.url


def test_manager_login_search_and_client_360(page, live_server, browser_world):
    w = browser_world
    security = SecurityFactory(code="600000", name="浦发银行")
    HoldingFactory(client=w.client_m1, security=security, quantity=2000, cost_price=Decimal("8.50"))
    PriceFactory(security=security, close=Decimal("9.20"))

    page.goto(f"{live_server.url}/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    expect(page.locator("label[for=id_username]")).to_have_text("用户名")
    expect(page.locator("label[for=id_password]")).to_have_text("密码")
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    shot(page, "01-login")

    login_as(page, live_server, "manager1")
    expect(page.get_by_role("heading", name=re.compile("我的工作台"))).to_be_visible()
    expect(page.locator(".sidebar")).to_contain_text("客户列表")
    shot(page, "01-workbench-manager1")

    # The global search box in the top bar goes to the client list.
    page.locator("#global-search").fill("zs")
    page.locator("#global-search").press("Enter")
    page.wait_for_url(re.compile(r"/clients/\?q=zs"))
    table = page.locator("#client-list")
    expect(table).to_contain_text("张三")
    expect(table).not_to_contain_text("李四")
    expect(page.locator("#result-count")).to_have_text("共 1 位客户")

    # The filter box searches as you type (HTMX swaps only the table).
    page.evaluate("window.__noReload = 'still-here'")
    box = page.locator("#f-q")
    with page.expect_response(_is_htmx_list):
        box.fill("")
        box.press_sequentially("ww")
    expect(table).to_contain_text("没有找到匹配的客户")
    with page.expect_response(_is_htmx_list):
        box.fill("")
        box.press_sequentially("zs")
    expect(table).to_contain_text("张三")
    expect(page.locator("#result-count")).to_have_text("共 1 位客户")
    assert page.evaluate("window.__noReload") == "still-here"
    shot(page, "01-client-list-search")

    # The client 360 page: profile, holdings with P/L, service timeline.
    table.get_by_role("link", name="张三").click()
    page.wait_for_url(re.compile(rf"/clients/{w.client_m1.pk}/$"))
    expect(page.get_by_role("heading", name=re.compile("张三"))).to_be_visible()
    expect(page.locator("#profile")).to_contain_text("13812345678")  # a manager may see personal data
    holdings = page.locator("#holdings")
    expect(holdings).to_contain_text("600000 浦发银行")
    expect(holdings).to_contain_text("2,000")
    expect(holdings).to_contain_text("1,400.00")  # (9.20 - 8.50) x 2000
    expect(page.get_by_text("服务时间线")).to_be_visible()
    expect(page.locator("#timeline")).to_be_visible()
    shot(page, "01-client-360")


def test_director_filters_and_bulk_reassign(page, live_server, browser_world):
    w = browser_world
    Client.objects.filter(pk=w.client_m2.pk).update(tier=Client.Tier.LARGE, risk_level="C5")

    login_as(page, live_server, "director")
    page.locator(".sidebar").get_by_role("link", name="客户列表").click()
    page.wait_for_url(re.compile(r"/clients/$"))
    table = page.locator("#client-list")
    expect(table).to_contain_text("张三")
    expect(table).to_contain_text("李四")
    expect(table).not_to_contain_text("王五")  # another branch
    expect(page.locator("#result-count")).to_have_text("共 2 位客户")

    page.evaluate("window.__noReload = 'still-here'")
    filters = page.locator("#client-filters")
    tier = filters.locator("select[name=tier]")
    risk = filters.locator("select[name=risk_level]")
    with page.expect_response(_is_htmx_list):
        tier.select_option(label="大户")
    expect(page.locator("#result-count")).to_have_text("共 1 位客户")
    expect(table).to_contain_text("李四")
    expect(table).not_to_contain_text("张三")
    assert "tier=large" in page.url  # hx-push-url keeps the filters in the address bar
    shot(page, "02-filter-tier")
    with page.expect_response(_is_htmx_list):
        tier.select_option(value="")
    with page.expect_response(_is_htmx_list):
        risk.select_option(label="C3 稳健型")
    expect(page.locator("#result-count")).to_have_text("共 1 位客户")
    expect(table).to_contain_text("张三")
    expect(table).not_to_contain_text("李四")
    with page.expect_response(_is_htmx_list):
        risk.select_option(value="")
    expect(page.locator("#result-count")).to_have_text("共 2 位客户")
    assert page.evaluate("window.__noReload") == "still-here"

    # Tick 张三 and move him to manager2; the confirm dialog is accepted.
    manager2 = str(w["manager2"])
    dialogs: list[str] = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    table.locator("tr", has_text="张三").locator("input.client-check").check()
    page.locator("#reassign-to").select_option(label=manager2)
    page.get_by_role("button", name="划转").click()
    expect(page.locator(".alert-success")).to_contain_text(f"已将 1 位客户划转给 {manager2}。")
    assert dialogs and "确定将勾选的客户划转给所选客户经理吗" in dialogs[0]
    expect(table.locator("tr", has_text="张三")).to_contain_text(manager2)
    shot(page, "02-reassigned")

    table.get_by_role("link", name="张三").click()
    page.wait_for_url(re.compile(rf"/clients/{w.client_m1.pk}/$"))
    profile = page.locator("#profile")
    expect(profile.locator("dt", has_text="客户经理").locator("+ dd")).to_have_text(manager2)
    expect(page.locator("#timeline")).to_contain_text("划转客户经理")
    shot(page, "02-client-360-after-reassign")
