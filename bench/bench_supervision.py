#!/usr/bin/env python
"""Time the director dashboard and a monthly scorecard (target: p95 <= 200 ms on PostgreSQL at the
1 M-client scale).

Run against a database filled by ``branchcare gen_scale`` (branches S001…, managers s001m01…)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/branchcare_scale .venv/bin/python bench/bench_supervision.py

The bench first adds synthetic service records and rollups for the first branch, inside a transaction that
is rolled back at the end (``--keep`` commits them): for each manager 92 days of daily rollup rows for every
measure (what the nightly job writes), and today's live work — plan items, open and overdue consultation
orders, follow-ups. It then times, ``--runs`` times each:

* **dashboard**: ``live.dashboard`` for the branch (today's counters per person, SLA breaches via the same
  counters, clients not contacted from the coverage rollup, expired risk assessments) plus the ten most
  overdue items — what the page computes;
* **scorecard**: ``scorecard_table`` of the managers for the current month from the rollups.
"""

from __future__ import annotations

import argparse
import os
import statistics
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

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from branchcare.clients.models import Client  # noqa: E402
from branchcare.onsite.models import ConsultationOrder, FollowUp, VisitPlan, VisitPlanItem  # noqa: E402
from branchcare.org.models import Branch, User  # noqa: E402
from branchcare.supervision import live  # noqa: E402
from branchcare.supervision import measures as registry  # noqa: E402
from branchcare.supervision.models import DailyMeasure  # noqa: E402
from branchcare.supervision.periods import period_for  # noqa: E402
from branchcare.supervision.selectors import scorecard_table  # noqa: E402

TARGET_MS = 200.0


class Rollback(Exception):
    pass


def synthesise(branch: Branch, today: dt.date, rng: random.Random) -> tuple[int, int]:
    """Rollup rows for 92 days × managers × measures, and today's live work for every manager."""
    managers = list(User.objects.filter(branch=branch, roles__code="manager").distinct())
    consultant = managers[0]
    codes = list(registry.all_measures())
    rows = []
    for m in managers:
        for back in range(92):
            day = today - dt.timedelta(days=back)
            for code in codes:
                den = rng.randint(4, 10)
                rows.append(
                    DailyMeasure(branch=branch, employee=m, date=day, measure=code, numerator=rng.randint(0, den),
                                 denominator=den, samples=[rng.random() * 6 for _ in range(3)])
                )  # fmt: skip
    DailyMeasure.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    now = timezone.now()
    live_rows = 0
    for m in managers:
        clients = list(Client.objects.filter(branch=branch, manager=m).values_list("pk", flat=True)[:12])
        plan, _created = VisitPlan.objects.get_or_create(
            manager=m, date=today, defaults={"branch": branch, "visits_quota": 8, "patrols_quota": 2}
        )
        VisitPlanItem.objects.bulk_create(
            [VisitPlanItem(plan=plan, client_id=c, rank=i + 1, status="done" if i % 2 else "planned")
             for i, c in enumerate(clients[:8])],
            ignore_conflicts=True,
        )  # fmt: skip
        for i, c in enumerate(clients[8:12]):
            ConsultationOrder.objects.create(
                branch=branch, client_id=c, manager=m, consultant=consultant, question="bench",
                state="in_analysis" if i % 2 else "advice_ready", submitted_at=now - dt.timedelta(hours=6),
                due_at=now - dt.timedelta(hours=i),
            )  # fmt: skip
        FollowUp.objects.create(
            branch=branch, owner=m, description="bench", due_on=today - dt.timedelta(days=2)
        )
        live_rows += 14
    return len(rows), live_rows


def timed(fn, runs: int) -> list[float]:
    out = []
    fn()  # warm caches (calendar, roles)
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--branch", default=None, help="branch code (default: the first)")
    parser.add_argument(
        "--keep", action="store_true", help="commit the synthetic rows instead of rolling back"
    )
    args, _unknown = parser.parse_known_args()  # run_all.py passes its own arguments to every bench
    branch = (
        Branch.objects.filter(code=args.branch).first()
        if args.branch
        else Branch.objects.order_by("code").first()
    )
    if branch is None:
        print("no branch: run `branchcare gen_scale` first")
        return 1
    rng = random.Random(7)
    today = timezone.localdate()
    results: dict[str, list[float]] = {}
    try:
        with transaction.atomic():
            n_rollups, n_live = synthesise(branch, today, rng)
            clients = Client.objects.filter(branch=branch).count()
            print(
                f"database: {connection.vendor}  branch: {branch.code}  clients in branch: {clients:,}  "
                f"all clients: {Client.objects.count():,}  rollup rows: {DailyMeasure.objects.count():,} "
                f"(+{n_rollups:,} synthetic)  live records: +{n_live}"
            )

            def dashboard() -> None:
                now = timezone.now()
                dash = live.dashboard(branches=[branch], now=now)
                live.sla_from(dash)
                live.most_overdue([branch.pk], now)

            def scorecard() -> None:
                scorecard_table(branch=branch, role="manager", period=period_for("month", today))

            results["director dashboard"] = timed(dashboard, args.runs)
            results["monthly scorecard (managers)"] = timed(scorecard, args.runs)
            if not args.keep:
                raise Rollback
    except Rollback:
        pass
    ok = True
    print(f"{'case':<32} {'p50 ms':>8} {'p95 ms':>8} {'target':>8}")
    for name, values in results.items():
        p50, p95 = statistics.median(values), pct(values, 95)
        good = p95 <= TARGET_MS
        ok &= good
        print(f"{name:<32} {p50:8.1f} {p95:8.1f} {TARGET_MS:8.0f} {'OK' if good else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
