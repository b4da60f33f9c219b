"""Browser walk of the consultation pipeline: manager1 records a visit to 张三 and raises an order in the
same step, consultant1 writes advice, manager1 sends it back once, consultant1 resubmits citing a
published research item, manager1 accepts, both confirm delivery and the advice letter downloads as a
PDF with its Chinese font embedded and its text extractable."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from branchcare.onsite.models import ConsultationOrder, Visit
from branchcare.onsite.tests.pdftext import pdf_unicode_chars as _pdf_unicode_chars
from branchcare.research import services as research
from branchcare.research.models import ResearchItem, ResearchSource
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
    # a published research item to cite (the walk's database has no research demo data): written by
    # researcher1 and approved by compliance1 through the research services, so it is indexed for search
    head = ResearchSource.objects.create(branch=None, kind="head_office", name="总部研究所")
    report = research.item_create(
        actor=w["researcher1"],
        data={"source": head, "kind": "report", "title": "银行板块2027年投资策略", "body": "息差企稳，估值修复。",
              "risk_rating": "R2", "publisher": "总部研究所"},
        securities=[],
    )  # fmt: skip
    research.item_submit(actor=w["researcher1"], item=report)
    report = research.item_review(actor=w["compliance1"], item=report, decision="approve", comment="同意")
    ResearchItem.objects.filter(pk=report.pk).update(published_on=dt.date(2026, 11, 20))

    def switch(username: str) -> None:
        page.context.clear_cookies()
        login_as(page, live_server, username)

    # manager1 records a visit to 张三 and raises the order in the same step, then submits it
    login_as(page, live_server, "manager1")
    page.goto(f"{live_server.url}/onsite/visits/new/?client={w.client_m1.pk}")
    page.get_by_label("拜访主题").fill("持仓回顾")
    page.get_by_label("同时发起咨询单").check()
    page.get_by_label("客户的问题").fill("招商银行是否继续持有？")
    shot(page, "consult-00-visit-raises-order")
    page.get_by_role("button", name="保存拜访记录").click()
    expect(page.locator("#order-state")).to_have_text("草稿")
    order = ConsultationOrder.objects.get()
    assert order.visit == Visit.objects.get() and order.question == "招商银行是否继续持有？"
    expect(page.locator("#order-holdings")).to_contain_text("招商银行")
    page.get_by_role("button", name="提交投顾").click()
    expect(page.locator("#order-state")).to_have_text("待分析")
    shot(page, "consult-01-submitted")

    def write_advice(overall: str, *, cite: bool = False) -> None:
        switch("consultant1")
        page.goto(f"{live_server.url}/onsite/consultations/{order.pk}/")
        page.locator("#write-advice").click()
        page.locator(f"select[name=action_{security.pk}]").select_option("hold")
        page.locator(f"input[name=rationale_{security.pk}]").fill("估值合理，股息稳定")
        page.locator("#f-overall").fill(overall)
        expect(page.locator("#f-risk")).not_to_be_empty()
        if cite:  # search the published research and cite one item (HTMX)
            page.locator("#cite-q").fill("银行 策略")
            expect(page.locator("#cite-results")).to_contain_text(report.title)
            expect(page.locator("#cite-results")).not_to_contain_text("没有找到")
            page.locator("#cite-results").get_by_role("button", name="引用").first.click()
            expect(page.locator("#cite-selected")).to_contain_text("总部研究所 · 2026-11-20")
        shot(page, "consult-02-advice-form" + ("-cite" if cite else ""))
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

    write_advice("继续持有；市净率处于历史低位，股息率约 5%。", cite=True)

    # manager1 accepts the second version and confirms delivery
    switch("manager1")
    page.goto(f"{live_server.url}/onsite/consultations/{order.pk}/")
    expect(page.locator("#advices")).to_contain_text("第 2 版")
    expect(page.locator("#advices")).to_contain_text("请补充估值依据")
    expect(page.locator("#advices .advice-citations").first).to_contain_text("《银行板块2027年投资策略》")
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
    pdf = response.body()
    assert pdf.startswith(b"%PDF")
    assert b"/FontFile2" in pdf  # the TrueType CJK font is embedded
    assert set("投资建议书风险提示引用研究资料银行板块") <= _pdf_unicode_chars(pdf)  # text extractable
    order.refresh_from_db()
    assert (order.state, order.rework_count) == (ConsultationOrder.State.DELIVERED, 1)
    assert re.match(r"\d+", str(order.pk))
