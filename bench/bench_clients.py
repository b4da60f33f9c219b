#!/usr/bin/env python
"""Client list and search latency at scale (target: p95 <= 50 ms at 1 M clients).

Run against a database filled by ``branchcare gen_scale`` (branches S001…, managers s001m01…)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/branchcare_scale .venv/bin/python bench/bench_clients.py
    DATABASE_URL=sqlite:////tmp/branchcare_scale.sqlite3 .venv/bin/python bench/bench_clients.py

Each case evaluates the client list exactly as the list view does for page 1: the first 51 rows of
``selectors.client_list(viewer, filters)`` (50 shown + 1 to know whether there is a next page) and
``selectors.count_capped``. Cases run for a customer manager (own scope, ~5 000 clients) and a
branch director (branch scope, ~100 000 clients). The search terms rotate over values taken from
real rows in the viewer's scope. The full Django view (``GET /clients/``) is measured too when it
exists. ``--explain`` prints the PostgreSQL / SQLite plan of every case.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DEBUG", "0")  # no query logging while timing

import django  # noqa: E402

django.setup()
logging.getLogger("axes").setLevel(logging.WARNING)  # force_login would log every login

from django.db import connection  # noqa: E402

from branchcare.clients import selectors  # noqa: E402
from branchcare.clients.models import Client  # noqa: E402
from branchcare.clients.selectors import ClientFilters  # noqa: E402
from branchcare.org.models import Branch, Role, User  # noqa: E402

TARGET_MS = 50.0
PAGE = 50


@dataclass
class Result:
    case: str
    scope: str
    samples: list[float] = field(default_factory=list)
    matched: list[int] = field(default_factory=list)
    error: str = ""

    def pct(self, p: float) -> float:
        if not self.samples:
            return float("nan")
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def p95(self) -> float:
        return self.pct(95)

    @property
    def worst(self) -> float:
        return max(self.samples) if self.samples else float("nan")

    @property
    def ok(self) -> bool:
        return bool(self.samples) and self.p95 <= TARGET_MS


def viewers() -> tuple[User, User]:
    """The manager ``s001m01`` and a branch-scope director of S001 (created when missing)."""
    try:
        manager = User.objects.get(username="s001m01")
        branch = Branch.objects.get(code="S001")
    except (User.DoesNotExist, Branch.DoesNotExist):
        sys.exit(
            "没有找到 gen_scale 生成的数据（S001 / s001m01）。请先运行: branchcare gen_scale --clients 1000000"
        )
    director, created = User.objects.get_or_create(
        username="s001director", defaults={"name": "S001 营业部经理", "branch": branch}
    )
    if created:
        director.set_unusable_password()
        director.save()
    director.roles.add(Role.objects.get(code="director"))
    return manager, director


def sample_terms(viewer: User, n: int = 40, seed: int = 7) -> dict[str, list[str]]:
    """Search terms taken from real clients the viewer can see (so searches find something)."""
    base = selectors.client_base_qs(viewer=viewer)
    top = base.order_by("-pk").values_list("pk", flat=True).first() or 0
    low = base.order_by("pk").values_list("pk", flat=True).first() or 0
    rng = random.Random(seed)
    rows: list[tuple[str, str, str, str]] = []
    attempts = 0
    while len(rows) < n and attempts < n * 50:
        attempts += 1
        pk = rng.randint(low, top)
        row = (
            base.filter(pk__gte=pk)
            .order_by("pk")
            .values_list("name", "name_initials", "client_no", "phone_tail")[:1]
        )
        rows.extend(row)
    return {
        "initials": [r[1][: rng.choice((2, 3))] for r in rows if len(r[1]) >= 2],
        "client_no": [r[2][:8] for r in rows],
        "phone_tail": [r[3] for r in rows if len(r[3]) == 4],
        "surname": [r[0][:1] for r in rows],
    }


def evaluate(viewer: User, filters: ClientFilters) -> int:
    """What the list view does for page 1: 51 rows (manager and branch joined) and the capped count."""
    qs = selectors.client_list(viewer=viewer, filters=filters)
    rows = list(qs[: PAGE + 1])
    total, _capped = selectors.count_capped(qs)
    return max(total, len(rows))


def measure(fn: Callable[[int], int], iterations: int, warmup: int = 5) -> tuple[list[float], list[int]]:
    for i in range(warmup):
        fn(i)
    samples, matched = [], []
    for i in range(iterations):
        t = time.perf_counter()
        n = fn(i)
        samples.append((time.perf_counter() - t) * 1000)
        matched.append(n)
    return samples, matched


def cases(terms: dict[str, list[str]]) -> list[tuple[str, Callable[[int], ClientFilters]]]:
    def rot(key: str) -> Callable[[int], ClientFilters]:
        values = terms[key] or [""]
        return lambda i: ClientFilters(q=values[i % len(values)])

    return [
        ("列表第1页 list page 1", lambda i: ClientFilters()),
        ("拼音首字母 initials", rot("initials")),
        ("客户号前缀 client_no prefix", rot("client_no")),
        ("手机尾号 phone tail", rot("phone_tail")),
        ("姓名前缀 surname", rot("surname")),
        ("大户+测评过期 large+expired", lambda i: ClientFilters(tier="large", assessment_expired=True)),
        ("按资产倒序 sort -assets", lambda i: ClientFilters(sort="-assets")),
    ]


def explain(viewer: User, filters: ClientFilters) -> str:
    qs = selectors.client_list(viewer=viewer, filters=filters)
    page = qs[: PAGE + 1]
    count = qs.order_by()[:10_001]
    if connection.vendor == "postgresql":
        return (
            "-- page\n"
            + page.explain(analyze=True, buffers=True)
            + "\n-- count_capped\n"
            + count.explain(analyze=True, buffers=True)
        )
    return "-- page\n" + page.explain() + "\n-- count_capped\n" + count.explain()


def bench_view(viewer: User, terms: dict[str, list[str]], iterations: int) -> list[Result]:
    """The whole request through django.test.Client (middleware, session, template), if the view exists."""
    from django.test import Client as HttpClient
    from django.urls import NoReverseMatch, reverse

    out: list[Result] = []
    scope = "manager" if viewer.username.endswith("m01") else "director"
    try:
        url = reverse("clients:list")
    except NoReverseMatch as exc:
        return [Result("视图 GET /clients/", scope, error=f"视图未找到 view missing: {exc}")]
    http = HttpClient()
    http.force_login(viewer)
    initials = terms["initials"] or ["zw"]
    for label, params in (
        ("视图 GET /clients/", lambda i: {}),
        ("视图 GET /clients/?q=首字母", lambda i: {"q": initials[i % len(initials)]}),
    ):
        result = Result(label, scope)

        def hit(i: int, params=params) -> int:
            response = http.get(url, params(i))
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}")
            return 0

        try:
            result.samples, result.matched = measure(hit, iterations)
        except Exception as exc:  # report and carry on: the view is someone else's work in progress
            result.error = f"{type(exc).__name__}: {exc}"[:160]
        out.append(result)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--explain", action="store_true", help="print the query plans and exit")
    parser.add_argument("--no-view", action="store_true", help="skip the full-view measurements")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    manager, director = viewers()
    total = Client.objects.count()
    vendor = connection.vendor
    print(f"数据库 {vendor}  客户总数 {total:,}  每项 {args.iterations} 次  目标 p95 <= {TARGET_MS:.0f} ms")
    print(
        f"  manager  {manager.username}: {selectors.client_base_qs(viewer=manager).count():,} 位客户（本人）\n"
        f"  director {director.username}: {selectors.client_base_qs(viewer=director).count():,} 位客户（本营业部）"
    )
    results: list[Result] = []
    for scope, viewer in (("manager", manager), ("director", director)):
        terms = sample_terms(viewer)
        for label, make in cases(terms):
            if args.explain:
                print(f"\n==== {label} [{scope}] {make(0)}\n{explain(viewer, make(0))}")
                continue
            result = Result(label, scope)
            result.samples, result.matched = measure(
                lambda i, v=viewer, m=make: evaluate(v, m(i)), args.iterations
            )
            results.append(result)
        if not args.explain and not args.no_view:
            results.extend(bench_view(viewer, terms, max(20, args.iterations // 4)))
    if args.explain:
        return 0

    print()
    print(f"{'case':<34} {'scope':<9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'rows~':>7}  ok")
    print("-" * 84)
    for r in results:
        if r.error:
            print(f"{r.case:<34} {r.scope:<9} {'—':>8} {'—':>8} {'—':>8} {'':>7}  {r.error}")
            continue
        rows = round(statistics.mean(r.matched)) if r.matched else 0
        mark = "(info)" if r.case.startswith("视图") else "✓" if r.ok else "✗"
        print(f"{r.case:<34} {r.scope:<9} {r.p50:8.1f} {r.p95:8.1f} {r.worst:8.1f} {rows:>7}  {mark}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "vendor": vendor,
                    "clients": total,
                    "iterations": args.iterations,
                    "results": [
                        {
                            "case": r.case,
                            "scope": r.scope,
                            "p50": r.p50,
                            "p95": r.p95,
                            "max": r.worst,
                            "error": r.error,
                        }
                        for r in results
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    missed = [r for r in results if not r.error and not r.ok and not r.case.startswith("视图")]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
