"""``branchcare seed_demo``: load a small, realistic demo company into the database.

One company, two branches (B001 上海, B002 杭州) with teams, trading and VIP rooms, the security
master with ~30 trading days of closes, one account per standard role (same demo password) and a
few hundred clients per branch with holdings. ``make run`` calls it with ``--if-empty`` each time.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from branchcare.clients.demo_data import (
    DEMO_COMPANY_NAME,
    HOME_REGIONS,
    DemoDataGenerator,
    Market,
    last_weekday_before,
)
from branchcare.clients.models import Client, Holding
from branchcare.clients.pinyin import name_pinyin
from branchcare.clients.securities import latest_market, load_securities, seed_price_history
from branchcare.clients.tiers import tier_for
from branchcare.core.audit import audit_log
from branchcare.org.capabilities import STANDARD_ROLES
from branchcare.org.models import Branch, Company, Role, Room, Seat, Team, User

PRICE_DAYS = 30


@dataclass(frozen=True)
class BranchSpec:
    code: str
    name: str
    address: str
    province: str  # first two digits of the region codes most clients were born in
    client_prefix: str  # client numbers are this prefix + six digits
    teams: tuple[str, ...]
    vip_rooms: tuple[str, ...]
    owners: tuple[tuple[str, float], ...]  # (username, share of the book)


BRANCHES: tuple[BranchSpec, ...] = (
    BranchSpec(
        code="B001",
        name="上海浦东新区世纪大道证券营业部",
        address="上海市浦东新区世纪大道 1568 号 12 楼",
        province="31",
        client_prefix="3101",
        teams=("财富管理一组", "财富管理二组"),
        vip_rooms=("1号大户室", "2号大户室", "3号大户室"),
        owners=(("manager1", 0.4), ("manager2", 0.35), ("broker1", 0.25)),
    ),
    BranchSpec(
        code="B002",
        name="杭州西湖区文三路证券营业部",
        address="浙江省杭州市西湖区文三路 259 号",
        province="33",
        client_prefix="3301",
        teams=("财富管理一组",),
        vip_rooms=("1号大户室", "2号大户室"),
        owners=(("b2manager1", 1.0),),
    ),
)


@dataclass(frozen=True)
class AccountSpec:
    username: str
    name: str
    role: str
    branch: str
    team: str | None = None
    practice_no: str = ""
    superuser: bool = False


ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("admin", "林志远", "admin", "B001", superuser=True),
    AccountSpec("director", "王建国", "director", "B001", practice_no="S0570108060031"),
    AccountSpec("manager1", "陈晓明", "manager", "B001", "财富管理一组", "S0570116070045"),
    AccountSpec("manager2", "刘芳", "manager", "B001", "财富管理二组", "S0570118030027"),
    AccountSpec("consultant1", "赵磊", "consultant", "B001", practice_no="S0570120080012"),
    AccountSpec("researcher1", "孙丽华", "researcher", "B001", practice_no="S0570121030007"),
    AccountSpec("broker1", "周强", "broker", "B001", "财富管理一组", "S0570122110019"),
    AccountSpec("agent1", "吴静", "agent", "B001"),
    AccountSpec("compliance1", "郑伟", "compliance", "B001", practice_no="S0570117090004"),
    AccountSpec("b2director", "冯志刚", "director", "B002", practice_no="S0570109040016"),
    AccountSpec("b2manager1", "钱敏", "manager", "B002", "财富管理一组", "S0570119100038"),
    AccountSpec("hq1", "何卫东", "supervisor", "B001", practice_no="S0570110050021"),
)

# Clients every demo and the browser tests rely on: (branch, sequence number, name, owner).
FIXED_CLIENTS: dict[tuple[str, int], tuple[str, str]] = {
    ("B001", 1): ("张三", "manager1"),
    ("B001", 2): ("李四", "manager2"),
}

SEATS_PER_VIP_ROOM = 8


@dataclass
class SeedSummary:
    created: Counter = field(default_factory=Counter)
    tiers: Counter = field(default_factory=Counter)
    apps: dict[str, int] = field(default_factory=dict)

    def as_changes(self) -> dict[str, Any]:
        return {key: [None, value] for key, value in sorted(self.created.items())}


def _ensure_roles() -> dict[str, Role]:
    """The standard roles (normally created by migration org/0002), recreated if someone deleted one."""
    roles = {r.code: r for r in Role.objects.filter(code__in=STANDARD_ROLES)}
    for code, (name, scope, caps) in STANDARD_ROLES.items():
        if code not in roles:
            roles[code] = Role.objects.create(code=code, name=name, scope=str(scope), capabilities=list(caps))
    return roles


def _seed_org(summary: SeedSummary) -> dict[str, tuple[Branch, dict[str, Team]]]:
    company, created = Company.objects.get_or_create(name=DEMO_COMPANY_NAME)
    summary.created["companies"] += created
    out: dict[str, tuple[Branch, dict[str, Team]]] = {}
    for spec in BRANCHES:
        branch, created = Branch.objects.get_or_create(
            code=spec.code, defaults={"company": company, "name": spec.name, "address": spec.address}
        )
        summary.created["branches"] += created
        teams: dict[str, Team] = {}
        for team_name in spec.teams:
            teams[team_name], created = Team.objects.get_or_create(branch=branch, name=team_name)
            summary.created["teams"] += created
        _, created = Room.objects.get_or_create(
            branch=branch, name="交易大厅", defaults={"kind": Room.Kind.HALL, "capacity": 80}
        )
        summary.created["rooms"] += created
        for room_name in spec.vip_rooms:
            room, created = Room.objects.get_or_create(
                branch=branch,
                name=room_name,
                defaults={"kind": Room.Kind.VIP, "capacity": SEATS_PER_VIP_ROOM},
            )
            summary.created["rooms"] += created
            existing = set(room.seats.values_list("label", flat=True))
            new = [Seat(room=room, label=f"{n:02d}") for n in range(1, SEATS_PER_VIP_ROOM + 1)]
            Seat.objects.bulk_create([s for s in new if s.label not in existing])
            summary.created["seats"] += sum(1 for s in new if s.label not in existing)
        out[spec.code] = (branch, teams)
    return out


def _seed_users(org: dict[str, tuple[Branch, dict[str, Team]]], summary: SeedSummary) -> dict[str, User]:
    """Create or reset the demo accounts: roles, branch, team and the demo password."""
    roles = _ensure_roles()
    hashed = make_password(settings.BRANCHCARE["DEMO_PASSWORD"])
    gen = DemoDataGenerator(seed=7)
    users: dict[str, User] = {}
    for spec in ACCOUNTS:
        branch, teams = org[spec.branch]
        values = {
            "name": spec.name,
            "branch": branch,
            "team": teams.get(spec.team) if spec.team else None,
            "practice_no": spec.practice_no,
            "phone": gen.mobile(),
            "email": f"{spec.username}@demo.branchcare.cn",
            "is_staff": spec.superuser,
            "is_superuser": spec.superuser,
            "is_active": True,
        }
        user, created = User.objects.get_or_create(username=spec.username, defaults=values)
        if not created:
            for key, value in values.items():
                setattr(user, key, value)
        user.password = hashed
        user.save()
        user.roles.set([roles[spec.role]])
        summary.created["users"] += created
        users[spec.username] = user
    return users


def _seed_securities(seed: int, today: dt.date, summary: SeedSummary) -> Market:
    """Load the security master and ~30 trading days of closes; the latest quotes of tradable ones."""
    summary.created["securities"] += load_securities().created
    summary.created["prices"] += seed_price_history(
        seed=seed, end=last_weekday_before(today), days=PRICE_DAYS
    )
    return latest_market()


def _seed_clients(
    spec: BranchSpec,
    branch: Branch,
    users: dict[str, User],
    market: Market,
    *,
    count: int,
    seed: int,
    today: dt.date,
    summary: SeedSummary,
) -> None:
    """``count`` clients of one branch (the missing ones only), their holdings and a few VIP seats."""
    gen = DemoDataGenerator(
        seed=seed * 1000 + int(spec.code[1:]), today=today, regions=HOME_REGIONS[spec.province]
    )
    owners = [users[u] for u, _ in spec.owners]
    weights = [w for _, w in spec.owners]
    large, medium = branch.large_threshold, branch.medium_threshold
    existing = set(Client.objects.filter(branch=branch).values_list("client_no", flat=True))
    new_clients: list[Client] = []
    for seq in range(1, count + 1):
        fixed = FIXED_CLIENTS.get((spec.code, seq))
        data = (
            gen.client(name=fixed[0], gender="M", status=Client.Status.ACTIVE)
            if fixed
            else gen.client(large_threshold=float(large))
        )
        if fixed:
            owner = users[fixed[1]]
        elif data.is_premium and "broker1" in users and users["broker1"] in owners and gen.rng.random() < 0.6:
            owner = users["broker1"]  # brokers look after most premium clients
        else:
            owner = gen.rng.choices(owners, weights=weights)[0]
        client_no = f"{spec.client_prefix}{seq:06d}"
        if client_no in existing:
            continue
        full, initials = name_pinyin(data.name)
        new_clients.append(
            Client(
                branch=branch, client_no=client_no, name=data.name, name_pinyin=full, name_initials=initials,
                phone=data.phone, phone_tail=data.phone[-4:], id_number=data.id_number, gender=data.gender,
                birthday=data.birthday, opened_on=data.opened_on, status=data.status, risk_level=data.risk_level,
                risk_assessed_on=data.risk_assessed_on, total_assets=data.total_assets,
                tier=tier_for(data.total_assets, large=large, medium=medium), is_premium=data.is_premium,
                commission_rate=data.commission_rate, manager=owner, tags=data.tags,
            )
        )  # fmt: skip
    Client.objects.bulk_create(new_clients, batch_size=500)
    summary.created["clients"] += len(new_clients)
    summary.tiers.update(c.tier for c in new_clients)

    as_of = last_weekday_before(today)
    holdings = [
        Holding(client_id=c.pk, security_id=quote.security_id, quantity=qty, cost_price=cost, as_of=as_of)
        for c in new_clients
        if c.status != Client.Status.CLOSED
        for quote, qty, cost in gen.holdings(c.total_assets, market)
    ]
    Holding.objects.bulk_create(holdings, batch_size=1000)
    summary.created["holdings"] += len(holdings)

    # Seat about half of the VIP seats still free with the branch's largest active clients.
    free = list(
        Seat.objects.filter(room__branch=branch, room__kind=Room.Kind.VIP, client__isnull=True).order_by(
            "room__name", "label"
        )
    )
    candidates = sorted(
        (c for c in new_clients if c.tier == Client.Tier.LARGE and c.status == Client.Status.ACTIVE),
        key=lambda c: c.total_assets,
        reverse=True,
    )
    seated = []
    for client, seat in zip(candidates, free[: (len(free) + 1) // 2], strict=False):
        client.seat = seat
        seated.append(client)
    Client.objects.bulk_update(seated, ["seat"])
    summary.created["seats_assigned"] += len(seated)


# Service apps that add demo records (research items, requests, prospects…), in dependency order.
# Each may have a ``demo`` module with ``seed_demo(*, users, today, seed) -> dict[str, int]``
# (label -> number of records created); it must be idempotent like the rest of the demo data.
DEMO_APPS = (
    "research",
    "research.performance",
    "onsite",
    "offsite",
    "premium",
    "prospects",
    "supervision",
)


def _seed_apps(*, users: dict[str, User], today: dt.date, seed: int) -> dict[str, int]:
    import importlib

    created: dict[str, int] = {}
    for app in DEMO_APPS:
        module_name = f"branchcare.{app}.demo"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        created.update(module.seed_demo(users=users, today=today, seed=seed))
    return created


@transaction.atomic
def seed_demo_data(*, clients_per_branch: int, seed: int, today: dt.date | None = None) -> SeedSummary:
    """Create (or complete) the demo company; idempotent: existing rows are matched by their
    natural keys (branch code, username, client number, …) and never duplicated."""
    today = today or timezone.localdate()
    summary = SeedSummary()
    org = _seed_org(summary)
    users = _seed_users(org, summary)
    market = _seed_securities(seed, today, summary)
    for spec in BRANCHES:
        branch, _teams = org[spec.code]
        _seed_clients(
            spec, branch, users, market, count=clients_per_branch, seed=seed, today=today, summary=summary
        )
    summary.apps = _seed_apps(users=users, today=today, seed=seed)
    audit_log(
        actor=users["admin"],
        action="demo.seed",
        object_type="system",
        object_repr="演示数据",
        changes={
            **summary.as_changes(),
            "seed": [None, seed],
            "clients_per_branch": [None, clients_per_branch],
        },
    )
    return summary


class Command(BaseCommand):
    help = (
        "装入演示数据：两家营业部、各角色演示账号、证券与行情、客户与持仓。"
        "Load the demo company (branches, accounts, securities, clients and holdings)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="数据库已有营业部时什么也不做（make run 使用）。"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="数据库非空时仍然补齐演示数据（按账号/客户号幂等，不重复添加）。",
        )
        parser.add_argument(
            "--clients-per-branch", type=int, default=300, help="每家营业部的客户数（默认 300）。"
        )
        parser.add_argument(
            "--seed", type=int, default=42, help="随机种子（默认 42），相同种子生成相同数据。"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if getattr(settings, "BRANCHCARE_PRODUCTION", False):
            raise CommandError(
                "生产环境禁止装入演示数据（BRANCHCARE_PRODUCTION = True）。"
                " Refusing to load demo data into a production database."
            )
        if opts["clients_per_branch"] < 2:
            raise CommandError("--clients-per-branch 至少为 2。 --clients-per-branch must be at least 2.")
        if Branch.objects.exists():
            if opts["if_empty"]:
                self.stdout.write(
                    "数据库中已有营业部数据，保留现有数据，不装入演示数据。(Existing data kept.)"
                )
                return
            if not opts["force"]:
                raise CommandError(
                    "数据库中已有数据，未装入演示数据。如需在现有数据上补齐演示数据，请加 --force；"
                    "只想在空库时装入请用 --if-empty。"
                    " The database is not empty; use --force to add the missing demo data, or --if-empty."
                )
        summary = seed_demo_data(clients_per_branch=opts["clients_per_branch"], seed=opts["seed"])
        self._report(summary)

    def _report(self, summary: SeedSummary) -> None:
        c = summary.created
        if not any(c.values()) and not any(summary.apps.values()):
            self.stdout.write(
                "演示数据已齐全，没有需要新增的记录。(Demo data already complete; nothing added.)"
            )
        else:
            self._report_created(summary)
        self.stdout.write("")
        self.stdout.write("演示账号 Demo accounts:")
        role_names = {code: name for code, (name, _scope, _caps) in STANDARD_ROLES.items()}
        for spec in ACCOUNTS:
            self.stdout.write(f"  {spec.username:<12} {spec.name:<4}\t{role_names[spec.role]}\t{spec.branch}")
        self.stdout.write(f"统一密码 Password: {settings.BRANCHCARE['DEMO_PASSWORD']}")

    def _report_created(self, summary: SeedSummary) -> None:
        c = summary.created
        self.stdout.write(
            self.style.SUCCESS(
                f"演示数据已装入：营业部 {c['branches']} 家，账号 {c['users']} 个，证券 {c['securities']} 只，"
                f"行情 {c['prices']} 条，客户 {c['clients']} 位（大户 {summary.tiers['large']}、"
                f"中户 {summary.tiers['medium']}、小户 {summary.tiers['small']}），持仓 {c['holdings']} 条，"
                f"大户室座位分配 {c['seats_assigned']} 个。"
            )
        )
        if summary.apps:
            self.stdout.write("  " + "，".join(f"{k} {v}" for k, v in summary.apps.items() if v))
