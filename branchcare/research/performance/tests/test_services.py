"""Computing outcomes in the database: incremental refresh, what it touches, and the league aggregation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from branchcare.clients.models import Price
from branchcare.core.models import AuditLog
from branchcare.research.models import ResearchItem
from branchcare.research.performance import selectors as sel
from branchcare.research.performance.models import RecommendationOutcome
from branchcare.research.performance.services import (
    benchmark_security,
    ensure_benchmark,
    outcomes_refresh,
)

from .helpers import PUBLISHED, days_from, linear, market, prices, recommendation, security, source

pytestmark = pytest.mark.django_db


def test_benchmark_exists_after_migrations_and_ensure_is_idempotent():
    bench = benchmark_security()
    assert bench is not None and bench.kind == "index" and bench.code == "000300" and bench.exchange == "SH"
    assert ensure_benchmark().pk == bench.pk


def test_refresh_computes_returns_against_the_benchmark(world):
    sec = security()
    days = market(sec, start=100, step=1, bench_step=4)  # bench +0.1 %/day
    item = recommendation(
        src=source(branch=world.b1), sec=sec, author=world["researcher1"], target="110", stop="95"
    )
    result = outcomes_refresh()
    assert result.computed == 1
    o = RecommendationOutcome.objects.get(item=item)
    entry_index = days.index(PUBLISHED)
    assert o.entry_date == PUBLISHED and o.entry_price == Decimal(100 + entry_index)
    expected5 = Decimal(100 + entry_index + 5) / o.entry_price - 1
    assert o.return_5 == expected5.quantize(Decimal("0.000001"))
    assert o.benchmark_return_5 is not None and o.benchmark_return_5 > 0
    assert o.excess_return_5 == o.return_5 - o.benchmark_return_5
    assert o.result == "target" and o.target_hit_on == days[10]  # first close >= 110
    assert o.status == "complete" and o.author_id == world["researcher1"].pk and o.branch_id == world.b1.pk
    assert AuditLog.objects.filter(action="performance.refresh").count() == 1


def test_drafts_and_reports_are_not_measured(world):
    sec = security()
    market(sec)
    src = source()
    recommendation(src=src, sec=sec, state=ResearchItem.State.DRAFT)
    recommendation(src=src, sec=sec, state=ResearchItem.State.REVIEW)
    assert outcomes_refresh().measured == 0
    assert not RecommendationOutcome.objects.exists()


def test_missing_prices_keep_the_outcome_pending_until_they_arrive(world):
    sec = security()
    item = recommendation(src=source(), sec=sec)
    outcomes_refresh()
    assert RecommendationOutcome.objects.get(item=item).status == "pending"
    # nothing new: a second run touches nothing
    assert outcomes_refresh().computed == 0
    market(sec, count=10)
    assert outcomes_refresh().computed == 1
    o = RecommendationOutcome.objects.get(item=item)
    assert o.status == "partial" and o.return_5 is not None and o.return_20 is None


def test_incremental_refresh_only_touches_affected_items(world):
    a, b = security("600519", "贵州茅台"), security("600036", "招商银行")
    days = days_from(PUBLISHED - dt.timedelta(days=3), 40)
    prices(a, linear(days, 100, 1))
    prices(b, linear(days[:10], 30, 0.1))
    prices(ensure_benchmark(), linear(days, 4000, 1))
    src = source()
    item_a = recommendation(src=src, sec=a, title="A")  # partial: 20 days, no 60 yet
    item_b = recommendation(src=src, sec=b, title="B")  # partial: 5 days only (b's closes stop)
    assert outcomes_refresh().computed == 2
    stamp_a = RecommendationOutcome.objects.get(item=item_a).computed_at
    # new closes for b only; the benchmark already reaches further
    more = days_from(days[10], 20)
    prices(b, linear(more, 31, 0.1))
    result = outcomes_refresh()
    assert result.computed == 1 and result.measured == 2
    assert RecommendationOutcome.objects.get(item=item_a).computed_at == stamp_a
    ob = RecommendationOutcome.objects.get(item=item_b)
    assert ob.return_20 is not None


def test_complete_outcomes_are_left_alone_unless_their_prices_are_corrected(world):
    sec, other = security(), security("600036", "招商银行")
    days = market(sec, count=90)
    prices(other, linear(days, 30, 0.1))
    src = source()
    item = recommendation(src=src, sec=sec, target="500", title="A")
    item2 = recommendation(src=src, sec=other, title="B")
    outcomes_refresh()
    o = RecommendationOutcome.objects.get(item=item)
    assert o.status == "complete" and o.result == "expired"
    stamp = o.computed_at
    assert outcomes_refresh().computed == 0
    # a corrected close inside the window of `sec` recomputes only its outcome
    day = days[days.index(PUBLISHED) + 5]
    Price.objects.filter(security=sec, date=day).update(close=Decimal("200"))
    result = outcomes_refresh(changed={sec.pk: day})
    assert result.computed == 1
    o.refresh_from_db()
    assert o.computed_at > stamp and o.return_5 > Decimal("0.9")
    assert RecommendationOutcome.objects.get(item=item2).computed_at == stamp


def test_changed_recommendation_inputs_are_recomputed(world):
    sec = security()
    market(sec)
    item = recommendation(src=source(), sec=sec)
    outcomes_refresh()
    ResearchItem.objects.filter(pk=item.pk).update(direction="sell")
    assert outcomes_refresh().computed == 1
    o = RecommendationOutcome.objects.get(item=item)
    assert o.direction == "sell" and o.excess_return_5 < 0


def test_full_refresh_recomputes_all_and_drops_items_no_longer_measured(world):
    sec = security()
    market(sec)
    src = source()
    keep = recommendation(src=src, sec=sec, title="A")
    drop = recommendation(src=src, sec=sec, title="B")
    outcomes_refresh()
    ResearchItem.objects.filter(pk=drop.pk).update(state=ResearchItem.State.DRAFT)
    result = outcomes_refresh(full=True)
    assert result.computed == 1 and result.removed == 1
    assert list(RecommendationOutcome.objects.values_list("item_id", flat=True)) == [keep.pk]


def test_league_aggregates_per_analyst_and_per_source(world):
    up, down = security("600519", "贵州茅台"), security("600036", "招商银行")
    days = days_from(PUBLISHED - dt.timedelta(days=3), 90)
    prices(up, linear(days, 100, 1))
    prices(down, linear(days, 100, -0.5))
    prices(ensure_benchmark(), linear(days, 4000, 0))
    own, ho = source("营业部研究小组", branch=world.b1), source("总部研究所")
    r1, c1 = world["researcher1"], world["consultant1"]
    recommendation(src=own, sec=up, author=r1, target="105", stop="90", title="1")  # target hit
    recommendation(src=own, sec=down, author=r1, target="120", stop="98", title="2")  # stop hit
    recommendation(
        src=ho, sec=down, author=c1, direction="sell", target="90", stop="120", title="3"
    )  # target
    outcomes_refresh()
    authors = {row.key: row for row in sel.league(viewer=world["director"], by="author")}
    a = authors[r1.pk]
    assert (a.count, a.evaluated, a.decided, a.hits, a.stops) == (2, 2, 2, 1, 1)
    assert a.hit_rate == Decimal(50)
    o_up = RecommendationOutcome.objects.get(security=up)
    o_down = RecommendationOutcome.objects.filter(security=down, direction="buy").get()
    expected = (o_up.excess_return_20 + o_down.excess_return_20) / 2
    assert abs(a.avg_excess_20 - expected) < Decimal("0.000001")
    c = authors[c1.pk]
    assert c.hits == 1 and c.hit_rate == Decimal(100) and c.avg_excess_5 > 0  # sell of a falling stock
    sources = {row.name: row for row in sel.league(viewer=world["director"], by="source")}
    assert sources["营业部研究小组"].count == 2 and sources["总部研究所"].count == 1
    totals = sel.league_totals(viewer=world["director"])
    assert totals.count == 3 and totals.hits == 2
    # sorted best first by 20-day excess
    ranked = sel.league(viewer=world["director"], by="author", sort="excess_20")
    assert ranked[0].key == c1.pk
    assert sel.league(viewer=world["director"], by="author", sort="-excess_20")[0].key == r1.pk


def test_league_is_scoped_to_the_viewers_branch_and_company_wide_research(world):
    sec = security()
    market(sec)
    recommendation(src=source("杭州研究小组", branch=world.b2), sec=sec, title="B2")
    recommendation(src=source("总部研究所"), sec=sec, title="HO")
    recommendation(src=source("上海研究小组", branch=world.b1), sec=sec, title="B1")
    outcomes_refresh()
    names = lambda user: {r.name for r in sel.league(viewer=user, by="source")}  # noqa: E731
    assert names(world["director"]) == {"总部研究所", "上海研究小组"}
    assert names(world["b2director"]) == {"总部研究所", "杭州研究小组"}
    assert names(world["agent1"]) == set()
    assert names(world["admin"]) == set()


def test_tasks_run_the_incremental_refresh(world):
    from branchcare.research.performance import tasks

    sec = security()
    days = market(sec, count=12)
    item = recommendation(src=source(), sec=sec)
    assert tasks.nightly_outcomes_refresh.call_local() == 1
    assert tasks.nightly_outcomes_refresh.call_local() == 0  # nothing new
    prices(sec, linear(days_from(days[-1] + dt.timedelta(days=1), 5), 200, 1))
    prices(ensure_benchmark(), linear(days_from(days[-1] + dt.timedelta(days=1), 5), 4000, 0))
    changed = {str(sec.pk): days[-1].isoformat()}
    assert tasks.refresh_outcomes_task.call_local(changed, world["director"].pk) == 1
    assert tasks.refresh_items_task.call_local([item.pk]) == 0
    assert RecommendationOutcome.objects.get(item=item).return_5 is not None


def test_publication_event_creates_the_pending_outcome(world, django_capture_on_commit_callbacks):
    from branchcare.core import events

    sec = security()
    item = recommendation(src=source(), sec=sec)
    with django_capture_on_commit_callbacks(execute=True):
        events.publish("research.published", item_id=item.pk, actor=None)
    assert RecommendationOutcome.objects.get(item=item).status == "pending"
