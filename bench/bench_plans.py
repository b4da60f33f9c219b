#!/usr/bin/env python
"""Time generating every customer manager's visit and patrol plan for one trading day (target: <= 10 s
on PostgreSQL for 1 M clients).

Run against a database filled by ``branchcare gen_scale`` (branches S001…, managers s001m01…)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/branchcare_plans .venv/bin/python bench/bench_plans.py

The plans are generated inside a transaction that is rolled back at the end, so the database is left as
it was and the bench can be repeated. On a smaller database (say ``gen_scale --clients 200000 --branches 2
--managers-per-branch 20 --holdings-per-client 3``: the same 5 000 clients per manager, in minutes) the
time is also projected linearly to 1 M clients, and the target is checked against that projection. ``--date`` picks the trading day (default: today, or the next
trading day when today is not one); ``--keep`` commits the plans instead.
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

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from branchcare.clients.models import Client  # noqa: E402
from branchcare.onsite.models import VisitPlanItem  # noqa: E402
from branchcare.onsite.services_plans import plan_generate  # noqa: E402
from branchcare.org.calendar import is_trading_day, next_trading_day  # noqa: E402
from branchcare.org.models import Branch  # noqa: E402

TARGET_S = 10.0
FULL_SCALE = 1_000_000  # clients the target is set for


class Rollback(Exception):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--date", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--keep", action="store_true", help="commit the plans instead of rolling back")
    args = parser.parse_args()
    date = args.date or timezone.localdate()
    if not is_trading_day(date):
        date = next_trading_day(date)
    branches = list(Branch.objects.order_by("code"))
    clients = Client.objects.count()
    print(f"database: {connection.vendor}  clients: {clients:,}  branches: {len(branches)}  date: {date}")
    timings: list[tuple[str, int, int, float]] = []
    start = time.perf_counter()
    try:
        with transaction.atomic():
            for branch in branches:
                t0 = time.perf_counter()
                plans = plan_generate(branch=branch, date=date)
                items = VisitPlanItem.objects.filter(plan__in=plans).count() if plans else 0
                timings.append((branch.code, len(plans), items, time.perf_counter() - t0))
            total = time.perf_counter() - start
            if not args.keep:
                raise Rollback
    except Rollback:
        pass
    for code, n, items, seconds in timings:
        print(f"  {code:<6} plans {n:>4}  items {items:>6}  {seconds:7.2f} s")
    plans_total = sum(t[1] for t in timings)
    # The work per branch grows with the branch's clients (and their holdings); a smaller database is
    # scaled up linearly to the 1 M clients of the target.
    projected = total * FULL_SCALE / clients if clients else total
    ok = projected <= TARGET_S
    print(f"total: {plans_total} plans in {total:.2f} s for {clients:,} clients")
    print(
        f"projected for {FULL_SCALE:,} clients: {projected:.1f} s (target <= {TARGET_S:.0f} s) "
        f"{'OK' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
