"""Browser walk of the off-site service: a call comes in for agent1 (the phone system posts to
``/api/v1/calls/incoming`` with agent1's token) and pops 张三's card live on the calls page; agent1 logs a
complaint from the call in one step; compliance1 sees it among the complaints; a new account loaded by the
client import generates its return visit, which agent1 completes."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token

from branchcare.offsite.models import Inquiry, ReturnVisit

from .conftest import login_as, shot

pytestmark = pytest.mark.browser


def _incoming_call(live_server, token: str, phone: str) -> dict:
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/calls/incoming",
        data=json.dumps({"phone": phone}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the test's own live server
        assert response.status == 201
        return json.loads(response.read())


def test_offsite_walk(page, live_server, browser_world, tmp_path):
    w = browser_world
    token = Token.objects.create(user=w["agent1"]).key

    def switch(username: str) -> None:
        page.context.clear_cookies()
        login_as(page, live_server, username)

    # agent1 waits on the calls page: nothing yet
    login_as(page, live_server, "agent1")
    page.goto(f"{live_server.url}/offsite/calls/")
    expect(page.locator("#call-pop")).to_contain_text("暂无来电")

    # the phone system reports a call from 张三's number: the card pops without a reload
    body = _incoming_call(live_server, token, "13812345678")
    assert body["card"]["known"] and body["card"]["phone"] == "138****5678"
    expect(page.locator("#client-card")).to_contain_text("张三", timeout=8000)
    expect(page.locator("#pop-phone")).to_have_text("138****5678")
    shot(page, "offsite-01-screen-pop")

    # agent1 logs a complaint from the call in one step
    page.locator("#log-kind").select_option("complaint")
    page.locator("#log-subject").fill("早盘交易系统无法下单")
    page.locator("#log-description").fill("客户称 9:35 至 9:50 委托一直失败，要求说明原因。")
    page.get_by_role("button", name="登记并结束通话").click()
    expect(page.locator("h1")).to_contain_text("早盘交易系统无法下单")
    expect(page.locator("#inquiry-state")).to_contain_text("已分派")
    complaint = Inquiry.objects.get(subject="早盘交易系统无法下单")
    assert complaint.kind == "complaint" and complaint.client == w.client_m1 and complaint.call.ended_at
    shot(page, "offsite-02-complaint-logged")

    # compliance1 sees it among the complaints
    switch("compliance1")
    page.goto(f"{live_server.url}/offsite/inquiries/?kind=complaint")
    expect(page.locator("#inquiries")).to_contain_text("早盘交易系统无法下单")
    expect(page.locator("#inquiries")).to_contain_text("张三")
    shot(page, "offsite-03-compliance-complaints")
    page.get_by_role("link", name=f"#{complaint.pk}").click()
    expect(page.locator("h1")).to_contain_text("投诉")
    assert page.locator("form[action$='/transition/']").count() == 0  # compliance reads, does not handle

    # a new account arrives through the client import and gets its return visit
    opened = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    f = tmp_path / "clients.csv"
    f.write_text(
        f"客户号,姓名,手机,证件号码,资产,客户经理,开户日期,风险等级\n880501,吴新开,13955550001,,50000,manager1,{opened},C3\n",
        encoding="utf-8",
    )
    call_command("import_clients", str(f), "--branch", w.b1.code)
    visit = ReturnVisit.objects.get(client__client_no="880501")
    assert visit.assignee == w["agent1"] and visit.rule.kind == "new_account"

    # agent1 completes it from the task list
    switch("agent1")
    page.goto(f"{live_server.url}/offsite/revisits/")
    expect(page.locator("#revisits")).to_contain_text("吴新开")
    shot(page, "offsite-04-revisit-list")
    page.get_by_role("link", name=f"#{visit.pk}").click()
    for n in range(len(visit.rule.questions)):
        page.locator(f"#q{n}").fill("是")
    page.locator("#note").fill("客户确认本人开户，了解风险。")
    shot(page, "offsite-05-revisit-form")
    page.get_by_role("button", name="已联系上，完成回访").click()
    expect(page.locator("#visit-state")).to_contain_text("已完成")
    visit.refresh_from_db()
    assert visit.state == "done" and visit.attempts == 1
    shot(page, "offsite-06-revisit-done")

    # the coverage report shows the rule met, with its chart
    page.goto(f"{live_server.url}/offsite/revisits/coverage/")
    expect(page.locator("#coverage")).to_contain_text("新开户回访")
    expect(page.locator("#coverage-chart canvas")).to_have_count(1)
    shot(page, "offsite-07-coverage")


def test_offsite_director_pages(page, live_server, browser_world):
    """The director's view: an overdue, escalated complaint on the list and the 工作台, the rules page, and a
    call campaign built from a filter with its progress chart."""
    from branchcare.offsite import services_inquiries as inq
    from branchcare.testing.factories import ClientFactory

    w = browser_world
    ClientFactory.create_batch(6, branch=w.b1, manager=w["manager1"], risk_assessed_on=None)
    past = timezone.now() - dt.timedelta(days=7)
    old = inq.inquiry_create(
        actor=w["agent1"],
        data=inq.InquiryInput(kind="complaint", subject="资金转账延迟未到账", client_id=w.client_m2.pk),
        now=past,
    )
    inq.inquiries_escalate()
    login_as(page, live_server, "director")
    expect(page.locator("body")).to_contain_text("已升级的咨询投诉")
    shot(page, "offsite-08-director-workbench")
    page.goto(f"{live_server.url}/offsite/inquiries/?escalated=1")
    expect(page.locator("#inquiries")).to_contain_text("资金转账延迟未到账")
    expect(page.locator("#inquiries")).to_contain_text("逾期")
    shot(page, "offsite-09-escalated")
    page.goto(f"{live_server.url}/offsite/inquiries/{old.pk}/")
    expect(page.locator("#inquiry-state")).to_contain_text("已升级")

    page.goto(f"{live_server.url}/offsite/revisits/rules/")
    expect(page.locator("#rules")).to_contain_text("新开户回访")
    shot(page, "offsite-10-rules")

    page.goto(f"{live_server.url}/offsite/campaigns/new/")
    page.get_by_label("活动名称").fill("风险测评过期提醒")
    page.get_by_label("风险测评超过（年）").fill("2")
    page.get_by_label(str(w["agent1"])).check()
    page.get_by_role("button", name="预览人数").click()
    expect(page.locator(".alert-info")).to_contain_text("符合条件的客户")
    page.get_by_role("button", name="创建并分配").click()
    expect(page.locator("h1")).to_contain_text("风险测评过期提醒")
    expect(page.locator("#campaign-chart canvas")).to_have_count(1)
    shot(page, "offsite-11-campaign")
