"""Browser walk of the premium service: the director enrols 张三 with broker1; broker1 takes a premium
request, asks researcher1 a question, researcher1 answers, broker1 relays the answer and resolves within
the 24×7 SLA; broker1's morning briefing shows a research item on 张三's holding and marks it explained;
the director's dashboard draws its charts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from branchcare.clients.models import Client
from branchcare.premium import services as svc
from branchcare.premium.models import Enrolment, PremiumRequest
from branchcare.research.models import ResearchItem, ResearchSource
from branchcare.testing.factories import HoldingFactory, SecurityFactory

from .conftest import login_as, shot

pytestmark = pytest.mark.browser


def test_premium_walk(page, live_server, browser_world):
    w = browser_world
    start = dt.date(2026, 1, 1)
    for tier, rate in (("silver", "0.40"), ("gold", "0.60"), ("diamond", "0.80")):
        svc.rate_add(
            actor=w["director"],
            branch=w.b1,
            tier=tier,
            commission_rate=Decimal(rate),
            effective_from=start,
            today=start,
        )
    Client.objects.filter(pk=w.client_m1.pk).update(commission_rate=Decimal("0.25"))
    security = SecurityFactory(code="600036", name="招商银行", risk_rating="R2")
    HoldingFactory(client=w.client_m1, security=security, quantity=1000, cost_price=Decimal("35.20"))
    source = ResearchSource.objects.create(branch=w.b1, kind="own", name="本营业部研究团队")
    now = timezone.now()
    ResearchItem.objects.create(
        source=source, branch=w.b1, kind="recommendation", title="招商银行：估值低位，维持买入",
        summary="股息率约 5%，资产质量稳定。", security=security, direction="buy", state="published",
        published_on=timezone.localdate(now), published_at=now, risk_rating="R2", publisher="本营业部",
    )  # fmt: skip
    page.on("dialog", lambda dialog: dialog.accept())

    def switch(username: str) -> None:
        page.context.clear_cookies()
        login_as(page, live_server, username)

    # the director enrols 张三 (client_m1) at the gold tier with broker1
    login_as(page, live_server, "director")
    page.goto(f"{live_server.url}/premium/enrolments/")
    expect(page.locator("#rate-table")).to_contain_text("0.6000‰")
    shot(page, "premium-00-enrolments")
    page.locator("#enrol-link").click()
    page.get_by_label("客户号").fill(w.client_m1.client_no)
    page.get_by_label("服务等级").select_option("gold")
    page.get_by_label("专属经纪人").select_option(str(w["broker1"].pk))
    page.get_by_label("协议编号").fill("GJ-2026-118")
    shot(page, "premium-01-enrol-form")
    page.locator("#enrol-submit").click()
    expect(page.locator("#enrolment-state")).to_have_text("生效中")
    expect(page.locator("#enrolment-info")).to_contain_text("0.6000‰")
    expect(page.locator("#enrolment-info")).to_contain_text("0.2500‰")
    assert Client.objects.get(pk=w.client_m1.pk).is_premium
    page.goto(f"{live_server.url}/clients/{w.client_m1.pk}/")
    expect(page.locator("#premium-panel")).to_contain_text("金卡")
    shot(page, "premium-02-client-panel")

    # broker1 records 张三's phone call and takes it (the first response)
    switch("broker1")
    page.goto(f"{live_server.url}/premium/")
    page.locator("#new-request").click()
    page.get_by_label("高端客户").select_option(str(Enrolment.objects.get(client=w.client_m1).pk))
    page.get_by_label("渠道").select_option("phone")
    page.get_by_label("主题").fill("招商银行是否继续持有")
    page.get_by_label("客户诉求").fill("客户来电：银行板块回调，招商银行是否继续持有？")
    page.locator("#request-submit").click()
    expect(page.locator("#request-state")).to_have_text("待受理")
    req = PremiumRequest.objects.get()
    page.locator("#f-start-note").fill("张总您好，已收到，我先请研究员看一下。")
    page.locator("#do-start").click()
    expect(page.locator("#request-state")).to_have_text("处理中")

    # broker1 asks researcher1
    page.locator("#f-question").fill("招商银行当前估值与分红预期如何？是否建议继续持有？")
    page.locator("#f-researcher").select_option(str(w["researcher1"].pk))
    page.get_by_role("button", name="提交问题").click()
    expect(page.locator("#request-state")).to_have_text("待研究员答复")
    shot(page, "premium-03-awaiting-research")

    # researcher1 answers from the question queue
    switch("researcher1")
    page.goto(f"{live_server.url}/premium/questions/")
    expect(page.locator("#questions")).to_contain_text("招商银行当前估值")
    page.locator("textarea[name=answer]").fill("市净率处于历史低位，股息率约 5%，建议继续持有。")
    shot(page, "premium-04-researcher-queue")
    page.get_by_role("button", name="提交答复").click()
    expect(page.locator("#questions")).to_contain_text("没有待答复的问题")

    # broker1 relays the answer and resolves inside the SLA
    switch("broker1")
    page.goto(f"{live_server.url}/premium/requests/{req.pk}/")
    expect(page.locator("#request-state")).to_have_text("研究员已答复")
    page.get_by_role("button", name="转达客户").click()
    expect(page.locator("#questions")).to_contain_text("已转达客户")
    page.locator("#f-resolution").fill("已向客户转达研究员观点，客户决定继续持有。")
    page.locator("#do-resolve").click()
    expect(page.locator("#request-state")).to_have_text("已办结")
    expect(page.locator("#sla-resolution")).to_contain_text("达标")
    expect(page.locator("#thread")).to_contain_text("研究员答复")
    expect(page.locator("#thread")).to_contain_text("转达研究答复")
    page.locator("#f-satisfaction").select_option("5")
    page.locator("#do-close").click()
    expect(page.locator("#request-state")).to_have_text("已关闭")
    shot(page, "premium-05-request-closed")
    page.goto(f"{live_server.url}/premium/?state=&f=1")
    expect(page.locator("#requests")).to_contain_text("招商银行是否继续持有")
    shot(page, "premium-05b-desk")

    # broker1's briefing shows the research on 张三's holding; mark it explained
    page.goto(f"{live_server.url}/premium/briefing/")
    page.locator("#generate").click()
    expect(page.locator("#briefing")).to_contain_text("招商银行：估值低位，维持买入")
    expect(page.locator("#briefing")).to_contain_text("张三")
    page.get_by_role("button", name="已讲解").click()
    expect(page.locator(".explained")).to_have_count(1)
    expect(page.locator("#progress")).to_contain_text("已讲解 1 / 1 条")
    shot(page, "premium-06-briefing")

    # the director's dashboard
    switch("director")
    page.goto(f"{live_server.url}/premium/dashboard/")
    expect(page.locator("#chart-volume[data-ready='1']")).to_have_count(1)
    expect(page.locator("#dashboard-table")).to_contain_text(str(w["broker1"]))
    shot(page, "premium-07-dashboard")
