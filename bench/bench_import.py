"""Client import benchmark: generate an N-row client CSV and import it into branch B001 through the same
code path as the web page and the CLI (``branchcare.core.imports.run_import``), then print rows/s for
validation and for the commit.

Runs against whatever ``DATABASE_URL`` says; use a database of its own, e.g.::

    psql -h 127.0.0.1 -U postgres -c 'create database branchcare_bench'
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/branchcare_bench
    DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/branchcare migrate
    .venv/bin/python bench/bench_import.py --rows 200000

``--update`` then imports the same file again (every row unchanged: nothing is written) and a file in which
every client's assets changed (the update path, with tiers recomputed and one audit row per client);
``--xlsx`` writes the file as a workbook instead of CSV.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def generate(path: Path, rows: int, *, seed: int, assets_seed: int, managers: list[str], xlsx: bool) -> None:
    """Write ``rows`` clients; ``seed`` decides who they are, ``assets_seed`` only their assets."""
    from branchcare.clients.data.names import GIVEN_CHARS_FEMALE, GIVEN_CHARS_MALE, SURNAMES

    rnd = random.Random(seed)
    money = random.Random(assets_seed)
    given = GIVEN_CHARS_MALE + GIVEN_CHARS_FEMALE
    header = [
        "客户号",
        "姓名",
        "手机",
        "证件号码",
        "风险等级",
        "资产",
        "客户经理",
        "开户日期",
        "性别",
        "高端客户",
    ]

    def rows_iter():
        for i in range(rows):
            name = rnd.choice(SURNAMES) + "".join(rnd.choice(given) for _ in range(rnd.randint(1, 2)))
            assets = money.lognormvariate(12, 1.6)
            yield [
                f"9{i:08d}",
                name,
                f"13{rnd.randint(0, 999999999):09d}",
                f"3101{rnd.randint(1950, 2005)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}{rnd.randint(0, 9999):04d}",
                f"C{rnd.randint(1, 5)}",
                f"{assets:,.2f}",
                rnd.choice(managers),
                f"{rnd.randint(2000, 2025)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                rnd.choice(["男", "女"]),
                rnd.choice(["是", "否", "否", "否"]),
            ]

    if xlsx:
        import openpyxl

        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet()
        ws.append(header)
        for row in rows_iter():
            ws.append(row)
        wb.save(path)
    else:
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows_iter())


def setup_branch():
    from branchcare.org.models import Branch, Company, Role, User

    company = Company.objects.order_by("pk").first() or Company.objects.create(name="基准测试证券")
    branch, _ = Branch.objects.get_or_create(
        code="B001", defaults={"company": company, "name": "基准测试营业部"}
    )
    role = Role.objects.get(code="manager")
    names = []
    for i in range(1, 11):
        user, created = User.objects.get_or_create(
            username=f"bench_mgr{i}", defaults={"branch": branch, "name": f"基准经理{i}"}
        )
        if created:
            user.roles.add(role)
        names.append(user.username)
    return branch, names


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--xlsx", action="store_true", help="write and import an .xlsx instead of a .csv")
    parser.add_argument("--update", action="store_true", help="re-import unchanged, then with changed assets")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from branchcare.core import imports
    from branchcare.core.models import AuditLog

    settings.BRANCHCARE["IMPORT_MAX_BYTES"] = max(settings.BRANCHCARE["IMPORT_MAX_BYTES"], 2 << 30)
    branch, managers = setup_branch()
    spec = imports.get_spec("clients")
    print(f"database: {connection.vendor} {settings.DATABASES['default'].get('NAME')}  rows: {args.rows:,}")

    with tempfile.TemporaryDirectory() as tmp:
        passes = [("first import", 0)]
        if args.update:
            passes += [("same file again", 0), ("assets changed", 1)]
        for label, assets_seed in passes:
            path = Path(tmp) / ("clients.xlsx" if args.xlsx else "clients.csv")
            t0 = time.perf_counter()
            generate(
                path,
                args.rows,
                seed=args.seed,
                assets_seed=args.seed + assets_seed,
                managers=managers,
                xlsx=args.xlsx,
            )
            print(
                f"[{label}] generated {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f}s"
            )
            audits_before = AuditLog.objects.count()
            t0 = time.perf_counter()
            result = imports.run_import(spec, path, file_name=path.name, branch=branch, actor=None)
            total = time.perf_counter() - t0
            if result.errors:
                for error in result.errors[:10]:
                    print("  ", error)
                sys.exit(f"{result.bad_rows} bad rows; nothing written")
            c = result.counts
            print(
                f"[{label}] created {c.created:,} updated {c.updated:,} unchanged {c.unchanged:,}; "
                f"audit rows +{AuditLog.objects.count() - audits_before:,}"
            )
            print(
                f"[{label}] validate {result.validate_seconds:.1f}s = {result.validate_rate:,.0f} rows/s; "
                f"commit {result.commit_seconds:.1f}s = {result.commit_rate:,.0f} rows/s; "
                f"end to end {total:.1f}s = {result.total_rows / total:,.0f} rows/s"
            )


if __name__ == "__main__":
    main()
