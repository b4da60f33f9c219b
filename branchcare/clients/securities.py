"""The security master (证券主数据): loading the bundled list of A-share stocks, ETFs and indexes."""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from .demo_data import Market, MarketQuote, base_price, price_decimals, price_walk, trading_days
from .models import Price, RiskRating, Security

SECURITIES_CSV = Path(__file__).resolve().parent / "data" / "securities.csv"

_FIELDS = ("name", "kind", "risk_rating", "industry")


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def read_securities_csv(path: Path | str | None = None) -> list[dict[str, str]]:
    """The rows of the securities CSV (``code,exchange,name,kind,risk_rating,industry``), validated.

    Raises ``ValueError`` naming the line of the first malformed row."""
    path = Path(path) if path else SECURITIES_CSV
    rows: list[dict[str, str]] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for lineno, raw in enumerate(csv.DictReader(fh), start=2):
            row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
            if not row.get("code") or not row.get("name"):
                raise ValueError(f"{path.name} 第 {lineno} 行：证券代码和名称不能为空")
            if row.get("exchange") not in Security.Exchange.values:
                raise ValueError(f"{path.name} 第 {lineno} 行：未知交易所 {row.get('exchange')!r}")
            if row.get("kind") not in Security.Kind.values:
                raise ValueError(f"{path.name} 第 {lineno} 行：未知证券类别 {row.get('kind')!r}")
            if row.get("risk_rating") not in RiskRating.values:
                raise ValueError(f"{path.name} 第 {lineno} 行：未知风险等级 {row.get('risk_rating')!r}")
            rows.append(row)
    return rows


@transaction.atomic
def load_securities(path: Path | str | None = None) -> LoadResult:
    """Upsert the security master from ``path`` (default: the bundled ``data/securities.csv``).

    Rows are matched on (code, exchange): new ones are inserted, changed ones updated, the rest left
    alone, so running it again is harmless. Securities not in the file are kept (holdings may point
    at them). Three queries whatever the size of the file."""
    rows = read_securities_csv(path)
    existing = {(s.code, s.exchange): s for s in Security.objects.all()}
    to_create: list[Security] = []
    to_update: list[Security] = []
    unchanged = 0
    seen: set[tuple[str, str]] = set()
    for row in rows:
        key = (row["code"], row["exchange"])
        if key in seen:
            continue
        seen.add(key)
        current = existing.get(key)
        if current is None:
            to_create.append(
                Security(code=row["code"], exchange=row["exchange"], **{f: row[f] for f in _FIELDS})
            )
        elif any(getattr(current, f) != row[f] for f in _FIELDS):
            for f in _FIELDS:
                setattr(current, f, row[f])
            to_update.append(current)
        else:
            unchanged += 1
    Security.objects.bulk_create(to_create, batch_size=500)
    if to_update:
        Security.objects.bulk_update(to_update, list(_FIELDS), batch_size=500)
    return LoadResult(created=len(to_create), updated=len(to_update), unchanged=unchanged)


@transaction.atomic
def seed_price_history(*, seed: int, end: dt.date, days: int = 30) -> int:
    """Demo closes for every security over the ``days`` weekdays ending at ``end``; returns rows added.

    Each security's closes are a random walk from a realistic base price, seeded by ``seed`` and the
    code, so a rerun produces the same series; days that already have a close are left alone."""
    dates = trading_days(end, days)
    securities = list(Security.objects.all())
    rows: list[Price] = []
    for sec in securities:
        rng = random.Random(f"{seed}:{sec.code}:{sec.exchange}")
        walk = price_walk(rng, code=sec.code, kind=sec.kind, industry=sec.industry, days=len(dates))
        rows.extend(
            Price(security=sec, date=day, close=close) for day, close in zip(dates, walk, strict=True)
        )
    before = Price.objects.count()
    Price.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return Price.objects.count() - before


def latest_market() -> Market:
    """The latest close of every tradable security (indexes excluded), for generating holdings.

    A security without any close gets its demo base price."""
    closes: dict[int, Decimal] = {}
    for security_id, close in Price.objects.order_by("security_id", "date").values_list(
        "security_id", "close"
    ):
        closes[security_id] = close  # the last one per security wins
    quotes = []
    for sec in Security.objects.exclude(kind=Security.Kind.INDEX):
        close = closes.get(sec.pk) or Decimal(f"{base_price(sec.code):.{price_decimals(sec.kind)}f}")
        quotes.append(MarketQuote(sec.pk, close, price_decimals(sec.kind)))
    return Market(quotes)
