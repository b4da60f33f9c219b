"""Browser walks for data scope, masking, the language switch and staff management."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from branchcare.org.models import User
from conftest import PASSWORD

from .conftest import login_as, shot

pytestmark = pytest.mark.browser

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def test_other_branch_client_is_404_in_chinese(page, live_server, browser_world):
    login_as(page, live_server, "b2manager1")
    response = page.goto(f"{live_server.url}/clients/{browser_world.client_m1.pk}/")
    assert response is not None and response.status == 404
    expect(page.locator("main")).to_contain_text("不在您的查看范围内")
    expect(page.locator("body")).not_to_contain_text("张三")
    expect(page.locator(".sidebar")).to_contain_text("客户列表")  # the normal frame, not a bare error page
    shot(page, "04-other-branch-404")


def test_agent_sees_masked_phone_only(page, live_server, browser_world):
    w = browser_world
    login_as(page, live_server, "agent1")
    page.goto(f"{live_server.url}/clients/?q=zs")
    row = page.locator("#client-list tr", has_text="张三")
    expect(row).to_contain_text("138****5678")
    page.goto(f"{live_server.url}/clients/")
    expect(page.locator("#client-list")).to_contain_text("李四")
    html = page.content()
    assert "13812345678" not in html
    assert not MOBILE.findall(html), MOBILE.findall(html)
    shot(page, "05-agent-list-masked")

    page.locator("#client-list").get_by_role("link", name="张三").click()
    page.wait_for_url(re.compile(rf"/clients/{w.client_m1.pk}/$"))
    profile = page.locator("#profile")
    expect(profile).to_contain_text("138****5678")
    html = page.content()
    assert "13812345678" not in html
    assert w.client_m1.id_number not in html
    assert not MOBILE.findall(html), MOBILE.findall(html)
    expect(page.get_by_role("link", name=re.compile("编辑资料"))).to_have_count(0)  # agents cannot edit
    shot(page, "05-agent-360-masked")


def test_english_switch_on_login_page(page, live_server, browser_world):
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.get_by_role("button", name="English").click()
    page.wait_for_function("document.documentElement.lang === 'en'")
    # Log in by field ids: the labels may be translated once an English catalogue exists.
    page.locator("#id_username").fill("manager1")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("html").get_attribute("lang") == "en"
    # Django's own catalogue is English now, e.g. the weekday next to the 工作台 heading.
    expect(page.locator("main")).to_contain_text(
        re.compile("Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday")
    )
    shot(page, "06-english")
    page.locator(".topbar").get_by_role("button", name="中文").click()
    page.wait_for_function("document.documentElement.lang === 'zh-hans'")
    expect(page.locator("main")).to_contain_text(re.compile("星期[一二三四五六日]"))


def test_director_creates_staff_member(page, live_server, browser_world):
    login_as(page, live_server, "director")
    page.locator(".sidebar").get_by_role("link", name="员工与角色").click()
    page.wait_for_url(re.compile(r"/org/staff/$"))
    expect(page.get_by_role("heading", name=re.compile("员工"))).to_be_visible()
    expect(page.locator("table")).to_contain_text("manager1")
    page.get_by_role("link", name=re.compile("新增员工")).click()
    page.wait_for_url(re.compile(r"/org/staff/new/$"))
    expect(page.get_by_role("heading", name="新增员工")).to_be_visible()

    page.get_by_label("登录账号").fill("agent9")
    page.get_by_label("姓名").fill("钱九")
    page.get_by_label("团队").select_option(label="财富一组")
    page.get_by_label("客服专员").check()
    page.get_by_label("执业编号").fill("S0001234567890")
    page.get_by_label("初始密码").fill("Qing#Tian2026")
    shot(page, "07-staff-form")
    page.get_by_role("button", name="保存").click()

    page.wait_for_url(re.compile(r"/org/staff/$"))
    expect(page.locator(".alert-success")).to_contain_text("已创建员工 钱九。")
    row = page.locator("table tr", has_text="agent9")
    expect(row).to_contain_text("钱九")
    expect(row).to_contain_text("B001")
    expect(row).to_contain_text("客服专员")
    expect(row).to_contain_text("在职")
    shot(page, "07-staff-list")
    created = User.objects.get(username="agent9")
    assert list(created.roles.values_list("code", flat=True)) == ["agent"]
    assert created.branch_id == browser_world.b1.pk
