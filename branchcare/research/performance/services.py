"""推荐绩效 services: the benchmark, and computing recommendation outcomes incrementally.

:func:`outcomes_refresh` is the one writer of :class:`~.models.RecommendationOutcome`. It reads the
eligible recommendations (kind "recommendation", with a security and a publication date, published or
since withdrawn / expired) together with their stored outcome in one query, works out which need
computing, loads the closes of only those securities (plus the benchmark) and upserts the results:

- an item without an outcome, or whose inputs (security, direction, date, target, stop, horizon) changed;
- an outcome not yet complete whose data frontier moved (new closes of its security and the benchmark
  arrived since it was computed);
- with ``changed`` (what a price import wrote: security id → earliest date written), any outcome of those
  securities — or of every security when the benchmark changed — whose observation window reaches that
  date (a corrected close re-computes even a complete outcome);
- everything with ``full=True``.

Complete outcomes with no new data are never touched, so the nightly run costs one query when nothing
changed.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from branchcare.clients.models import Price, Security
from branchcare.core.audit import audit_log
from branchcare.core.sla import CalendarRangeError
from branchcare.research.models import ResearchItem

from . import calc
from .models import RecommendationOutcome

logger = logging.getLogger(__name__)

BENCHMARK_CODE = "000300"
BENCHMARK_EXCHANGE = "SH"
BENCHMARK_NAME = "沪深300"
#: States in which a recommendation was published and so is measured.
MEASURED_STATES = (
    ResearchItem.State.PUBLISHED,
    ResearchItem.State.WITHDRAWN,
    ResearchItem.State.EXPIRED,
)
#: Closes are loaded from this many days before the earliest publication (for the entry price).
ENTRY_LOOKBACK_DAYS = 30
#: Securities whose closes are loaded per query.
CHUNK = 200


def benchmark_security() -> Security | None:
    """The benchmark index (沪深300, 000300.SH), or None when the security master lacks it."""
    return Security.objects.filter(code=BENCHMARK_CODE, exchange=BENCHMARK_EXCHANGE).first()


def ensure_benchmark() -> Security:
    """The benchmark index, created if missing (idempotent; the data migration does the same)."""
    sec, _created = Security.objects.get_or_create(
        code=BENCHMARK_CODE,
        exchange=BENCHMARK_EXCHANGE,
        defaults={"name": BENCHMARK_NAME, "kind": Security.Kind.INDEX, "industry": "指数"},
    )
    return sec


def measured_items() -> Any:
    """Recommendations whose performance is measured (any branch; callers scope what they show)."""
    return ResearchItem.objects.filter(
        kind=ResearchItem.Kind.RECOMMENDATION,
        state__in=MEASURED_STATES,
        security__isnull=False,
        published_on__isnull=False,
    )


def trading_days(start: dt.date, end: dt.date, *, fallback: Iterable[dt.date] = ()) -> list[dt.date]:
    """The exchange's trading days from ``start`` to ``end`` (org.calendar); outside the calendar's known
    range the dates of the benchmark's closes (``fallback``) stand in."""
    from branchcare.org.calendar import trading_calendar

    if end < start:
        return []
    cal = trading_calendar()
    days: list[dt.date] = []
    fallback_set = set(fallback)
    day = start
    while day <= end:
        try:
            if cal.is_working_day(day):
                days.append(day)
        except CalendarRangeError:
            if day in fallback_set:
                days.append(day)
        day += dt.timedelta(days=1)
    return days


def _inputs_key(row: Mapping[str, Any]) -> str:
    return "|".join(
        str(row[k]) if row[k] is not None else ""
        for k in ("security_id", "direction", "published_on", "target_price", "stop_loss", "horizon_days")
    )


@dataclass
class RefreshResult:
    """What a refresh did: recommendations considered, outcomes (re)computed, seconds taken."""

    measured: int = 0
    computed: int = 0
    removed: int = 0
    seconds: float = 0.0


def _frontiers(security_ids: Iterable[int]) -> dict[int, dt.date]:
    """The last close date of each security (one grouped query, served by the (security, -date) index)."""
    ids = sorted(set(security_ids))
    result: dict[int, dt.date] = {}
    for i in range(0, len(ids), CHUNK * 5):
        part = ids[i : i + CHUNK * 5]
        result.update(
            Price.objects.filter(security_id__in=part)
            .values("security_id")
            .annotate(last=Max("date"))
            .values_list("security_id", "last")
        )
    return result


def _closes(security_ids: list[int], since: dt.date) -> dict[int, dict[dt.date, Decimal]]:
    series: dict[int, dict[dt.date, Decimal]] = defaultdict(dict)
    for i in range(0, len(security_ids), CHUNK):
        part = security_ids[i : i + CHUNK]
        for sid, day, close in (
            Price.objects.filter(security_id__in=part, date__gte=since)
            .order_by()
            .values_list("security_id", "date", "close")
            .iterator(chunk_size=5000)
        ):
            series[sid][day] = close
    return series


def _needs(
    row: Mapping[str, Any],
    *,
    key: str,
    frontier: dt.date | None,
    changed: Mapping[int, dt.date],
    bench_changed: dt.date | None,
) -> bool:
    if row["outcome__id"] is None or row["outcome__inputs_key"] != key:
        return True
    if row["outcome__status"] != RecommendationOutcome.Status.COMPLETE and frontier is not None:
        stored = row["outcome__data_through"]
        if stored is None or frontier > stored:
            return True
    window_end = row["outcome__window_end"]
    since = changed.get(row["security_id"])
    if bench_changed is not None:
        since = min(since, bench_changed) if since else bench_changed
    return since is not None and (window_end is None or since <= window_end)


@transaction.atomic
def outcomes_refresh(
    *,
    changed: Mapping[int, dt.date] | None = None,
    full: bool = False,
    actor: Any = None,
    item_ids: Iterable[int] | None = None,
) -> RefreshResult:
    """Compute the outcomes that need it (see the module docstring) and upsert them in bulk.

    ``changed`` maps a security id to the earliest date a price import wrote for it; ``item_ids`` limits the
    run to those items (used after a publication). Writes one ``performance.refresh`` audit record when
    anything was computed. Without the benchmark's closes every outcome stays pending."""
    started = time.perf_counter()
    changed = dict(changed or {})
    result = RefreshResult()
    bench = benchmark_security()
    qs = measured_items()
    if item_ids is not None:
        qs = qs.filter(pk__in=list(item_ids))
    rows = list(
        qs.order_by("pk").values(
            "id",
            "branch_id",
            "source_id",
            "author_id",
            "security_id",
            "direction",
            "published_on",
            "target_price",
            "stop_loss",
            "horizon_days",
            "outcome__id",
            "outcome__inputs_key",
            "outcome__status",
            "outcome__data_through",
            "outcome__window_end",
        )
    )
    result.measured = len(rows)
    if full and item_ids is None:
        gone = RecommendationOutcome.objects.exclude(item__in=measured_items())
        result.removed = gone.count()
        gone.delete()
    if not rows:
        result.seconds = time.perf_counter() - started
        return result
    security_ids = {r["security_id"] for r in rows}
    frontiers = _frontiers(security_ids | ({bench.pk} if bench else set()))
    bench_last = frontiers.get(bench.pk) if bench else None
    bench_changed = changed.get(bench.pk) if bench else None
    todo: list[tuple[dict[str, Any], str]] = []
    for row in rows:
        key = _inputs_key(row)
        sec_last = frontiers.get(row["security_id"])
        frontier = min(sec_last, bench_last) if sec_last and bench_last else None
        if full or _needs(row, key=key, frontier=frontier, changed=changed, bench_changed=bench_changed):
            todo.append((row, key))
    if not todo:
        result.seconds = time.perf_counter() - started
        return result

    since = min(r["published_on"] for r, _k in todo) - dt.timedelta(days=ENTRY_LOOKBACK_DAYS)
    ids = sorted({r["security_id"] for r, _k in todo} | ({bench.pk} if bench else set()))
    series = _closes(ids, since)
    bench_series = calc.Series(series.get(bench.pk, {}) if bench else {})
    last_day = max((d for d in frontiers.values()), default=since)
    days = trading_days(since, last_day, fallback=bench_series.dates)
    now = timezone.now()
    objs: list[RecommendationOutcome] = []
    for row, key in todo:
        rec = calc.Recommendation(
            direction=row["direction"],
            published_on=row["published_on"],
            target_price=row["target_price"],
            stop_loss=row["stop_loss"],
            horizon_days=row["horizon_days"],
        )
        out = calc.compute_outcome(
            rec,
            trading_days=days,
            closes=calc.Series(series.get(row["security_id"], {})),
            bench=bench_series,
        )
        values: dict[str, Any] = {}
        for n in calc.HORIZONS:
            h = out.horizons.get(n)
            values[f"return_{n}"] = h.ret if h else None
            values[f"benchmark_return_{n}"] = h.benchmark_ret if h else None
            values[f"excess_return_{n}"] = h.excess if h else None
        objs.append(
            RecommendationOutcome(
                item_id=row["id"],
                branch_id=row["branch_id"],
                source_id=row["source_id"],
                author_id=row["author_id"],
                security_id=row["security_id"],
                direction=row["direction"],
                published_on=row["published_on"],
                entry_date=out.entry_date,
                entry_price=out.entry_price,
                benchmark_entry=out.benchmark_entry,
                target_hit_on=out.target_hit_on,
                stop_hit_on=out.stop_hit_on,
                window_end=out.window_end,
                result=out.result,
                status=out.status,
                data_through=out.data_through,
                inputs_key=key[:200],
                computed_at=now,
                **values,
            )
        )
    update_fields = [
        f.name
        for f in RecommendationOutcome._meta.concrete_fields
        if f.name not in ("id", "item")  # type: ignore[union-attr]
    ]
    RecommendationOutcome.objects.bulk_create(
        objs,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["item"],
        update_fields=update_fields,
    )
    result.computed = len(objs)
    audit_log(
        actor=actor,
        action="performance.refresh",
        object_type="research_performance.recommendationoutcome",
        object_id="",
        object_repr="推荐绩效计算",
        changes={
            "computed": [None, result.computed],
            "measured": [None, result.measured],
            "full": [None, full],
            "changed_securities": [None, len(changed)],
        },
    )
    result.seconds = time.perf_counter() - started
    return result
