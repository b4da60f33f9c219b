"""Browser walk of prospect development: broker1 registers a prospect referred by a partner (referral code),
logs a follow-up, links the account the prospect opened (stage "已开户"), and the partner's figures on the
reports page and the partners page change."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from branchcare.clients.models import Client
from branchcare.prospects.models import Partner, Prospect
from branchcare.testing.factories import ClientFactory

from .conftest import login_as, shot

pytestmark = pytest.mark.browser


def test_prospect_walk(page, live_server, browser_world):
    w = browser_world
    today = timezone.localdate()
    partner = Partner.objects.create(
        branch=w.b1, name="大智慧软件", kind=Partner.Kind.SOFTWARE, referral_code="DZH2026",
        offered_rate=Decimal("0.1500"), agreement_start=today - dt.timedelta(days=30),
        agreement_end=today + dt.timedelta(days=335), contact_name="陈经理",
    )  # fmt: skip
    Partner.objects.create(branch=w.b1, name="中关村电脑城", kind=Partner.Kind.COMPUTER_SHOP, referral_code="PC01",
                           offered_rate=Decimal("0.2000"))  # fmt: skip
    Prospect.objects.create(branch=w.b1, name="老客户", phone="13900008888", source="partner", partner=partner,
                            owner=w["broker1"], last_touched_at=timezone.now(), stage="contacted", reached=1)  # fmt: skip
    page.on("dialog", lambda dialog: dialog.accept())

    login_as(page, live_server, "broker1")
    page.goto(f"{live_server.url}/prospects/reports/?period=all")
    row = page.locator(f"#partner-league tr[data-partner='{partner.pk}']")
    expect(row.locator("[data-metric=referrals]")).to_have_text("1")
    expect(row.locator("[data-metric=opened]")).to_have_text("0")
    expect(page.locator("#chart-funnel")).to_have_attribute("data-ready", "1")
    shot(page, "prospects-01-reports-before")

    # broker1 registers a prospect with the partner's referral code
    page.goto(f"{live_server.url}/prospects/")
    page.locator("#new-prospect").click()
    page.locator("#id_name").fill("刘备")
    page.locator("#id_phone").fill("139-0000-1234")
    page.locator("#id_source").select_option("partner")
    page.locator("#id_referral_code").fill("dzh2026")
    page.locator("#id_segment").select_option("advice")
    shot(page, "prospects-02-new")
    page.locator("#save-prospect").click()
    expect(page.locator("#prospect-stage")).to_contain_text("线索")
    expect(page.locator("#prospect-info")).to_contain_text("大智慧软件")
    expect(page.locator("#prospect-info")).to_contain_text("0.1500‰")
    prospect = Prospect.objects.get(phone="13900001234")

    # a duplicate is refused with the existing record named, masked
    page.goto(f"{live_server.url}/prospects/new/")
    page.locator("#id_name").fill("刘备二")
    page.locator("#id_phone").fill("13900001234")
    page.locator("#id_source").select_option("walk_in")
    page.locator("#save-prospect").click()
    expect(page.locator("[data-field-error=phone]")).to_contain_text("139****1234")
    shot(page, "prospects-03-duplicate")

    # follow-up: the lead becomes 已联系
    page.goto(f"{live_server.url}/prospects/{prospect.pk}/")
    page.locator("#id_notes").fill("电话介绍低佣金方案和投顾服务，约周五来营业部")
    page.locator("#id_next_due").fill((today + dt.timedelta(days=3)).isoformat())
    page.locator("#save-followup").click()
    expect(page.locator("#prospect-stage")).to_contain_text("已联系")
    expect(page.locator("#follow-ups")).to_contain_text("低佣金方案")

    # the account is opened at the counter (client 880555); broker1 links it
    client = ClientFactory(branch=w.b1, client_no="880555", name="刘备", phone="13700005555", total_assets=0,
                           id_number="")  # fmt: skip
    page.locator("#f-client-no").fill("880555")
    page.locator("#link-client").click()
    expect(page.locator("#prospect-stage")).to_contain_text("已开户")
    expect(page.locator("#prospect-client")).to_contain_text("880555")
    expect(page.locator("#prospect-info")).to_contain_text("已推荐高端服务")
    expect(page.locator("#history")).to_contain_text("已开户")
    shot(page, "prospects-04-opened")
    assert Client.objects.get(pk=client.pk).commission_rate == Decimal("0.1500")

    # the partner's figures changed
    page.goto(f"{live_server.url}/prospects/reports/?period=all")
    row = page.locator(f"#partner-league tr[data-partner='{partner.pk}']")
    expect(row.locator("[data-metric=referrals]")).to_have_text("2")
    expect(row.locator("[data-metric=opened]")).to_have_text("1")
    expect(page.locator("[data-kpi=converted]")).to_have_text("1")
    expect(page.locator("#chart-partners")).to_have_attribute("data-ready", "1")
    shot(page, "prospects-05-reports-after")
    page.goto(f"{live_server.url}/prospects/partners/")
    expect(page.locator(f"#partners tr[data-partner='{partner.pk}'] [data-metric=opened]")).to_have_text("1")
    shot(page, "prospects-06-partners")
    page.goto(f"{live_server.url}/prospects/")
    expect(page.locator("#prospects")).to_contain_text("刘备")
    shot(page, "prospects-07-list")
