"""行情导入 (daily closes) as a declaration on the core import framework.

Columns ``security_code`` / ``date`` / ``close`` (or 证券代码 / 日期 / 收盘价). The code may carry its
exchange (``600519.SH``, ``SH600519``); a bare code that names two securities (``000001`` is both 平安银行
and 上证指数) must carry it. Unknown codes, future dates and closes that are not positive are row errors;
nothing is written unless every row is good (the price pages offer no "skip bad rows").

The commit upserts into ``clients.Price`` (one row per security and date: a new close is created, a
different close updated, an equal one left alone) and, once the transaction has committed, queues the
incremental performance computation for the securities and dates written.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branchcare.clients.models import Price, Security
from branchcare.core import imports
from branchcare.core.imports import (
    CellError,
    Column,
    Counts,
    ImportSpec,
    Row,
    clean_text,
    parse_date,
    parse_decimal,
)

KIND = "prices"
_CODE = re.compile(r"(?:(SH|SZ|BJ)\.?)?([0-9A-Z]{1,6})(?:\.(SH|SZ|BJ|SS))?")


def parse_price_code(value: Any) -> tuple[str, str]:
    """``(code, exchange or "")`` from ``600519``, ``1`` (Excel dropped the zeros: ``000001``),
    ``000300.SH`` or ``SH000300``."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool):
        raise CellError(_("证券代码应为 6 位数字"))
    text = clean_text(value).upper().replace(" ", "")
    m = _CODE.fullmatch(text)
    if not m:
        raise CellError(_("证券代码应为 6 位数字，可写成 600519.SH"))
    code = m[2]
    if code.isdigit() and len(code) < 6:
        code = code.zfill(6)
    if len(code) != 6:
        raise CellError(_("证券代码应为 6 位数字，可写成 600519.SH"))
    return code, (m[1] or m[3] or "").replace("SS", "SH")


def _lookup_batch() -> int:
    return 900 if connection.vendor == "sqlite" else 5000


@dataclass
class PriceImportContext:
    actor: Any
    securities: dict[str, list[tuple[int, str]]]  # code -> [(pk, exchange)]
    created: int = 0
    updated: int = 0
    changed: dict[int, dt.date] = field(default_factory=dict)  # security id -> earliest date written


class PriceImportSpec(ImportSpec):
    """行情导入: one close per security and trading day, upserted into ``clients.Price``."""

    kind = KIND
    label = gettext_lazy("行情")
    audit_action = "prices.import"
    unique_together = ("security_code", "date")
    count_labels = {
        "created": gettext_lazy("新增行情"),
        "updated": gettext_lazy("更正行情"),
        "unchanged": gettext_lazy("未变"),
    }
    columns = (
        Column(
            "security_code",
            gettext_lazy("证券代码"),
            english="security_code",
            aliases=("代码", "股票代码", "指数代码", "code"),
            required=True,
            allow_blank=False,
            parse=parse_price_code,
            example="600519",
            text_format=True,
            help=gettext_lazy(
                "须为系统中已有的证券或指数（沪深300 为 000300）；同一代码对应多个证券时写成 000001.SZ"
            ),
        ),
        Column(
            "date",
            gettext_lazy("日期"),
            english="date",
            aliases=("交易日期", "trade_date"),
            required=True,
            allow_blank=False,
            parse=parse_date,
            example="2026-11-25",
            help=gettext_lazy("交易日，不能晚于今天"),
        ),
        Column(
            "close",
            gettext_lazy("收盘价"),
            english="close",
            aliases=("收盘", "收盘点位", "close_price"),
            required=True,
            allow_blank=False,
            parse=parse_decimal(max_digits=14, places=4, min_value=0),
            example="1,650.50",
            help=gettext_lazy("大于 0；指数填收盘点位"),
        ),
    )

    def prepare(self, *, branch: Any, actor: Any, present: frozenset[str]) -> PriceImportContext:
        securities: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for pk, code, exchange in Security.objects.values_list("pk", "code", "exchange"):
            securities[code].append((pk, exchange))
        return PriceImportContext(actor=actor, securities=dict(securities))

    def check_batch(self, rows: list[Row], ctx: PriceImportContext) -> None:
        today = timezone.localdate()
        for row in rows:
            values = row.values
            code, exchange = values["security_code"]
            known = ctx.securities.get(code, [])
            if exchange:
                match = next((pk for pk, ex in known if ex == exchange), None)
            else:
                match = known[0][0] if len(known) == 1 else None
            if match is None:
                if not known:
                    row.error(
                        "security_code",
                        _("证券代码 %(code)s 不存在，请先在证券主数据中添加") % {"code": code},
                    )
                elif exchange:
                    row.error(
                        "security_code",
                        _("证券代码 %(code)s 在 %(ex)s 不存在") % {"code": code, "ex": exchange},
                    )
                else:
                    options = "、".join(f"{code}.{ex}" for _pk, ex in sorted(known, key=lambda k: k[1]))
                    row.error(
                        "security_code",
                        _("证券代码 %(code)s 对应多个证券，请写成 %(options)s")
                        % {"code": code, "options": options},
                    )
            else:
                values["security_id"] = match
            if values["date"] > today:
                row.error("date", _("日期不能晚于今天"))
            if values["close"] is not None and values["close"] <= 0:
                row.error("close", _("收盘价必须大于 0"))

    def preview_counts(self, batches: Iterable[list[dict[str, Any]]], ctx: PriceImportContext) -> Counts:
        counts = Counts()
        for records in batches:
            existing = _existing(records)
            for rec in records:
                old = existing.get((rec["security_id"], rec["date"]))
                if old is None:
                    counts.created += 1
                elif old != rec["close"]:
                    counts.updated += 1
                else:
                    counts.unchanged += 1
        return counts

    def commit(self, batches: Iterable[list[dict[str, Any]]], ctx: PriceImportContext) -> Counts:
        """Upsert the closes (see :func:`prices_import_commit`)."""
        return prices_import_commit(batches=batches, ctx=ctx)


def _existing(records: list[dict[str, Any]]) -> dict[tuple[int, dt.date], Decimal]:
    """The stored closes of the (security, date) pairs in ``records``."""
    by_security: dict[int, set[dt.date]] = defaultdict(set)
    for rec in records:
        by_security[rec["security_id"]].add(rec["date"])
    found: dict[tuple[int, dt.date], Decimal] = {}
    ids = sorted(by_security)
    dates = sorted({d for ds in by_security.values() for d in ds})
    step = _lookup_batch()
    for i in range(0, len(ids), step):
        part = ids[i : i + step]
        for j in range(0, len(dates), step):
            for sid, day, close in Price.objects.filter(
                security_id__in=part, date__in=dates[j : j + step]
            ).values_list("security_id", "date", "close"):
                if day in by_security[sid]:
                    found[(sid, day)] = close
    return found


def prices_import_commit(*, batches: Iterable[list[dict[str, Any]]], ctx: PriceImportContext) -> Counts:
    """Write the closes; call inside ``transaction.atomic`` (the import framework does, together with the
    ``prices.import`` audit record). Per batch: read the stored closes of the batch's pairs, then one
    ``INSERT … ON CONFLICT (security, date) DO UPDATE`` for the new and the different ones. After commit the
    incremental performance computation is queued with the securities and earliest dates written."""
    counts = Counts()
    for records in batches:
        existing = _existing(records)
        write: list[Price] = []
        for rec in records:
            key = (rec["security_id"], rec["date"])
            old = existing.get(key)
            if old is not None and old == rec["close"]:
                counts.unchanged += 1
                continue
            if old is None:
                counts.created += 1
            else:
                counts.updated += 1
            write.append(Price(security_id=key[0], date=key[1], close=rec["close"]))
            first = ctx.changed.get(key[0])
            if first is None or key[1] < first:
                ctx.changed[key[0]] = key[1]
        if write:
            Price.objects.bulk_create(
                write,
                batch_size=1000,
                update_conflicts=True,
                unique_fields=["security", "date"],
                update_fields=["close"],
            )
    if ctx.changed:
        changed = {str(k): v.isoformat() for k, v in ctx.changed.items()}
        actor_id = getattr(ctx.actor, "pk", None)

        def queue() -> None:
            from .tasks import refresh_outcomes_task

            refresh_outcomes_task(changed, actor_id)

        transaction.on_commit(queue)
    return counts


imports.register(PriceImportSpec())
