"""Each measure's arithmetic on known records, rollups (idempotent) and drill-downs that list exactly
the records counted."""

from __future__ import annotations

import datetime as dt

import pytest

from branchcare.supervision import measures as registry
from branchcare.supervision.models import DailyMeasure, RollupRun
from branchcare.supervision.selectors import period_figures
from branchcare.supervision.services import rollup_recompute

from .fixtures import DAY, NOW, build

EXPECTED = {
    # (employee, measure): (numerator, denominator, value)
    ("manager1", "visit_completion"): (2, 3, 66.67),
    ("manager1", "visits_vs_quota"): (3, 4, 75.0),
    ("manager1", "visits_unplanned"): (1, 3, 1),
    ("manager1", "patrols_vs_quota"): (1, 2, 50.0),
    ("consultant1", "consult_ontime"): (2, 3, 66.67),
    ("consultant1", "orders_late_held"): (1, 1, 1),
    ("consultant1", "rework_rate"): (1, 2, 50.0),
    ("consultant1", "advice_rating"): (8, 2, 4.0),
    ("manager1", "order_rating"): (6, 2, 3.0),
    ("manager1", "followups_overdue"): (2, 2, 2),
    ("manager1", "visit_satisfaction"): (9, 2, 4.5),
}


@pytest.fixture
def known(world):
    return build(world)


def _rows(world, code):
    m = registry.get(code)
    return {r.employee_id: r for r in m.compute(world.b1, DAY, DAY, NOW)}


@pytest.mark.parametrize(("who", "code"), list(EXPECTED))
def test_measure_arithmetic_on_known_records(world, known, who, code):
    num, den, value = EXPECTED[(who, code)]
    row = _rows(world, code)[world[who].pk]
    assert row.date == DAY
    assert (row.numerator, row.denominator) == (num, den)
    assert registry.get(code).value(row.numerator, row.denominator, row.samples) == value


def test_median_turnaround_in_service_hours(world, known):
    row = _rows(world, "turnaround_median")[world["consultant1"].pk]
    # submitted 09:30; ready 10:30 and 11:30 (trading sessions from 09:30): 1 h and 2 h
    assert sorted(row.samples) == [1.0, 2.0]
    assert registry.get("turnaround_median").value(0, 2, row.samples) == 1.5


def test_book_coverage_by_tier_interval(world, known):
    rows = _rows(world, "book_coverage")
    m1 = rows[world["manager1"].pk]
    # book: client_m1 + 4 small clients, all active; visited within 30 days: 0, 1, 2 (23rd) and client_m1
    assert (m1.numerator, m1.denominator) == (4, 5)
    m = registry.get("book_coverage")
    assert m.aggregate == "last"
    uncovered = m.drill(branch=world.b1, employee_ids=[world["manager1"].pk], first=DAY, last=DAY,
                        part="uncovered", now=NOW)  # fmt: skip
    assert [c.name for c in uncovered] == ["客户3"]


def test_another_day_is_not_counted(world, known):
    m = registry.get("visits_vs_quota")
    rows = list(m.compute(world.b1, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=1), NOW))
    assert rows == []


def test_rollup_is_idempotent_and_replaces_the_range(world, known):
    n1 = rollup_recompute(branch=world.b1, first=DAY, last=DAY, now=NOW)
    n2 = rollup_recompute(branch=world.b1, first=DAY, last=DAY, now=NOW)
    assert n1 == n2 == DailyMeasure.objects.filter(branch=world.b1, date=DAY).count()
    assert RollupRun.objects.filter(branch=world.b1).count() == 2
    row = DailyMeasure.objects.get(employee=world["manager1"], date=DAY, measure="visits_vs_quota")
    assert (row.numerator, row.denominator, row.value) == (3, 4, 75.0)


def test_rollup_refuses_a_reversed_range_and_writes_nothing(world, known):
    from branchcare.core.errors import DomainError

    with pytest.raises(DomainError):
        rollup_recompute(branch=world.b1, first=DAY, last=DAY - dt.timedelta(days=1), now=NOW)
    assert not DailyMeasure.objects.exists()


@pytest.mark.parametrize("code", list(registry.all_measures()))
def test_drill_down_lists_exactly_the_records_counted(world, known, code):
    rollup_recompute(branch=world.b1, first=DAY, last=DAY, now=NOW)
    m = registry.get(code)
    ids = [world["manager1"].pk, world["consultant1"].pk, world["manager2"].pk]
    figs = period_figures(branch=world.b1, employee_ids=ids, first=DAY, last=DAY, codes=[code])
    for part in m.drill_parts:
        qs = m.drill(branch=world.b1, employee_ids=ids, first=DAY, last=DAY, part=part, now=NOW)
        total = sum(
            (f[code].numerator if part == "num" else f[code].denominator) for f in figs.values() if code in f
        )
        assert qs.count() == total, (code, part)
        # each record can be shown
        for obj in qs:
            assert m.describe(obj).title


def test_every_measure_is_well_formed():
    for code, m in registry.all_measures().items():
        assert m.code == code
        assert m.direction in (registry.HIGHER, registry.LOWER)
        assert m.kind in ("rate", "count", "mean", "median")
        assert m.roles and m.drill_parts
