"""Builders for the performance tests (own factories; the shared factories are not edited)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from branchcare.clients.models import Price, Security
from branchcare.org.calendar import trading_days_between
from branchcare.research.models import ResearchItem, ResearchSource
from branchcare.research.performance.services import ensure_benchmark

# Trading days of June–September 2026 (the XSHG calendar; 2026 holidays are known to it).
PUBLISHED = dt.date(2026, 6, 1)  # a Monday and a trading day


def days_from(start: dt.date, count: int) -> list[dt.date]:
    """``count`` trading days from ``start`` (included)."""
    days = trading_days_between(start, start + dt.timedelta(days=count * 2 + 30))
    return days[:count]


def security(code: str = "600519", name: str = "贵州茅台", exchange: str = "SH") -> Security:
    sec, _ = Security.objects.get_or_create(code=code, exchange=exchange, defaults={"name": name})
    return sec


def prices(sec: Security, closes: dict[dt.date, Decimal | float | str]) -> None:
    Price.objects.bulk_create(
        [Price(security=sec, date=d, close=Decimal(str(c))) for d, c in closes.items()],
        update_conflicts=True,
        unique_fields=["security", "date"],
        update_fields=["close"],
    )


def linear(days: list[dt.date], start: float, step: float) -> dict[dt.date, Decimal]:
    """Closes ``start, start+step, …`` on ``days``."""
    return {d: Decimal(str(round(start + i * step, 4))) for i, d in enumerate(days)}


def source(name: str = "营业部研究小组", branch=None, kind: str = ResearchSource.Kind.OWN) -> ResearchSource:
    return ResearchSource.objects.create(name=name, branch=branch, kind=kind)


def recommendation(
    *,
    src: ResearchSource,
    sec: Security,
    author=None,
    direction: str = "buy",
    published_on: dt.date = PUBLISHED,
    target: str | None = None,
    stop: str | None = None,
    horizon_days: int | None = None,
    state: str = ResearchItem.State.PUBLISHED,
    title: str = "推荐",
) -> ResearchItem:
    return ResearchItem.objects.create(
        source=src,
        branch=src.branch,
        kind=ResearchItem.Kind.RECOMMENDATION,
        title=title,
        reason="理由",
        author=author,
        publisher=src.name,
        published_on=published_on,
        security=sec,
        direction=direction,
        target_price=Decimal(target) if target else None,
        stop_loss=Decimal(stop) if stop else None,
        horizon_days=horizon_days,
        state=state,
    )


def market(
    sec: Security, *, start: float = 100.0, step: float = 1.0, bench_step: float = 0.0, count: int = 90
):
    """Closes for ``sec`` and the benchmark on ``count`` trading days from two days before PUBLISHED."""
    days = days_from(PUBLISHED - dt.timedelta(days=3), count)
    prices(sec, linear(days, start, step))
    prices(ensure_benchmark(), linear(days, 4000.0, bench_step))
    return days
