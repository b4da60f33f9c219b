"""Demo data for 监督考核: the daily rollups of the last two months for every branch (so the scorecards,
trend and coverage figures show), and a scheduled scorecard version for customer managers (so the
version list shows how a change waits for the next period). Idempotent: rollups replace their range and
the scheduled version is replaced in place."""

from __future__ import annotations

import datetime as dt
from typing import Any

from branchcare.org.models import Branch

from .models import Scorecard
from .services import DEFAULT_SCORECARDS, earliest_effective, rollup_recompute, scorecard_save


def seed_demo(*, users: dict[str, Any], today: dt.date, seed: int) -> dict[str, int]:
    last = today
    first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)  # the first of last month
    rows = 0
    for branch in Branch.objects.order_by("code"):
        rows += rollup_recompute(branch=branch, first=first, last=last)
    director = users.get("director")
    versions = 0
    effective_from = earliest_effective(today)
    if (
        director is not None
        and director.branch_id
        and not Scorecard.objects.filter(
            branch_id=director.branch_id, role="manager", effective_from=effective_from
        ).exists()
    ):
        items = [
            {"measure": code, "weight": weight, "target": target, "threshold": threshold}
            for code, weight, target, threshold in DEFAULT_SCORECARDS["manager"]
        ]
        # next month: coverage counts more, unplanned quota less
        for item in items:
            if item["measure"] == "book_coverage":
                item["weight"] = 25
            if item["measure"] == "visits_vs_quota":
                item["weight"] = 5
        scorecard_save(
            actor=director,
            branch=director.branch,
            role="manager",
            items=items,
            note="下月起提高客户覆盖率权重",
            effective_from=effective_from,
            today=today,
        )
    if director is not None and director.branch_id:
        # What exists after seeding (the same on every run: the seed is idempotent).
        versions = Scorecard.objects.filter(
            branch_id=director.branch_id, role="manager", effective_from=effective_from
        ).count()
    return {"supervision.daily_measures": rows, "supervision.scorecard_versions": versions}
