#!/usr/bin/env python
"""Time the recommendation-performance computation: a full computation of N recommendations over 250
trading days of closes, then the incremental runs a day brings (targets: full <= 15 s and incremental
<= 5 s for 2 000 recommendations on PostgreSQL).

Any migrated database will do (the data are generated inside a transaction that is rolled back, so it is
left as it was)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/branchcare_scale .venv/bin/python bench/bench_performance.py
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python bench/bench_performance.py --recommendations 500

Steps timed: (1) full computation of every outcome; (2) the nightly run with nothing new (must touch
nothing); (3) one new trading day of closes for every security and the benchmark, as a price import would
write them, then the incremental run for the securities written; (4) a corrected close of 5 % of the
securities inside their windows, then the incremental run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DEBUG", "0")  # no query logging while timing

import django  # noqa: E402

django.setup()

import datetime as dt  # noqa: E402
import random  # noqa: E402
from decimal import Decimal  # noqa: E402

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from branchcare.clients.models import Price, Security  # noqa: E402
from branchcare.core.imports import copy_available, copy_insert  # noqa: E402
from branchcare.core.sla import CalendarRangeError  # noqa: E402
from branchcare.org.calendar import trading_days_between  # noqa: E402
from branchcare.research.models import ResearchItem, ResearchSource  # noqa: E402
from branchcare.research.performance.models import RecommendationOutcome  # noqa: E402
from branchcare.research.performance.services import ensure_benchmark, outcomes_refresh  # noqa: E402

FULL_TARGET_S = 15.0
INCREMENTAL_TARGET_S = 5.0
DAYS = 250


class Rollback(Exception):
    pass


def _days(end: dt.date, count: int) -> list[dt.date]:
    try:
        days = trading_days_between(end - dt.timedelta(days=count * 2), end)
    except CalendarRangeError:  # past the calendar's known range: weekdays
        days = [end - dt.timedelta(days=i) for i in range(count * 2)]
        days = sorted(d for d in days if d.weekday() < 5)
    return days[-count:]


def _walk(rng: random.Random, n: int, start: float, vol: float) -> list[Decimal]:
    out, price = [], start
    for _ in range(n):
        price = max(price * (1 + rng.gauss(0.0003, vol)), 0.5)
        out.append(Decimal(f"{price:.2f}"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--recommendations", "-n", type=int, default=2000, help="recommendations (default 2000)"
    )
    parser.add_argument("--securities", type=int, default=0, help="distinct securities (default n / 2)")
    args, _unknown = parser.parse_known_args()  # run_all.py passes its arguments to every bench
    n = args.recommendations
    n_sec = args.securities or max(1, n // 2)
    rng = random.Random(7)
    today = timezone.localdate()
    all_days = _days(today - dt.timedelta(days=1), DAYS + 1)
    days, next_day = all_days[:-1], all_days[-1]
    print(f"database: {connection.vendor}  recommendations: {n:,}  securities: {n_sec:,}  days: {len(days)}")
    timings: dict[str, float] = {}
    counts: dict[str, int] = {}
    try:
        with transaction.atomic():
            t0 = time.perf_counter()
            bench = ensure_benchmark()
            Price.objects.filter(security=bench, date__in=all_days).delete()
            Price.objects.bulk_create(
                [
                    Price(security=bench, date=d, close=c)
                    for d, c in zip(days, _walk(rng, len(days), 4000, 0.009), strict=True)
                ],
                batch_size=2000,
            )
            secs = Security.objects.bulk_create(
                [Security(code=f"BX{i:06d}", exchange="BJ", name=f"压测{i}") for i in range(n_sec)],
                batch_size=2000,
            )
            if not secs[0].pk:  # backends without RETURNING on bulk insert
                secs = list(Security.objects.filter(code__startswith="BX", exchange="BJ").order_by("code"))
            series = (
                (sec.pk, d, c)
                for sec in secs
                for d, c in zip(days, _walk(rng, len(days), rng.uniform(5, 200), 0.02), strict=True)
            )
            if copy_available():  # PostgreSQL: COPY, as the price import does
                copy_insert(Price, ["security_id", "date", "close"], series)
            else:
                rows = []
                for sid, d, c in series:
                    rows.append(Price(security_id=sid, date=d, close=c))
                    if len(rows) >= 50_000:
                        Price.objects.bulk_create(rows, batch_size=5000)
                        rows = []
                Price.objects.bulk_create(rows, batch_size=5000)
            source = ResearchSource.objects.create(name="压测研究来源")
            items = []
            for i in range(n):
                sec = secs[i % n_sec]
                published = days[rng.randrange(0, len(days) - 5)]
                direction = rng.choice(["buy", "buy", "add", "hold", "reduce", "sell"])
                items.append(
                    ResearchItem(
                        source=source, kind=ResearchItem.Kind.RECOMMENDATION, title=f"压测推荐{i}", reason="压测",
                        published_on=published, security=sec, direction=direction,
                        target_price=Decimal("9999") if direction in ("buy", "add", "hold") else Decimal("0.5"),
                        stop_loss=Decimal("0.5") if direction in ("buy", "add", "hold") else Decimal("9999"),
                        state=ResearchItem.State.PUBLISHED,
                    )
                )  # fmt: skip
            ResearchItem.objects.bulk_create(items, batch_size=2000)
            timings["generate"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            result = outcomes_refresh(full=True)
            timings["full"] = time.perf_counter() - t0
            counts["full"] = result.computed

            t0 = time.perf_counter()
            counts["nightly_idle"] = outcomes_refresh().computed
            timings["nightly_idle"] = time.perf_counter() - t0

            # one new trading day for everything, as the daily price import writes it
            Price.objects.bulk_create(
                [Price(security=s, date=next_day, close=Decimal("10.00")) for s in [*secs, bench]],
                batch_size=5000,
            )
            changed = {s.pk: next_day for s in [*secs, bench]}
            t0 = time.perf_counter()
            counts["incremental_day"] = outcomes_refresh(changed=changed).computed
            timings["incremental_day"] = time.perf_counter() - t0

            # corrected closes of 5 % of the securities, 30 trading days back
            fixed = secs[: max(1, n_sec // 20)]
            day = days[-30]
            Price.objects.filter(security__in=fixed, date=day).update(close=Decimal("11.00"))
            t0 = time.perf_counter()
            counts["incremental_fix"] = outcomes_refresh(changed={s.pk: day for s in fixed}).computed
            timings["incremental_fix"] = time.perf_counter() - t0
            counts["outcomes"] = RecommendationOutcome.objects.filter(item__source=source).count()
            raise Rollback
    except Rollback:
        pass
    print(f"  generate data           {timings['generate']:8.2f} s")
    print(f"  full computation        {timings['full']:8.2f} s  computed {counts['full']:,}")
    print(f"  nightly, nothing new    {timings['nightly_idle']:8.2f} s  computed {counts['nightly_idle']:,}")
    print(
        f"  incremental, new day    {timings['incremental_day']:8.2f} s  computed {counts['incremental_day']:,}"
    )
    print(
        f"  incremental, 5% fixed   {timings['incremental_fix']:8.2f} s  computed {counts['incremental_fix']:,}"
    )
    ok_full = timings["full"] <= FULL_TARGET_S * max(1.0, n / 2000)
    ok_inc = (
        timings["nightly_idle"] <= INCREMENTAL_TARGET_S and timings["incremental_fix"] <= INCREMENTAL_TARGET_S
    )
    ok_idle = counts["nightly_idle"] == 0
    ok = ok_full and ok_inc and ok_idle
    print(
        f"full {'OK' if ok_full else 'MISSED'} (target <= {FULL_TARGET_S:.0f} s per 2 000); "
        f"incremental {'OK' if ok_inc else 'MISSED'} (target <= {INCREMENTAL_TARGET_S:.0f} s); "
        f"idle run touched nothing: {'OK' if ok_idle else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
