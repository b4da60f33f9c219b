"""The security master (证券主数据): loading the bundled list of A-share stocks, ETFs and indexes."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from .models import RiskRating, Security

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
            to_create.append(Security(code=row["code"], exchange=row["exchange"], **{f: row[f] for f in _FIELDS}))
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
