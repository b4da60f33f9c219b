"""Browser walk of 监督考核: the director opens 督导看板, drills from the late consultation count to the
order, opens 考核评分, changes a weight and sees the score change for the next period only; compliance1
exports one client's complete service history (Excel and PDF)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from branchcare.onsite.models import ConsultationOrder, Visit
from branchcare.supervision.models import DailyMeasure
from branchcare.supervision.services import earliest_effective

from .conftest import login_as, shot

pytestmark = pytest.mark.browser


def _records(w):
    now = timezone.now()
    late = ConsultationOrder.objects.create(
        branch=w.b1,
        client=w.client_m1,
        manager=w["manager1"],
        consultant=w["consultant1"],
        question="贵州茅台还能持有吗？",
        state=ConsultationOrder.State.IN_ANALYSIS,
        submitted_at=now - dt.timedelta(hours=6),
        due_at=now - dt.timedelta(hours=2),
    )
    Visit.objects.create(branch=w.b1, manager=w["manager1"], client=w.client_m1, at=now, topic="季度回顾拜访")
    # Rolled-up figures of consultant1 for this month and the next (synthetic rollups: what the nightly
    # job would have written): on time 1 of 2, no rework, ratings 5.
    today = timezone.localdate()
    for day in (today, earliest_effective(today)):
        for code, num, den in (("consult_ontime", 1, 2), ("rework_rate", 0, 2), ("advice_rating", 10, 2)):
            DailyMeasure.objects.create(branch=w.b1, employee=w["consultant1"], date=day, measure=code,
                                        numerator=num, denominator=den)  # fmt: skip
    return late


def _total(page, employee_id):
    return page.locator(f"#scorecard-table tr[data-employee='{employee_id}'] .total-score").inner_text()


def test_director_drills_and_reweights_then_compliance_exports(page, live_server, browser_world):
    w = browser_world
    late = _records(w)
    c1 = w["consultant1"].pk

    # the director's dashboard: one SLA breach (the late order), drill to the list, then to the order
    login_as(page, live_server, "director")
    page.locator(".sidebar").get_by_role("link", name="督导看板").click()
    page.wait_for_url(re.compile(r"/supervision/$"))
    expect(page.locator("#breach-orders_overdue")).to_contain_text("1")
    row = page.locator(f"#people-table tr[data-employee='{c1}']")
    expect(row.locator("a[data-key=orders_overdue]")).to_contain_text("1")
    shot(page, "sup-01-dashboard")
    row.locator("a[data-key=orders_overdue]").click()
    page.wait_for_url(re.compile(r"/supervision/items/\?.*key=orders_overdue"))
    expect(page.locator("#drill-count")).to_have_text("共 1 条")
    shot(page, "sup-02-overdue-orders")
    page.locator("#drill-table").get_by_role("link", name=re.compile(f"咨询单 #{late.pk}")).click()
    page.wait_for_url(re.compile(rf"/onsite/consultations/{late.pk}/"))
    expect(page.locator("h1")).to_contain_text("张三")

    # 考核评分: consultant1's score this month with the default scorecard
    page.goto(f"{live_server.url}/supervision/scorecards/?role=consultant")
    expect(page.locator("#version-note")).to_contain_text("默认")
    expect(page.locator("#chart-trend canvas")).to_have_count(1)
    before = _total(page, c1)
    # a figure links to its records
    ontime = page.locator(f"#scorecard-table tr[data-employee='{c1}'] td[data-measure=consult_ontime]")
    expect(ontime).to_contain_text("50.00%")
    page.wait_for_timeout(500)
    shot(page, "sup-03-scorecards")

    # the director puts all the weight on the on-time rate
    page.locator("#config-link").click()
    page.wait_for_url(re.compile(r"/supervision/scorecards/config/"))
    for code in ("consult_ontime", "turnaround_median", "rework_rate", "advice_rating", "orders_late_held"):
        page.locator(f"#weight_{code}").fill("100" if code == "consult_ontime" else "0")
    page.locator("#note").fill("本季度重点考核准时率")
    shot(page, "sup-04-config")
    page.locator("#save-scorecard").click()
    expect(page.locator(".alert-success")).to_contain_text("生效")
    expect(page.locator("#versions")).to_contain_text("待生效")

    # this month unchanged; next month scored with the new version
    page.goto(f"{live_server.url}/supervision/scorecards/?role=consultant")
    assert _total(page, c1) == before
    page.locator("#next-period").click()
    expect(page.locator("#version-note")).to_contain_text(
        earliest_effective(timezone.localdate()).isoformat()
    )
    after = _total(page, c1)
    assert after != before and after == "0.00"  # 50% on time is the threshold of the default target/threshold
    page.wait_for_timeout(500)
    shot(page, "sup-05-next-period")

    # compliance1 exports 张三's complete history
    page.context.clear_cookies()
    login_as(page, live_server, "compliance1")
    page.locator(".sidebar").get_by_role("link", name="合规检查").click()
    page.wait_for_url(re.compile(r"/supervision/compliance/"))
    expect(page.locator("#checks-table")).to_contain_text("适当性检查")
    shot(page, "sup-06-compliance")
    page.locator("#client_no").fill(w.client_m1.client_no)
    page.get_by_role("button", name="查看").click()
    page.wait_for_url(re.compile(rf"/supervision/compliance/history/{w.client_m1.pk}/"))
    expect(page.locator("#history-table")).to_contain_text("季度回顾拜访")
    shot(page, "sup-07-history")
    with page.expect_download() as xlsx:
        page.locator("#export-xlsx").click()
    assert xlsx.value.suggested_filename.endswith(".xlsx")
    with page.expect_download() as pdf:
        page.locator("#export-pdf").click()
    assert pdf.value.suggested_filename.endswith(".pdf")
    from branchcare.core.models import AuditLog

    assert AuditLog.objects.filter(action="supervision.client_history_export").count() == 2
