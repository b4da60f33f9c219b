"""Browser walk of the research platform: researcher1 writes a stock recommendation and submits it,
compliance1 approves it, consultant1 pushes it to the holders of the security and sees an excluded
client with the reason, and the recommendation shows on 张三's 360 page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from branchcare.research.models import ResearchDelivery, ResearchItem, ResearchSource
from branchcare.testing.factories import HoldingFactory, SecurityFactory

from .conftest import login_as, shot

pytestmark = pytest.mark.browser


def test_research_walk(page, live_server, browser_world):
    w = browser_world
    import datetime as dt

    from django.utils import timezone

    ResearchSource.objects.create(branch=w.b1, kind="own", name="浦东营业部研究组")
    today = timezone.localdate()
    ResearchSource.objects.create(
        branch=w.b1, kind="external", name="沪上投资咨询有限公司", licence_no="ZXGW-2021-0088",
        contract_start=today - dt.timedelta(days=900), contract_end=today - dt.timedelta(days=30),
    )  # fmt: skip
    semi = SecurityFactory(code="688981", exchange="SH", name="中芯国际", industry="半导体", risk_rating="R4")
    w.client_m1.risk_level = "C4"
    w.client_m1.save(update_fields=["risk_level"])
    w.client_m2.risk_level = "C2"
    w.client_m2.save(update_fields=["risk_level"])
    HoldingFactory(client=w.client_m1, security=semi, quantity=1000, cost_price=Decimal("48.50"))
    HoldingFactory(client=w.client_m2, security=semi, quantity=300, cost_price=Decimal("52.00"))
    page.on("dialog", lambda dialog: dialog.accept())

    def switch(username: str) -> None:
        page.context.clear_cookies()
        login_as(page, live_server, username)

    # researcher1 writes a recommendation and submits it for compliance review
    login_as(page, live_server, "researcher1")
    page.goto(f"{live_server.url}/research/sources/")
    expect(page.locator("#sources")).to_contain_text("合同已于")
    shot(page, "research-00-sources")
    page.goto(f"{live_server.url}/research/")
    page.locator("#new-recommendation").click()
    expect(page.locator("#recommendation-fields")).to_be_visible()
    page.get_by_label("研究来源").select_option(label="浦东营业部研究组")
    page.get_by_label("标题").fill("中芯国际：买入，目标价 70 元")
    page.get_by_label("风险等级").select_option("R4")
    page.get_by_label("摘要").fill("产能扩张叠加国产替代，上调评级至买入。")
    page.get_by_label("正文").fill("公司 12 英寸产能持续爬坡，半导体设备国产化率提升，订单饱满。")
    page.get_by_label("推荐证券代码").fill("688981")
    page.get_by_label("方向").select_option("buy")
    page.get_by_label("目标价").fill("70")
    page.get_by_label("止损价").fill("45")
    page.get_by_label("持有期（天）").fill("60")
    page.get_by_label("推荐理由").fill("订单饱满，毛利率改善。")
    shot(page, "research-01-write")
    page.locator("#save-item").click()
    expect(page.locator("#item-state")).to_contain_text("草稿")
    expect(page.locator("#recommendation")).to_contain_text("中芯国际")
    page.locator("#do-submit").click()
    expect(page.locator("#item-state")).to_contain_text("合规审核中")
    item = ResearchItem.objects.get()
    shot(page, "research-02-submitted")

    # compliance1 approves it from the review queue
    switch("compliance1")
    page.goto(f"{live_server.url}/research/review/")
    expect(page.locator("#review-queue")).to_contain_text("中芯国际：买入")
    shot(page, "research-03-review-queue")
    page.get_by_role("link", name="中芯国际：买入，目标价 70 元").click()
    page.locator("#f-note-approve").fill("内容合规，风险提示充分。")
    page.locator("#do-approve").click()
    expect(page.locator("#item-state")).to_contain_text("已发布")
    expect(page.locator("#history")).to_contain_text("内容合规")
    shot(page, "research-04-published")

    # consultant1 pushes it to the holders of 688981; 李四 (C2) is excluded with the reason
    switch("consultant1")
    page.goto(f"{live_server.url}/research/?q=半导体")
    expect(page.locator("#items")).to_contain_text("中芯国际：买入")
    shot(page, "research-05a-search")
    page.get_by_role("link", name="中芯国际：买入，目标价 70 元").click()
    page.locator("#push-item").click()
    expect(page.get_by_label("持仓证券代码")).to_have_value("688981")
    page.get_by_label("当面交付").check()
    page.locator("#preview-push").click()
    expect(page.locator("#excluded")).to_contain_text("李四")
    expect(page.locator("#excluded")).to_contain_text("研究风险等级 R4 高于客户风险承受能力 C2")
    expect(page.locator("#included")).to_contain_text("张三")
    shot(page, "research-05b-push-preview")
    page.locator("#confirm-push").click()
    expect(page.locator("#push-counts")).to_contain_text("已完成")
    expect(page.locator("#push-excluded")).to_contain_text("李四")
    expect(page.locator("#deliveries")).to_contain_text("张三")
    shot(page, "research-06-push-done")
    assert ResearchDelivery.objects.filter(item=item, client=w.client_m1, channel="in_person").exists()

    # manager1 sees the research on 张三's 360 page and the in-person task on the workbench
    switch("manager1")
    expect(page.locator("body")).to_contain_text("待当面交付研究")
    page.goto(f"{live_server.url}/clients/{w.client_m1.pk}/")
    expect(page.locator("#client-research")).to_contain_text("中芯国际：买入")
    shot(page, "research-07-client-360")
    page.goto(f"{live_server.url}/research/tasks/")
    page.locator("#tasks input[name=note]").first.fill("已向客户当面讲解")
    page.get_by_role("button", name="已当面交付").first.click()
    expect(page.locator("#tasks")).to_contain_text("没有待当面交付的研究")
    assert ResearchDelivery.objects.get(item=item, client=w.client_m1, channel="in_person").status == "done"
