"""``branchcare gen_scale``: realistic synthetic clients at scale, for load and query benchmarks.

``branchcare gen_scale --clients 1000000 --branches 10 --managers-per-branch 20`` creates branches
S001…, one team and N customer managers (s001m01…) per branch and spreads the clients over them.
People and accounts come from :mod:`branchcare.clients.demo_data`, the same generators as
``seed_demo``. Rows are written with COPY on PostgreSQL and with large ``executemany`` batches on
SQLite (one transaction per batch, ``PRAGMA synchronous=OFF`` for the run).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from branchcare.clients.demo_data import (
    ALL_REGIONS,
    DEMO_COMPANY_NAME,
    DemoDataGenerator,
    Market,
    NamePool,
    last_weekday_before,
    split_evenly,
)
from branchcare.clients.models import Client
from branchcare.clients.securities import latest_market, load_securities, seed_price_history
from branchcare.clients.tiers import tier_for
from branchcare.org.capabilities import STANDARD_ROLES
from branchcare.org.models import Branch, Company, Role, Team, User

# Column order of the rows written to clients_client and clients_holding.
CLIENT_COLUMNS = (
    "id", "branch_id", "client_no", "name", "name_pinyin", "name_initials", "phone", "phone_tail",
    "id_number", "gender", "birthday", "opened_on", "status", "risk_level", "risk_assessed_on",
    "total_assets", "tier", "is_premium", "commission_rate", "manager_id", "seat_id", "tags", "notes",
    "created_at", "updated_at", "version",
)  # fmt: skip
HOLDING_COLUMNS = ("client_id", "security_id", "quantity", "cost_price", "as_of")

# City and district of the generated branches (S001, S002, …); beyond the list they are numbered.
BRANCH_PLACES = (
    ("上海", "徐汇区漕溪北路"), ("北京", "朝阳区建国门外大街"), ("深圳", "福田区深南大道"),
    ("广州", "天河区珠江新城"), ("杭州", "上城区解放路"), ("南京", "鼓楼区中山北路"),
    ("苏州", "工业园区星海街"), ("成都", "锦江区红星路"), ("武汉", "江汉区建设大道"),
    ("宁波", "鄞州区天童南路"), ("西安", "雁塔区高新路"), ("合肥", "蜀山区长江西路"),
    ("济南", "历下区泺源大街"), ("郑州", "金水区花园路"), ("长沙", "芙蓉区五一大道"),
    ("福州", "鼓楼区五四路"), ("重庆", "渝中区民族路"), ("天津", "和平区南京路"),
    ("青岛", "市南区香港中路"), ("厦门", "思明区湖滨南路"),
)  # fmt: skip


def client_no_prefix(branch_index: int) -> str:
    """Client numbers of generated branch ``S{index:03d}`` start with ``5000 + index``."""
    return f"{5000 + branch_index}"


@dataclass
class BranchPlan:
    branch: Branch
    prefix: str
    managers: list[int]
    start_seq: int
    count: int


class Writer:
    """Allocates ids and writes batches of rows; one implementation per database vendor."""

    def __init__(self) -> None:
        self.vendor = connection.vendor

    def prepare(self) -> None:
        if self.vendor == "sqlite" and not connection.in_atomic_block:
            with connection.cursor() as cur:
                cur.execute("PRAGMA synchronous=OFF")
                cur.execute("PRAGMA cache_size=-262144")  # 256 MiB of page cache for index maintenance
                cur.execute("PRAGMA temp_store=MEMORY")

    def finish(self, analyze: bool) -> None:
        """Restore SQLite durability and refresh planner statistics (like autovacuum would later).

        On PostgreSQL, outside a transaction, ``VACUUM (ANALYZE)`` also sets the visibility map so
        counts can use index-only scans straight away."""
        with connection.cursor() as cur:
            if self.vendor == "sqlite":
                if not connection.in_atomic_block:
                    cur.execute("PRAGMA synchronous=NORMAL")
                if analyze:
                    cur.execute("ANALYZE")
            elif analyze:
                verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
                for table in ("clients_client", "clients_holding", "org_user"):
                    cur.execute(f"{verb} {table}")

    def allocate_ids(self, n: int) -> list[int]:
        """``n`` fresh primary keys for clients_client (call inside the batch transaction)."""
        with connection.cursor() as cur:
            if self.vendor == "postgresql":
                cur.execute(
                    "SELECT nextval(pg_get_serial_sequence('clients_client', 'id')) FROM generate_series(1, %s)",
                    [n],
                )
                return [row[0] for row in cur.fetchall()]
            # SQLite: the batch transaction holds the write lock (BEGIN IMMEDIATE), so MAX(id) is stable.
            cur.execute("SELECT COALESCE(MAX(id), 0) FROM clients_client")
            top = cur.fetchone()[0]
            return list(range(top + 1, top + 1 + n))

    def write(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        with connection.cursor() as cur:
            if self.vendor == "postgresql":
                raw = cur.cursor  # the psycopg 3 cursor under Django's wrapper
                with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                placeholders = ", ".join(["%s"] * len(columns))
                cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows)  # noqa: S608


class Command(BaseCommand):
    help = (
        "生成大规模模拟客户数据（用于性能测试）。"
        " Generate realistic synthetic clients at scale (branches S001…, managers s001m01…)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, required=True, help="客户总数，如 1000000。")
        parser.add_argument("--branches", type=int, default=10, help="营业部数（默认 10）。")
        parser.add_argument(
            "--managers-per-branch", type=int, default=20, help="每家营业部客户经理数（默认 20）。"
        )
        parser.add_argument("--holdings-per-client", type=int, default=0, help="每位客户持仓数（默认 0）。")
        parser.add_argument("--batch", type=int, default=20_000, help="每批写入的客户数（默认 20000）。")
        parser.add_argument("--seed", type=int, default=42, help="随机种子（默认 42）。")
        parser.add_argument("--no-analyze", action="store_true", help="结束后不执行 ANALYZE。")

    def handle(self, *args: Any, **opts: Any) -> None:
        if getattr(settings, "BRANCHCARE_PRODUCTION", False):
            raise CommandError(
                "生产环境禁止生成模拟数据（BRANCHCARE_PRODUCTION = True）。"
                " Refusing to generate synthetic data in production."
            )
        total, n_branches = opts["clients"], opts["branches"]
        per_branch_managers, holdings_k = opts["managers_per_branch"], opts["holdings_per_client"]
        if total < 0 or n_branches < 1 or per_branch_managers < 1 or opts["batch"] < 1 or holdings_k < 0:
            raise CommandError("参数必须为正数。 Arguments must be positive.")
        if n_branches > 999:
            raise CommandError("营业部数不能超过 999。 At most 999 branches.")

        today = timezone.localdate()
        started = time.perf_counter()
        gen = DemoDataGenerator(seed=opts["seed"], today=today, regions=ALL_REGIONS)
        plans = self._prepare_org(gen, n_branches, per_branch_managers, total)
        market = self._prepare_market(opts["seed"], today) if holdings_k else None
        pool_size = max(200, min(40_000, total // 4))
        self.stdout.write(f"准备姓名库（每种性别 {pool_size:,} 个姓名及拼音）…")
        names = NamePool(gen, per_gender=pool_size)
        writer = Writer()
        writer.prepare()
        self.stdout.write(
            f"开始生成 {total:,} 位客户（{n_branches} 家营业部，每家 {per_branch_managers} 位客户经理，"
            f"每位客户 {holdings_k} 条持仓），数据库：{connection.vendor}"
        )
        t0 = time.perf_counter()
        done = holdings_done = 0
        for batch in self._batches(plans, opts["batch"]):
            with transaction.atomic():
                ids = writer.allocate_ids(len(batch))
                now = timezone.now()
                clients, holdings = self._rows(
                    gen, names, market, batch, ids, now, today, holdings_k, writer.vendor
                )
                writer.write("clients_client", CLIENT_COLUMNS, clients)
                writer.write("clients_holding", HOLDING_COLUMNS, holdings)
            done += len(clients)
            holdings_done += len(holdings)
            elapsed = time.perf_counter() - t0
            self.stdout.write(
                f"  客户 {done:>12,} / {total:,}  持仓 {holdings_done:>12,}  {elapsed:7.1f} 秒  "
                f"{done / elapsed if elapsed else 0:>10,.0f} 客户/秒"
            )
            self.stdout.flush()
        gen_seconds = time.perf_counter() - t0
        if not opts["no_analyze"]:
            self.stdout.write("更新统计信息（VACUUM/ANALYZE）…")
        writer.finish(analyze=not opts["no_analyze"])
        self.stdout.write(
            self.style.SUCCESS(
                f"完成：写入客户 {done:,} 位、持仓 {holdings_done:,} 条；写入用时 {gen_seconds:.1f} 秒"
                f"（{done / gen_seconds if gen_seconds else 0:,.0f} 客户/秒），总用时 {time.perf_counter() - started:.1f} 秒。"
            )
        )

    # -- organisation ----------------------------------------------------------------------------
    def _prepare_org(
        self, gen: DemoDataGenerator, n_branches: int, n_managers: int, total: int
    ) -> list[BranchPlan]:
        """Branches S001…, a team and the managers of each (created when missing), and how many
        clients each branch gets; numbering continues after the branch's existing clients."""
        company, _ = Company.objects.get_or_create(name=DEMO_COMPANY_NAME)
        name, scope, caps = STANDARD_ROLES["manager"]
        role, _ = Role.objects.get_or_create(
            code="manager", defaults={"name": name, "scope": str(scope), "capabilities": list(caps)}
        )
        hashed = make_password(settings.BRANCHCARE["DEMO_PASSWORD"])
        plans: list[BranchPlan] = []
        for index, count in zip(range(1, n_branches + 1), split_evenly(total, n_branches), strict=True):
            code = f"S{index:03d}"
            city, street = BRANCH_PLACES[(index - 1) % len(BRANCH_PLACES)]
            suffix = "" if index <= len(BRANCH_PLACES) else f"第{index}"
            branch, _ = Branch.objects.get_or_create(
                code=code,
                defaults={
                    "company": company,
                    "name": f"{city}{street}{suffix}证券营业部",
                    "address": f"{city}市{street}",
                },
            )
            team, _ = Team.objects.get_or_create(branch=branch, name="财富管理一组")
            usernames = [f"{code.lower()}m{m:02d}" for m in range(1, n_managers + 1)]
            existing = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
            new_users = [
                User(
                    username=u, name=gen.person_name(gen.gender()), branch=branch, team=team, password=hashed,
                    phone=gen.mobile(),
                )
                for u in usernames
                if u not in existing
            ]  # fmt: skip
            User.objects.bulk_create(new_users)
            managers = list(User.objects.filter(username__in=usernames).order_by("username"))
            User.roles.through.objects.bulk_create(
                [User.roles.through(user_id=m.pk, role_id=role.pk) for m in managers], ignore_conflicts=True
            )
            prefix = client_no_prefix(index)
            last = Client.objects.filter(branch=branch, client_no__startswith=prefix).aggregate(
                m=Max("client_no")
            )["m"]
            start = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
            plans.append(BranchPlan(branch, prefix, [m.pk for m in managers], start, count))
        return plans

    def _prepare_market(self, seed: int, today: dt.date) -> Market:
        load_securities()
        seed_price_history(seed=seed, end=last_weekday_before(today), days=30)
        return latest_market()

    # -- rows ---------------------------------------------------------------------------------------
    @staticmethod
    def _batches(plans: list[BranchPlan], size: int) -> Iterator[list[tuple[BranchPlan, int]]]:
        """``(plan, sequence number)`` pairs, ``size`` at a time, the branches interleaved row by row
        as accounts are opened in real life (so no branch's rows are physically clustered, which
        would flatter branch-scoped queries)."""
        batch: list[tuple[BranchPlan, int]] = []
        for offset in range(max((p.count for p in plans), default=0)):
            for plan in plans:
                if offset < plan.count:
                    batch.append((plan, plan.start_seq + offset))
            if len(batch) >= size:
                yield batch[:size]
                batch = batch[size:]
        while batch:
            yield batch[:size]
            batch = batch[size:]

    @staticmethod
    def _rows(
        gen: DemoDataGenerator,
        names: NamePool,
        market: Market | None,
        batch: list[tuple[BranchPlan, int]],
        ids: list[int],
        now: dt.datetime,
        today: dt.date,
        holdings_k: int,
        vendor: str,
    ) -> tuple[list[tuple], list[tuple]]:
        sqlite = vendor == "sqlite"
        # SQLite columns are text: write what Django would (ISO dates, naive UTC datetimes, 0/1).
        stamp: Any = now.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ") if sqlite else now
        as_of: Any = last_weekday_before(today)
        as_of = as_of.isoformat() if sqlite else as_of
        iso = (lambda d: d.isoformat()) if sqlite else (lambda d: d)
        num = str if sqlite else (lambda d: d)
        rng = gen.rng
        clients: list[tuple] = []
        holdings: list[tuple] = []
        thresholds = {}
        for (plan, seq), pk in zip(batch, ids, strict=True):
            branch = plan.branch
            if branch.pk not in thresholds:
                thresholds[branch.pk] = (
                    branch.large_threshold,
                    branch.medium_threshold,
                    float(branch.large_threshold),
                )
            large, medium, large_f = thresholds[branch.pk]
            gender = gen.gender()
            name, full, initials = names.draw(gender)
            d = gen.client(name=name, gender=gender, large_threshold=large_f)
            rate = d.commission_rate
            clients.append(
                (
                    pk, branch.pk, f"{plan.prefix}{seq:07d}", name, full, initials, d.phone, d.phone[-4:],
                    d.id_number, gender, iso(d.birthday), iso(d.opened_on), d.status, d.risk_level,
                    iso(d.risk_assessed_on), num(d.total_assets), tier_for(d.total_assets, large=large, medium=medium),
                    d.is_premium, None if rate is None else num(rate), rng.choice(plan.managers), None,
                    json.dumps(d.tags), "", stamp, stamp, 1,
                )
            )  # fmt: skip
            if holdings_k and market is not None and d.status != Client.Status.CLOSED:
                for quote, qty, cost in gen.holdings(d.total_assets, market, count=holdings_k):
                    holdings.append((pk, quote.security_id, qty, num(cost), as_of))
        return clients, holdings
