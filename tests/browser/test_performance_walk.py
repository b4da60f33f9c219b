"""Browser walk of recommendation performance: the director uploads a price file (preview, then import),
opens the league table and drills down to a recommendation's price path against 沪深300."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from branchcare.clients.models import Price, Security
from branchcare.org.calendar import trading_days_between
from branchcare.research.models import ResearchItem, ResearchSource
from branchcare.research.performance.models import RecommendationOutcome
from branchcare.research.performance.services import ensure_benchmark

from .conftest import login_as, shot

pytestmark = pytest.mark.browser
PUBLISHED = dt.date(2026, 6, 1)


def _price_file(tmp_path, days):
    lines = ["证券代码,日期,收盘价"]
    for i, day in enumerate(days):
        lines.append(f"600519,{day:%Y-%m-%d},{1500 + i * 4 + (i % 5) * 3}")
        lines.append(f"000300,{day:%Y-%m-%d},{3900 + i * 2 - (i % 7) * 5}")
    path = tmp_path / "行情_2026.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    return path


def test_performance_walk(page, live_server, browser_world, tmp_path):
    w = browser_world
    ensure_benchmark()
    moutai, _ = Security.objects.get_or_create(code="600519", exchange="SH", defaults={"name": "贵州茅台"})
    source = ResearchSource.objects.create(name="营业部研究小组", branch=w.b1)
    item = ResearchItem.objects.create(
        source=source, branch=w.b1, kind=ResearchItem.Kind.RECOMMENDATION, title="买入：贵州茅台（600519）",
        reason="高端白酒需求稳健，估值处于低位。", author=w["researcher1"], publisher=source.name,
        published_on=PUBLISHED, security=moutai, direction="buy", target_price=Decimal("1700"),
        stop_loss=Decimal("1400"), horizon_days=120, state=ResearchItem.State.PUBLISHED,
    )  # fmt: skip
    days = trading_days_between(PUBLISHED - dt.timedelta(days=5), dt.date(2026, 9, 30))

    login_as(page, live_server, "director")
    page.goto(f"{live_server.url}/research/performance/")
    expect(page.locator("#league-empty")).to_be_visible()
    page.locator("#import-prices").click()
    expect(page.locator("h1")).to_contain_text("导入行情")
    shot(page, "perf-01-import-form")

    # a file with a bad row first: previewed, errors in Chinese, nothing written
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "证券代码,日期,收盘价\n600519,2026-06-01,1500\n999999,2026-06-01,10\n600519,2026-06-02,abc\n",
        encoding="utf-8",
    )
    page.get_by_label("行情文件").set_input_files(str(bad))
    page.locator("#btn-preview").click()
    expect(page.locator("#import-errors")).to_contain_text("证券代码 999999 不存在")
    expect(page.locator("#import-errors")).to_contain_text("不是有效的数字")
    expect(page.locator("#confirm-import")).to_have_count(0)
    shot(page, "perf-02-preview-errors")
    assert not Price.objects.filter(security=moutai).exists()

    # the good file: preview, then confirm
    page.goto(f"{live_server.url}/research/performance/prices/import/")
    page.get_by_label("行情文件").set_input_files(str(_price_file(tmp_path, days)))
    page.locator("#btn-preview").click()
    expect(page.locator("#job-message")).to_contain_text("预检完成")
    expect(page.locator("#count-created")).to_have_text(str(len(days) * 2))
    shot(page, "perf-03-preview-ok")
    page.locator("#confirm-import").click()
    expect(page.locator("#job-message")).to_contain_text("导入完成")
    shot(page, "perf-04-imported")
    assert Price.objects.filter(security=moutai).count() == len(days)
    outcome = RecommendationOutcome.objects.get(item=item)
    assert outcome.status == "complete" and outcome.return_60 is not None

    # the league table
    page.locator("#to-league").click()
    expect(page.locator("#league-authors")).to_contain_text(str(w["researcher1"]))
    expect(page.locator("#league-sources")).to_contain_text("营业部研究小组")
    expect(page.locator("#chart-authors[data-ready='1']")).to_be_visible()
    expect(page.locator("#recommendation-list")).to_contain_text("贵州茅台")
    shot(page, "perf-05-league")

    # drill down to the recommendation's price path
    page.locator("#recommendation-list a", has_text="贵州茅台").first.click()
    expect(page.locator("h1")).to_contain_text("600519 贵州茅台")
    expect(page.locator("#chart-path[data-ready='1']")).to_be_visible()
    expect(page.locator("#horizon-table")).to_contain_text("60 日")
    shot(page, "perf-06-recommendation")
