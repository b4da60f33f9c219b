"""行情导入: good files, bad rows rolled back, Chinese / English headers, GBK, xlsx, the command, and the
performance computation it triggers."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from branchcare.clients.models import Price
from branchcare.core import imports
from branchcare.core.models import AuditLog
from branchcare.research.performance import import_specs
from branchcare.research.performance.models import RecommendationOutcome
from branchcare.research.performance.services import ensure_benchmark

from .helpers import PUBLISHED, days_from, recommendation, security, source

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, text: str, name: str = "prices.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(path: Path, world, *, dry_run: bool = False) -> imports.ImportResult:
    spec = imports.get_spec(import_specs.KIND)
    return imports.run_import(
        spec, path, file_name=path.name, branch=world.b1, actor=world["director"], dry_run=dry_run
    )


def test_good_file_creates_updates_and_leaves_equal_closes(world, tmp_path):
    sec = security()
    bench = ensure_benchmark()
    Price.objects.create(security=sec, date=dt.date(2026, 6, 1), close=Decimal("1500"))
    Price.objects.create(security=sec, date=dt.date(2026, 6, 2), close=Decimal("1510"))
    path = write(
        tmp_path,
        "security_code,date,close\n"
        "600519,2026-06-01,1500\n"  # unchanged
        "600519,2026-06-02,1512.5\n"  # corrected
        '600519,2026/06/03,"1,520.00"\n'  # new
        "000300.SH,20260603,3950.12\n",  # new, benchmark with exchange suffix
    )
    result = run(path, world)
    assert result.committed and result.bad_rows == 0
    assert (result.counts.created, result.counts.updated, result.counts.unchanged) == (2, 1, 1)
    assert Price.objects.get(security=sec, date=dt.date(2026, 6, 2)).close == Decimal("1512.5")
    assert Price.objects.get(security=sec, date=dt.date(2026, 6, 3)).close == Decimal("1520")
    assert Price.objects.get(security=bench, date=dt.date(2026, 6, 3)).close == Decimal("3950.12")
    assert AuditLog.objects.filter(action="prices.import").count() == 1


def test_bad_rows_roll_back_everything_and_are_reported_in_chinese(world, tmp_path):
    security()
    security("000001", "平安银行", "SZ")
    security("000001", "上证指数", "SH")
    before = Price.objects.count()
    path = write(
        tmp_path,
        "证券代码,日期,收盘价\n"
        "600519,2026-06-01,1500\n"
        "999999,2026-06-01,10\n"  # unknown code
        "600519,2099-01-01,10\n"  # future
        "600519,2026-06-02,-3\n"  # negative
        "000001,2026-06-02,11\n"  # ambiguous code
        "600519,2026-06-01,1501\n",  # duplicate of line 2
    )
    result = run(path, world)
    assert not result.committed and result.bad_rows == 5
    assert Price.objects.count() == before
    messages = {(e.line, e.column): e.message for e in result.errors}
    assert "不存在" in messages[(3, "证券代码")]
    assert messages[(4, "日期")] == "日期不能晚于今天"
    assert messages[(5, "收盘价")] == "不能小于 0"
    assert "000001.SH" in messages[(6, "证券代码")] and "000001.SZ" in messages[(6, "证券代码")]
    assert "与第 2 行重复" in messages[(7, "日期")]
    assert not AuditLog.objects.filter(action="prices.import").exists()


def test_chinese_headers_in_a_gbk_file(world, tmp_path):
    sec = security()
    path = write(
        tmp_path, "证券代码,日期,收盘价（元）\n600519,2026年6月1日,1500.5\n1,2026-06-01,9\n", encoding="gbk"
    )
    security("000001", "平安银行", "SZ")
    result = run(path, world)
    assert result.committed, result.errors
    assert Price.objects.get(security=sec, date=dt.date(2026, 6, 1)).close == Decimal("1500.5")
    assert Price.objects.filter(security__code="000001", date=dt.date(2026, 6, 1)).exists()


def test_xlsx_file(world, tmp_path):
    sec = security()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["证券代码", "日期", "收盘价"])
    ws.append(["600519", dt.date(2026, 6, 1), 1500.25])
    ws.append([600519, dt.date(2026, 6, 2), 1501])
    buf = io.BytesIO()
    wb.save(buf)
    path = tmp_path / "prices.xlsx"
    path.write_bytes(buf.getvalue())
    result = run(path, world)
    assert result.committed and result.counts.created == 2
    assert Price.objects.filter(security=sec).count() == 2


def test_dry_run_writes_nothing_and_previews_counts(world, tmp_path):
    sec = security()
    Price.objects.create(security=sec, date=dt.date(2026, 6, 1), close=Decimal("1"))
    path = write(tmp_path, "security_code,date,close\n600519,2026-06-01,2\n600519,2026-06-02,3\n")
    result = run(path, world, dry_run=True)
    assert result.dry_run and not result.committed
    assert (result.counts.created, result.counts.updated) == (1, 1)
    assert Price.objects.get(security=sec).close == Decimal("1")


def test_missing_column_refuses_the_file(world, tmp_path):
    path = write(tmp_path, "证券代码,日期\n600519,2026-06-01\n")
    with pytest.raises(imports.ImportFileError, match="收盘价"):
        run(path, world)


def test_import_triggers_the_incremental_computation(world, tmp_path, django_capture_on_commit_callbacks):
    sec = security()
    item = recommendation(src=source(), sec=sec)
    days = days_from(PUBLISHED - dt.timedelta(days=3), 12)
    lines = ["security_code,date,close"]
    for i, d in enumerate(days):
        lines.append(f"600519,{d},{100 + i}")
        lines.append(f"000300.SH,{d},4000")
    path = write(tmp_path, "\n".join(lines) + "\n")
    with django_capture_on_commit_callbacks(execute=True):
        result = run(path, world)
    assert result.committed
    o = RecommendationOutcome.objects.get(item=item)
    assert o.status == "partial" and o.entry_price == Decimal("101") and o.return_5 == Decimal("0.049505")


def test_command_imports_and_dry_run(world, tmp_path, capsys):
    sec = security()
    path = write(tmp_path, "security_code,date,close\n600519,2026-06-01,1500\n")
    call_command("import_prices", str(path), "--dry-run")
    assert not Price.objects.filter(security=sec).exists()
    assert "预检完成" in capsys.readouterr().out
    call_command("import_prices", str(path))
    assert Price.objects.get(security=sec).close == Decimal("1500")


def test_command_refuses_a_file_with_bad_rows(world, tmp_path):
    path = write(tmp_path, "security_code,date,close\n600519,2026-06-01,1500\n123456,2026-06-01,1\n")
    security()
    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command("import_prices", str(path))
    assert not Price.objects.exists()
    with pytest.raises(CommandError):
        call_command("import_prices", str(path), "--skip-invalid")
