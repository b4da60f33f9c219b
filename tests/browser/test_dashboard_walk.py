"""Browser walk: the director opens 现场服务看板, the ECharts bars render, a click on a bar opens the
records behind it; the table's numbers link to the same lists."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from branchcare.onsite.models import ConsultationOrder, Visit, VisitPlan, VisitPlanItem
from branchcare.testing.factories import ClientFactory

from .conftest import login_as, shot

pytestmark = pytest.mark.browser

BAR_CENTRE_JS = """([id, series, index]) => {
  const el = document.getElementById(id);
  const chart = echarts.getInstanceByDom(el);
  const layout = chart.getModel().getSeriesByIndex(series).getData().getItemLayout(index);
  return {x: layout.x + layout.width / 2, y: layout.y + layout.height / 2};
}"""


def _records(w):
    m1, m2 = w["manager1"], w["manager2"]
    today = timezone.localdate()
    now = timezone.now()
    clients = [ClientFactory(branch=w.b1, manager=m1, name=n) for n in ("陈一", "刘二", "杨三", "黄四")]
    plan = VisitPlan.objects.create(branch=w.b1, manager=m1, date=today, visits_quota=4, patrols_quota=0)
    items = [
        VisitPlanItem.objects.create(plan=plan, client=c, rank=i + 1, status="done" if i < 2 else "planned")
        for i, c in enumerate(clients)
    ]
    for item in items[:2]:
        Visit.objects.create(
            branch=w.b1, manager=m1, client=item.client, at=now, topic="例行拜访", plan_item=item
        )
    plan2 = VisitPlan.objects.create(branch=w.b1, manager=m2, date=today, visits_quota=1, patrols_quota=0)
    VisitPlanItem.objects.create(plan=plan2, client=w.client_m2, rank=1)
    ConsultationOrder.objects.create(
        branch=w.b1,
        client=clients[0],
        manager=m1,
        consultant=w["consultant1"],
        question="持仓建议",
        state=ConsultationOrder.State.IN_ANALYSIS,
        submitted_at=now - timezone.timedelta(hours=5),
        due_at=now - timezone.timedelta(hours=1),
    )


def test_director_dashboard_chart_and_drill_down(page, live_server, browser_world):
    w = browser_world
    _records(w)
    login_as(page, live_server, "director")
    page.locator(".sidebar").get_by_role("link", name="现场服务看板").click()
    page.wait_for_url(re.compile(r"/onsite/dashboard/"))
    expect(page.get_by_role("heading", name=re.compile("现场服务看板"))).to_be_visible()
    for chart_id in ("chart-visits", "chart-patrols", "chart-orders", "chart-quality"):
        expect(page.locator(f"#{chart_id} canvas")).to_have_count(1)
    table = page.locator("#dashboard-table")
    row = table.locator(f"tr[data-manager='{w['manager1'].pk}']")
    expect(row.locator("a[data-metric=visits_done]")).to_have_text("2")
    expect(row.locator("a[data-metric=visits_planned]")).to_have_text("4")
    expect(row.locator("a[data-metric=orders_overdue]")).to_contain_text("1")
    page.wait_for_timeout(600)  # let the bars' entry animation finish before the screenshot
    shot(page, "04-dashboard-director")

    # A click on manager1's 计划拜访 bar opens the four planned visits.
    box = page.locator("#chart-visits").bounding_box()
    centre = page.evaluate(BAR_CENTRE_JS, ["chart-visits", 0, 0])
    page.mouse.click(box["x"] + centre["x"], box["y"] + centre["y"])
    page.wait_for_url(re.compile(r"/onsite/dashboard/drill/\?.*metric=visits_planned"))
    expect(page.locator("#drill-count")).to_have_text("共 4 条")
    expect(page.locator("#drill-table")).to_contain_text("陈一")
    expect(page.locator("#drill-table")).to_contain_text("黄四")
    shot(page, "04-dashboard-drill-visits")

    # Back, and the table's overdue number opens the late order.
    page.get_by_role("link", name="返回看板").click()
    page.locator(
        f"#dashboard-table tr[data-manager='{w['manager1'].pk}'] a[data-metric=orders_overdue]"
    ).click()
    page.wait_for_url(re.compile(r"metric=orders_overdue"))
    expect(page.locator("#drill-count")).to_have_text("共 1 条")
    expect(page.locator("#drill-table")).to_contain_text("逾期")

    # This month: the same page with the period switched.
    page.get_by_role("link", name="返回看板").click()
    page.get_by_role("button", name="本月").click()
    page.wait_for_url(re.compile(r"period=month"))
    expect(page.locator("#chart-visits canvas")).to_have_count(1)
