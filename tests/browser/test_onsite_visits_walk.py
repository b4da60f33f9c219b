"""Browser walk: a customer manager opens 今日计划, generates the plan and records a planned visit."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from branchcare.onsite.models import Visit, VisitPlan, VisitPlanItem
from branchcare.testing.factories import ClientFactory, RoomFactory

from .conftest import login_as, shot

pytestmark = pytest.mark.browser


def test_manager_generates_plan_and_records_planned_visit(page, live_server, browser_world):
    w = browser_world
    for _ in range(3):
        ClientFactory(branch=w.b1, manager=w["manager1"])
    RoomFactory(branch=w.b1, name="一号大户室")

    login_as(page, live_server, "manager1")
    page.get_by_role("link", name="今日计划").first.click()
    expect(page.locator("#plan-empty")).to_contain_text("还没有今日计划，点击生成今日计划")
    shot(page, "onsite-01-today-empty")

    page.locator("#plan-generate").click()
    expect(page.locator("#plan-items")).to_be_visible()
    plan = VisitPlan.objects.get(manager=w["manager1"])
    quota = plan.visits_quota
    expect(page.locator("#progress-visits")).to_have_text(f"0/{quota}")
    shot(page, "onsite-02-today-plan")

    first = plan.items.order_by("rank").first()
    page.locator(f"tr[data-item='{first.pk}']").get_by_role("link", name="记录拜访").click()
    expect(page.get_by_label("客户号")).to_have_value(first.client.client_no)
    page.get_by_label("拜访主题").fill("了解近期持仓与需求")
    page.get_by_label("客户关注与需求").fill("关注新能源板块")
    page.get_by_label("满意度").select_option("5")
    page.set_viewport_size({"width": 768, "height": 1024})  # a tablet on the trading floor
    shot(page, "onsite-03-visit-form-tablet")
    page.get_by_role("button", name="保存拜访记录").click()

    page.wait_for_url(re.compile(r"/onsite/today/"))
    expect(page.locator("#progress-visits")).to_have_text(f"1/{quota}")
    expect(page.locator(".alert, .toast").first).to_contain_text("计划内")
    shot(page, "onsite-04-today-progress")
    first.refresh_from_db()
    assert first.status == VisitPlanItem.Status.DONE
    assert Visit.objects.get().plan_item_id == first.pk
