"""Scorecards: item and total scores from the rollups, versions (a change applies from the next period
only), validation refusals leave nothing changed, team and branch lines, the trend, exports."""

from __future__ import annotations

import datetime as dt

import pytest

from branchcare.core.errors import DomainError
from branchcare.core.models import AuditLog
from branchcare.supervision.models import DailyMeasure, Scorecard, ScorecardItem
from branchcare.supervision.periods import period_for
from branchcare.supervision.selectors import (
    CardItem,
    score_trend,
    scorecard_table,
    version_in_force,
)
from branchcare.supervision.services import rollup_recompute, scorecard_save

from .fixtures import DAY, NOW, build

TODAY = dt.date(2026, 11, 25)


def consultant_items(ontime_weight=60, rework_weight=40):
    return [
        {"measure": "consult_ontime", "weight": ontime_weight, "target": 100, "threshold": 50},
        {"measure": "rework_rate", "weight": rework_weight, "target": 0, "threshold": 100},
    ]


@pytest.mark.parametrize(
    ("value", "target", "threshold", "score"),
    [(75, 100, 50, 50.0), (100, 100, 50, 100.0), (120, 100, 50, 100.0), (40, 100, 50, 0.0),
     (1.5, 2, 8, 100.0), (5, 2, 8, 50.0), (None, 100, 0, None)],
)  # fmt: skip
def test_item_score_is_linear_between_threshold_and_target(value, target, threshold, score):
    from branchcare.supervision import measures as registry

    item = CardItem(registry.get("consult_ontime"), 10, target, threshold)
    assert item.score(value) == score


def test_scorecard_scores_from_rollups(world):
    build(world)
    rollup_recompute(branch=world.b1, first=DAY, last=DAY, now=NOW)
    scorecard_save(actor=world["director"], branch=world.b1, role="consultant", items=consultant_items(),
                   today=dt.date(2026, 10, 15))  # fmt: skip
    table = scorecard_table(branch=world.b1, role="consultant", period=period_for("month", DAY))
    assert table.version.effective_from == dt.date(2026, 11, 1)
    person = next(line for line in table.lines if line.employee == world["consultant1"])
    # on time 2/3 = 66.67% → (66.67-50)/50 = 33.34; rework 1/2 = 50% → (50-100)/(0-100) = 50
    assert person.item_scores == {"consult_ontime": 33.34, "rework_rate": 50.0}
    assert person.total == round((33.34 * 60 + 50 * 40) / 100, 2)
    branch_line = table.lines[-1]
    assert branch_line.level == "branch" and branch_line.total == person.total


def test_weight_change_applies_from_the_next_period_only(world):
    build(world)
    rollup_recompute(branch=world.b1, first=DAY, last=DAY, now=NOW)
    # the November version was saved in October
    scorecard_save(actor=world["director"], branch=world.b1, role="consultant", items=consultant_items(),
                   today=dt.date(2026, 10, 15))  # fmt: skip
    november = period_for("month", DAY)
    before = scorecard_table(branch=world.b1, role="consultant", period=november).lines[0].total
    # in November the director moves all the weight to on-time
    card = scorecard_save(actor=world["director"], branch=world.b1, role="consultant",
                          items=consultant_items(100, 0), today=TODAY)  # fmt: skip
    assert card.effective_from == dt.date(2026, 12, 1)
    after = scorecard_table(branch=world.b1, role="consultant", period=november).lines[0].total
    assert after == before  # November unchanged
    assert version_in_force(world.b1, "consultant", dt.date(2026, 12, 1)).weights() == {"consult_ontime": 100}
    # the same figures scored with December's version
    DailyMeasure.objects.filter(date=DAY).update(date=dt.date(2026, 12, 2))
    december = scorecard_table(
        branch=world.b1, role="consultant", period=period_for("month", dt.date(2026, 12, 2))
    )
    assert december.lines[0].total == 33.34
    assert AuditLog.objects.filter(action="supervision.scorecard_save").count() == 2


def test_a_scheduled_version_is_replaced_not_duplicated(world):
    scorecard_save(
        actor=world["director"], branch=world.b1, role="consultant", items=consultant_items(), today=TODAY
    )
    scorecard_save(actor=world["director"], branch=world.b1, role="consultant", items=consultant_items(70, 30),
                   today=TODAY)  # fmt: skip
    assert Scorecard.objects.count() == 1
    assert dict(ScorecardItem.objects.values_list("measure", "weight")) == {
        "consult_ontime": 70,
        "rework_rate": 30,
    }


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"effective_from": dt.date(2026, 11, 1)}, "effective_from"),  # the current period
        ({"effective_from": dt.date(2026, 12, 5)}, "effective_from"),  # not a month start
        ({"items": consultant_items(60, 30)}, "weight"),  # sum 90
        ({"items": [{"measure": "visit_completion", "weight": 100, "target": 100, "threshold": 0}]}, "measure"),
        ({"items": [{"measure": "consult_ontime", "weight": 100, "target": 50, "threshold": 90}]},
         "target_consult_ontime"),  # higher is better: target must be above the threshold
        ({"items": [{"measure": "consult_ontime", "weight": 100, "target": "abc", "threshold": 90}]},
         "target_consult_ontime"),
        ({"items": [{"measure": "consult_ontime", "weight": 100, "target": 90, "threshold": 90}]},
         "target_consult_ontime"),
    ],
)  # fmt: skip
def test_invalid_scorecards_are_refused_and_nothing_changes(world, kwargs, field):
    args = {"actor": world["director"], "branch": world.b1, "role": "consultant", "items": consultant_items(),
            "today": TODAY, **kwargs}  # fmt: skip
    with pytest.raises(DomainError) as exc:
        scorecard_save(**args)
    assert exc.value.field == field
    assert not Scorecard.objects.exists() and not ScorecardItem.objects.exists()
    assert not AuditLog.objects.filter(action="supervision.scorecard_save").exists()


def test_another_branch_director_cannot_configure(world):
    with pytest.raises(DomainError):
        scorecard_save(actor=world["b2director"], branch=world.b1, role="consultant", items=consultant_items(),
                       today=TODAY)  # fmt: skip
    assert not Scorecard.objects.exists()


def test_team_subtotals_pool_the_members(world):
    build(world)
    rollup_recompute(branch=world.b1, first=DAY, last=DAY, now=NOW)
    table = scorecard_table(branch=world.b1, role="manager", period=period_for("week", DAY))
    levels = [(line.level, line.label) for line in table.lines]
    assert levels == [("person", str(world["manager1"])), ("team", "财富一组"), ("person", str(world["manager2"])),
                      ("team", "财富二组"), ("branch", world.b1.name)]  # fmt: skip
    team = table.lines[1]
    assert team.figures["visits_vs_quota"].numerator == 3 and team.figures["visits_vs_quota"].denominator == 4


def test_trend_has_one_series_per_member(world):
    build(world)
    rollup_recompute(branch=world.b1, first=DAY, last=DAY, now=NOW)
    trend = score_trend(branch=world.b1, role="consultant", kind="month", day=DAY, n=3)
    assert trend["periods"] == ["2026-09", "2026-10", "2026-11"]
    assert trend["series"][0]["data"][:2] == [None, None]
    assert trend["series"][0]["data"][2] is not None


def test_scorecard_query_count_is_constant_in_members(world, django_assert_max_num_queries):
    from branchcare.testing.factories import UserFactory

    for i in range(15):
        UserFactory(username=f"qc{i}", branch=world.b1, roles=["consultant"])
    with django_assert_max_num_queries(8):
        table = scorecard_table(branch=world.b1, role="consultant", period=period_for("month", DAY))
    assert len(table.members) == 16


@pytest.mark.parametrize("role", ["manager", "consultant", "agent", "broker", "researcher"])
def test_built_in_scorecards_are_valid(world, role):
    from branchcare.supervision.services import DEFAULT_SCORECARDS

    items = [
        {"measure": c, "weight": w, "target": t, "threshold": th} for c, w, t, th in DEFAULT_SCORECARDS[role]
    ]
    card = scorecard_save(actor=world["director"], branch=world.b1, role=role, items=items, today=TODAY)
    assert sum(i.weight for i in card.items.all()) == 100
