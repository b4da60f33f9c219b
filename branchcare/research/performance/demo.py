"""Demo data of recommendation performance: enough history for the league table to be populated.

``branchcare seed_demo`` gives every security ~30 weekdays of closes. Here the history of the benchmark
(沪深300) and of every recommended security is extended backwards to about seven months (a random walk
run backwards from the earliest stored close, so the series joins up), a set of published stock
recommendations over the last five months is added — by the branch's researcher and consultant, the head
office's institute and an external partner — and finally every outcome is computed. Idempotent: closes
that exist are kept, recommendations are matched by title.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone

from branchcare.clients.models import Price, Security
from branchcare.research.models import ResearchItem, ResearchSource
from branchcare.research.search import index_tokens

from .services import ensure_benchmark, measured_items, outcomes_refresh

HISTORY_DAYS = 215  # calendar days of closes before today
S = ResearchItem.State


@dataclass(frozen=True)
class DemoRec:
    code: str
    direction: str
    days_ago: int
    source: str  # own / head_office / external
    author: str | None  # demo username
    drift: float  # daily drift of the generated history (forward in time)
    reason: str


RECS: tuple[DemoRec, ...] = (
    DemoRec(
        "600519", "buy", 150, "own", "researcher1", 0.004, "高端白酒需求稳健，批价企稳，估值处于近五年低位。"
    ),
    DemoRec("600036", "add", 135, "own", "researcher1", 0.004, "零售银行龙头，息差压力见底，分红率提升。"),
    DemoRec(
        "601318",
        "buy",
        120,
        "head_office",
        None,
        0.0008,
        "寿险新业务价值恢复增长，投资端受益于权益市场回暖。",
    ),
    DemoRec("600276", "buy", 110, "own", "researcher1", 0.004, "创新药管线进入收获期，海外授权带来增量。"),
    DemoRec(
        "600104",
        "reduce",
        100,
        "own",
        "consultant1",
        -0.0012,
        "传统燃油车销量承压，新能源转型投入期利润下滑。",
    ),
    DemoRec("600887", "buy", 95, "external", None, -0.0006, "乳制品原奶成本下行，毛利率改善。"),
    DemoRec("600030", "buy", 90, "head_office", None, 0.0018, "市场成交活跃，投行与财富管理业务回暖。"),
    DemoRec("601398", "hold", 85, "own", "consultant1", 0.0002, "高股息防御品种，资产质量稳定。"),
    DemoRec("600900", "buy", 80, "external", None, 0.0010, "来水偏丰，电价稳定，现金流充沛。"),
    DemoRec("603259", "sell", 75, "own", "consultant1", 0.0009, "海外政策不确定性上升，订单增速放缓。"),
    DemoRec("600690", "add", 70, "own", "researcher1", 0.004, "海外市场份额提升，高端品牌卡萨帝放量。"),
    DemoRec("601127", "buy", 60, "head_office", None, -0.0020, "新车型上市后订单饱满，产能爬坡。"),
    DemoRec("600436", "buy", 45, "external", None, 0.0005, "品牌稀缺，提价周期开启。"),
    DemoRec("600660", "buy", 30, "own", "researcher1", 0.004, "汽车玻璃全球份额提升，海外工厂盈利改善。"),
    DemoRec("601688", "add", 12, "head_office", None, 0.0010, "财富管理转型成效显著，估值修复空间大。"),
)

SOURCES = {
    "own": (ResearchSource.Kind.OWN, "营业部研究小组", ""),
    "head_office": (ResearchSource.Kind.HEAD_OFFICE, "总部研究所", ""),
    "external": (ResearchSource.Kind.EXTERNAL, "华东财经大学金融研究中心", "ZX-2024-0317"),
}


def _weekdays_back(first: dt.date, start: dt.date) -> list[dt.date]:
    """Weekdays strictly before ``first`` down to ``start``, newest first."""
    days = []
    day = first - dt.timedelta(days=1)
    while day >= start:
        if day.weekday() < 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    return days


def _extend_history(security: Security, *, start: dt.date, drift: float, seed: int) -> int:
    """Prepend weekday closes down to ``start`` by walking backwards from the earliest stored close."""
    first = Price.objects.filter(security=security).order_by("date").values_list("date", "close").first()
    if first is None:
        return 0
    day0, close0 = first
    if day0 <= start:
        return 0
    rng = random.Random(f"{seed}:{security.code}:{security.exchange}:performance")
    vol = 0.009 if security.kind == Security.Kind.INDEX else 0.015
    places = Decimal("0.001") if security.kind in (Security.Kind.ETF, Security.Kind.FUND) else Decimal("0.01")
    close = float(close0)
    rows = []
    for day in _weekdays_back(day0, start):
        step = rng.gauss(drift, vol)
        close = max(close / (1 + step), 0.5)
        rows.append(
            Price(
                security=security,
                date=day,
                close=Decimal(str(close)).quantize(places, rounding=ROUND_HALF_UP),
            )
        )
    Price.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(rows)


def _source(key: str, users: dict[str, Any], today: dt.date) -> ResearchSource:
    kind, name, licence = SOURCES[key]
    director = users.get("director")
    branch = getattr(director, "branch", None) if kind == ResearchSource.Kind.OWN else None
    # Reuse a source the research demo made (same kind, and branch for the branch's own analysts).
    existing = ResearchSource.objects.filter(name=name).first()
    if existing is None:
        candidates = ResearchSource.objects.filter(kind=kind, active=True).order_by("pk")
        if kind == ResearchSource.Kind.OWN:
            candidates = candidates.filter(branch=branch)
        existing = next((c for c in candidates if c.is_valid_on(today)), None)
    if existing:
        return existing
    return ResearchSource.objects.create(
        kind=kind,
        name=name,
        branch=branch,
        licence_no=licence,
        contract_start=today - dt.timedelta(days=400) if licence else None,
        contract_end=today + dt.timedelta(days=330) if licence else None,
    )


def _close_on_or_before(security: Security, day: dt.date) -> Decimal | None:
    return (
        Price.objects.filter(security=security, date__lte=day)
        .order_by("-date")
        .values_list("close", flat=True)
        .first()
    )


def _weekday_before(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def seed_demo(*, users: dict[str, Any], today: dt.date, seed: int) -> dict[str, int]:
    """Benchmark and recommendation history, demo recommendations, and every outcome computed."""
    bench = ensure_benchmark()
    start = today - dt.timedelta(days=HISTORY_DAYS)
    prices = _extend_history(bench, start=start, drift=0.0003, seed=seed)
    securities = {s.code: s for s in Security.objects.filter(code__in=[r.code for r in RECS], kind="stock")}
    for rec in RECS:
        if rec.code in securities:
            prices += _extend_history(securities[rec.code], start=start, drift=rec.drift, seed=seed)
    # Securities recommended by the research demo (or by hand) get the history too.
    for sec in Security.objects.filter(pk__in=measured_items().values("security_id")).exclude(
        code__in=list(securities)
    ):
        prices += _extend_history(sec, start=start, drift=0.0, seed=seed)

    reviewer = users.get("compliance1")
    created = 0
    for rec in RECS:
        found = securities.get(rec.code)
        if found is None:
            continue
        sec = found
        published = _weekday_before(today - dt.timedelta(days=rec.days_ago))
        direction = ResearchItem.Direction(rec.direction)
        title = f"{direction.label}：{sec.name}（{sec.code}）"
        if ResearchItem.objects.filter(title=title, kind=ResearchItem.Kind.RECOMMENDATION).exists():
            continue
        entry = _close_on_or_before(sec, published)
        if entry is None:
            continue
        up, down = (Decimal("1.10"), Decimal("0.92"))
        inverted = rec.direction in ("reduce", "sell")
        target = (entry * (2 - up) if inverted else entry * up).quantize(Decimal("0.01"))
        stop = (entry * (2 - down) if inverted else entry * down).quantize(Decimal("0.01"))
        source = _source(rec.source, users, today)
        author = users.get(rec.author) if rec.author else None
        published_at = timezone.make_aware(dt.datetime.combine(published, dt.time(9, 0)))
        item = ResearchItem.objects.create(
            source=source,
            branch=source.branch,
            kind=ResearchItem.Kind.RECOMMENDATION,
            title=title,
            summary=rec.reason,
            body=rec.reason,
            reason=rec.reason,
            author=author,
            publisher=source.name,
            published_on=published,
            published_at=published_at,
            risk_rating=sec.risk_rating,
            industries=[sec.industry] if sec.industry else [],
            industry_tags=f"|{sec.industry}|" if sec.industry else "",
            security=sec,
            direction=rec.direction,
            target_price=target,
            stop_loss=stop,
            horizon_days=90,
            state=S.PUBLISHED,
            state_changed_at=published_at,
            expires_on=published + dt.timedelta(days=90),
            submitted_at=published_at,
            reviewed_by=reviewer,
            reviewed_at=published_at,
            review_decision="approve",
            created_by=author,
            search_text=index_tokens(title, rec.reason, f"{sec.code} {sec.name}", sec.industry),
        )
        item.securities.add(sec)
        created += 1
    computed = outcomes_refresh(full=True).computed if (prices or created) else 0
    return {
        "performance_prices": prices,
        "performance_recommendations": created,
        "performance_outcomes": computed,
    }
