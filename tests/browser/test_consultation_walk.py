"""Browser walk of the consultation pipeline: manager1 raises an order for 张三, consultant1 writes
advice, manager1 sends it back once, consultant1 resubmits, manager1 accepts, both confirm delivery and
the advice letter downloads as a PDF."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from branchcare.onsite.models import ConsultationOrder
from branchcare.testing.factories import HoldingFactory, SecurityFactory

from .conftest import login_as, shot

pytestmark = pytest.mark.browser


def test_consultation_walk(page, live_server, browser_world):
    w = browser_world
    consultant = w["consultant1"]
    consultant.practice_no = "A0120612345678"
    consultant.save(update_fields=["practice_no"])
    security = SecurityFactory(code="600036", name="招商银行", risk_rating="R2")
    HoldingFactory(client=w.client_m1, security=security, quantity=1000, cost_price=Decimal("35.20"))
    page.on("dialog", lambda dialog: dialog.accept())

    def switch(username: str) -> None:
        page.context.clear_cookies()
        login_as(page, live_server, username)

    # manager1 raises an order for 张三 and submits it to the consultants
    login_as(page, live_server, "manager1")
    page.goto(f"{live_server.url}/onsite/consultations/new/?client={w.client_m1.pk}")
    expect(page.locator("h1")).to_contain_text("张三")
    page.get_by_label("客户问题与需求").fill("招商银行是否继续持有？")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator("#order-state")).to_have_text("草稿")
    order = ConsultationOrder.objects.get()
    expect(page.locator("#order-holdings")).to_contain_text("招商银行")
    page.get_by_role("button", name="提交投顾").click()
    expect(page.locator("#order-state")).to_have_text("待分析")
    shot(page, "consult-01-submitted")

    def write_advice(overall: str) -> None:
        switch("consultant1")
        page.goto(f"{live_server.url}/onsite/consultations/{order.pk}/")
        page.locator("#write-advice").click()
        page.locator(f"select[name=action_{security.pk}]").select_option("hold")
        page.locator(f"input[name=rationale_{security.pk}]").fill("估值合理，股息稳定")
        page.locator("#f-overall").fill(overall)
        expect(page.locator("#f-risk")).not_to_be_empty()
        shot(page, "consult-02-advice-form")
        page.locator("#save-submit").click()
        expect(page.locator("#order-state")).to_have_text("意见待复核")

    write_advice("继续持有，不宜追高。")

    # manager1 sends it back once with a reason
    switch("manager1")
    page.goto(f"{live_server.url}/onsite/consultations/{order.pk}/")
    page.locator("#f-return-note").fill("请补充估值依据")
    page.get_by_role("button", name="退回修改").click()
    expect(page.locator("#order-state")).to_have_text("分析中")
    expect(page.locator("#rework-count")).to_have_text("1")

    write_advice("继续持有；市净率处于历史低位，股息率约 5%。")

    # manager1 accepts the second version and confirms delivery
    switch("manager1")
    page.goto(f"{live_server.url}/onsite/consultations/{order.pk}/")
    expect(page.locator("#advices")).to_contain_text("第 2 版")
    expect(page.locator("#advices")).to_contain_text("请补充估值依据")
    page.get_by_role("button", name="通过复核").click()
    expect(page.locator("#order-state")).to_have_text("待交付")
    page.locator("#f-method").select_option("in_person")
    page.locator("#f-response").fill("客户认可，继续持有")
    page.get_by_role("button", name="客户经理确认交付").click()
    expect(page.locator("#order-state")).to_have_text("待交付")

    # consultant1 confirms: delivered
    switch("consultant1")
    page.goto(f"{live_server.url}/onsite/consultations/{order.pk}/")
    page.get_by_role("button", name="投资顾问确认交付").click()
    expect(page.locator("#order-state")).to_have_text("已交付")
    expect(page.locator("#history")).to_contain_text("退回修改")
    shot(page, "consult-03-delivered")

    # the PDF letter downloads
    response = page.request.get(f"{live_server.url}/onsite/consultations/{order.pk}/letter.pdf")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    order.refresh_from_db()
    assert (order.state, order.rework_count) == (ConsultationOrder.State.DELIVERED, 1)
    assert re.match(r"\d+", str(order.pk))
