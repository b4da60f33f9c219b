"""The generic import framework: readers, normalisers, header mapping, the runner and the hostile corpus.

A toy spec with no domain knowledge stands in for the real imports."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.test import override_settings

from branchcare.core import imports
from branchcare.core.errors import DomainError
from branchcare.core.imports import (
    CellError,
    Column,
    Counts,
    ImportFileError,
    ImportSpec,
    RowError,
    clean_text,
    norm_header,
    parse_bool,
    parse_code,
    parse_date,
    parse_decimal,
    parse_int,
    parse_text,
    run_import,
)
from branchcare.core.models import AuditLog, ImportJob


class ToySpec(ImportSpec):
    kind = "toy"
    label = "玩具"
    audit_action = "toy.import"
    unique_together = ("code",)
    columns = (
        Column("code", "代码", english="code", required=True, allow_blank=False, parse=parse_code(6)),
        Column("name", "名称", english="name", required=True, parse=parse_text(max_length=20), default=""),
        Column("amount", "金额", english="amount", parse=parse_decimal(max_digits=16, places=2)),
        Column("day", "日期", english="day", parse=parse_date),
        Column("flag", "标志", english="flag", parse=parse_bool, default=False),
        Column("qty", "数量", english="qty", parse=parse_int(min_value=0)),
    )

    def __init__(self) -> None:
        self.written: list[dict] = []
        self.commits = 0

    def prepare(self, *, branch, actor, present):
        return {"present": present}

    def commit(self, batches, ctx):
        self.commits += 1
        for batch in batches:
            self.written.extend(batch)
        return Counts(created=len(self.written))


@pytest.fixture
def spec():
    toy = ToySpec()
    imports.register(toy)
    yield toy
    imports._registry.pop("toy", None)


def write(tmp_path: Path, name: str, data: bytes | str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def make_xlsx(
    tmp_path: Path, rows: list[list], name: str = "data.xlsx", text_cols: tuple[int, ...] = ()
) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    for col in text_cols:
        for row in ws.iter_rows(min_col=col, max_col=col):
            for cell in row:
                cell.data_type = "s"
    path = tmp_path / name
    wb.save(path)
    return path


def run(spec, path, *, name=None, **kw):
    return run_import(spec, path, file_name=name or Path(path).name, branch=None, actor=None, **kw)


def refused(spec, path, *, name=None) -> str:
    before = AuditLog.objects.count()
    with pytest.raises(ImportFileError) as exc:
        run(spec, path, name=name)
    assert spec.written == [] and spec.commits == 0
    assert AuditLog.objects.count() == before
    return exc.value.message


# --- normalisers -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("2026-11-25", dt.date(2026, 11, 25)),
        ("2026/11/25", dt.date(2026, 11, 25)),
        ("2026.11.25", dt.date(2026, 11, 25)),
        ("20261125", dt.date(2026, 11, 25)),
        ("2026年11月25日", dt.date(2026, 11, 25)),
        ("２０２６年１１月２５日", dt.date(2026, 11, 25)),
        ("2026-1-5", dt.date(2026, 1, 5)),
        ("2026-11-25 00:00:00", dt.date(2026, 11, 25)),
        ("46351", dt.date(2026, 11, 25)),
        (46351, dt.date(2026, 11, 25)),
        (46351.5, dt.date(2026, 11, 25)),
        (45658, dt.date(2025, 1, 1)),
        (20261125, dt.date(2026, 11, 25)),
        (dt.datetime(2026, 11, 25, 9, 30), dt.date(2026, 11, 25)),
        (dt.date(2026, 11, 25), dt.date(2026, 11, 25)),
    ],
)
def test_parse_date_accepts_what_exports_contain(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["2026-02-30", "下周一", "11/25/2026", "1800-01-01", True, "0"])
def test_parse_date_refuses_nonsense_with_chinese_reason(raw):
    with pytest.raises(CellError) as exc:
        parse_date(raw)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message)


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("1,234,567.89", Decimal("1234567.89")),
        ("１，２３４.５", Decimal("1234.50")),
        (" 1 000 ", Decimal("1000.00")),
        ("¥1,000元", Decimal("1000.00")),
        ("(1,000.5)", Decimal("-1000.50")),
        (1234.565, Decimal("1234.57")),
        (10, Decimal("10.00")),
    ],
)
def test_parse_decimal_thousands_fullwidth_rounding(raw, expected):
    assert parse_decimal(max_digits=16, places=2)(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "1.2.3", "NaN", "Infinity", "1e400", float("nan")])
def test_parse_decimal_refuses(raw):
    with pytest.raises(CellError):
        parse_decimal(max_digits=16, places=2)(raw)


def test_parse_decimal_bounds():
    parse = parse_decimal(max_digits=6, places=2, min_value=0)
    assert parse("9999.99") == Decimal("9999.99")
    with pytest.raises(CellError, match="数值过大"):
        parse("10000")
    with pytest.raises(CellError, match="不能小于"):
        parse("-1")


def test_parse_int():
    parse = parse_int(min_value=0)
    assert parse("1,000") == 1000
    assert parse(1000.0) == 1000
    with pytest.raises(CellError, match="整数"):
        parse("10.5")
    with pytest.raises(CellError, match="不能小于"):
        parse("-3")


@pytest.mark.parametrize(
    "raw,expected",
    [
        (1, "000001"),
        (1.0, "000001"),
        ("1", "000001"),
        ("600519", "600519"),
        ("０００００１", "000001"),
        ("hk700", "HK700"),
    ],
)
def test_parse_code_restores_leading_zeros(raw, expected):
    assert parse_code(6)(raw) == expected


@pytest.mark.parametrize(
    "raw,expected",
    [("是", True), ("否", False), ("Y", True), ("no", False), (True, True), ("１", True), (" √ ", True)],
)
def test_parse_bool(raw, expected):
    assert parse_bool(raw) is expected


def test_parse_bool_refuses():
    with pytest.raises(CellError, match="是.*否"):
        parse_bool("也许")


def test_clean_text_nfkc_and_spaces():
    assert clean_text("\u3000ＡＢＣ１２３\u200b ") == "ABC123"
    assert clean_text(31000001.0) == "31000001"
    assert clean_text(None) == ""
    assert clean_text(dt.datetime(2026, 11, 25)) == "2026-11-25"


def test_parse_text_keeps_formula_text_and_limits_length():
    assert parse_text()("=cmd|' /C calc'!A0") == "=cmd|' /C calc'!A0"
    with pytest.raises(CellError, match="长度超过 3"):
        parse_text(max_length=3)("abcd")


@pytest.mark.parametrize(
    "raw",
    [
        "客户号",
        " 客户号 ",
        "客户号（必填）",
        "*客户号",
        "ＣＬＩＥＮＴ＿ＮＯ",
        "Client No",
        "client-no",
        "CLIENT_NO",
    ],
)
def test_norm_header_tolerates_case_spaces_units(raw):
    assert norm_header(raw) in {"客户号", "clientno"}


# --- readers -----------------------------------------------------------------------------------------------

CSV_TEXT = (
    '代码,名称,金额,日期,标志\n000001,平安银行,"1,234.50",2026/11/25,是\n600519,贵州茅台,2000,20261125,否\n'
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_csv_encodings_read_the_same(spec, db, tmp_path, encoding):
    path = write(tmp_path, "data.csv", CSV_TEXT, encoding)
    result = run(spec, path)
    assert result.errors == []
    assert result.committed and result.counts.created == 2
    assert spec.written[0] == {
        "code": "000001",
        "name": "平安银行",
        "amount": Decimal("1234.50"),
        "day": dt.date(2026, 11, 25),
        "flag": True,
    }
    assert spec.written[1]["name"] == "贵州茅台"


def test_tab_separated_txt(spec, db, tmp_path):
    path = write(tmp_path, "data.txt", "code\tname\n1\tA\n")
    run(spec, path)
    assert spec.written == [{"code": "000001", "name": "A"}]


def test_xlsx_typed_cells_english_headers_title_row(spec, db, tmp_path):
    path = make_xlsx(
        tmp_path,
        [
            ["客户持仓导出 2026-11-25"],
            [],
            ["Code", " NAME ", "Amount", "Day", "flag", "Remark"],
            [1, "Ａ股", 1234567.891, dt.datetime(2026, 11, 25), "是", "ignored"],
            [None, None, None, None, None],
            ["000002", "B", "1,000", 46351, False, None],
        ],
    )
    result = run(spec, path)
    assert result.errors == [] and result.total_rows == 2
    assert result.ignored_columns == ["Remark"]
    assert spec.written == [
        {
            "code": "000001",
            "name": "A股",
            "amount": Decimal("1234567.89"),
            "day": dt.date(2026, 11, 25),
            "flag": True,
        },
        {
            "code": "000002",
            "name": "B",
            "amount": Decimal("1000.00"),
            "day": dt.date(2026, 11, 25),
            "flag": False,
        },
    ]


def test_row_errors_name_excel_line_header_as_in_file_and_reason(spec, db, tmp_path):
    path = make_xlsx(
        tmp_path,
        [
            ["代码", "名称", "金额（元）", "日期"],
            ["000001", "A", "100", "2026-11-25"],
            ["000002", "B", "一百", "2026-11-25"],
            ["", "C", "1", "2026-13-01"],
            ["000001", "D", "1", "2026-11-25"],
        ],
    )
    before = AuditLog.objects.count()
    result = run(spec, path)
    assert not result.committed and spec.commits == 0 and spec.written == []
    assert AuditLog.objects.count() == before
    assert result.bad_rows == 3 and result.total_rows == 4
    assert result.errors == [
        RowError(3, "金额（元）", "一百", "不是有效的数字"),
        RowError(4, "代码", "", "不能为空"),
        RowError(4, "日期", "2026-13-01", "日期不存在"),
        RowError(5, "代码", "000001", "与第 2 行重复"),
    ]
    assert "发现 3 行错误，未写入任何数据" in result.summary(spec)


def test_skip_invalid_commits_the_good_rows(spec, db, tmp_path):
    path = write(tmp_path, "d.csv", "代码,名称\n1,A\n2,名字太长了超过二十个字符啊啊啊啊啊啊啊啊啊啊\n3,C\n")
    result = run(spec, path, skip_invalid=True)
    assert result.committed and result.bad_rows == 1
    assert [r["code"] for r in spec.written] == ["000001", "000003"]
    log = AuditLog.objects.get(action="toy.import")
    assert log.object_type == "file" and log.changes["skipped_rows"] == 1 and log.changes["rows"] == 3


def test_dry_run_writes_nothing(spec, db, tmp_path):
    path = write(tmp_path, "d.csv", "代码,名称\n1,A\n")
    result = run(spec, path, dry_run=True)
    assert result.dry_run and not result.committed and spec.commits == 0
    assert not AuditLog.objects.exists()
    assert "预检完成" in result.summary(spec)


def test_formula_cells_are_text_never_evaluated(spec, db, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["代码", "名称"])
    ws.append(["000001", "=cmd|' /C calc'!A0"])
    ws.append(["000002", "=1+2"])
    ws.append(["000003", "@SUM(A1)"])
    path = tmp_path / "f.xlsx"
    wb.save(path)
    run(spec, path)
    assert [r["name"] for r in spec.written] == ["=cmd|' /C calc'!A0", "=1+2", "@SUM(A1)"]


def test_missing_required_column_names_it_in_chinese_and_english(spec, db, tmp_path):
    message = refused(spec, write(tmp_path, "d.csv", "代码,金额\n1,2\n"))
    assert message == "缺少必需的列：名称（name）。"


def test_column_given_twice_is_refused(spec, db, tmp_path):
    assert "都表示" in refused(spec, write(tmp_path, "d.csv", "代码,code,名称\n1,1,a\n"))


# --- hostile corpus ----------------------------------------------------------------------------------------


def test_empty_file(spec, db, tmp_path):
    assert refused(spec, write(tmp_path, "d.csv", b"")) == "文件为空。"


def test_blank_lines_only(spec, db, tmp_path):
    assert "没有任何内容" in refused(spec, write(tmp_path, "d.csv", "\n \n,,\n"))


def test_header_only(spec, db, tmp_path):
    assert "没有数据行" in refused(spec, write(tmp_path, "d.csv", "代码,名称\n"))
    assert "没有数据行" in refused(spec, make_xlsx(tmp_path, [["代码", "名称"]]))


@pytest.mark.parametrize("name", ["garbage.xlsx", "garbage.csv"])
def test_binary_garbage(spec, db, tmp_path, name):
    data = bytes(range(256)) * 64
    message = refused(spec, write(tmp_path, name, data))
    assert "不是 Excel" in message or "无法识别" in message


def test_text_renamed_to_xlsx(spec, db, tmp_path):
    assert "内容不是 Excel" in refused(spec, write(tmp_path, "d.xlsx", CSV_TEXT))


def test_undecodable_text(spec, db, tmp_path):
    # Valid neither as UTF-8 nor as GB18030 (0x80 / 0xFF are never lead bytes there).
    assert "编码" in refused(spec, write(tmp_path, "d.csv", b"code,name\n1,\x80\xff\x80\xff\n"))


def test_old_xls_and_unknown_extension(spec, db, tmp_path):
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
    assert ".xls" in refused(spec, write(tmp_path, "d.xlsx", ole))
    assert "不支持的文件类型" in refused(spec, write(tmp_path, "d.pdf", CSV_TEXT))


def test_zip_that_is_not_a_workbook(spec, db, tmp_path):
    path = tmp_path / "d.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert "不是 Excel 工作簿" in refused(spec, path)


def test_corrupt_workbook(spec, db, tmp_path):
    path = tmp_path / "d.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<not-a-workbook")
    assert "已损坏" in refused(spec, path)


def test_too_big(spec, db, tmp_path):
    path = write(tmp_path, "d.csv", CSV_TEXT)
    with override_settings(BRANCHCARE={**settings.BRANCHCARE, "IMPORT_MAX_BYTES": 50}):
        assert "文件过大" in refused(spec, path)


def test_too_many_rows(spec, db, tmp_path):
    body = "代码,名称\n" + "".join(f"{i},n{i}\n" for i in range(1, 8))
    with override_settings(BRANCHCARE={**settings.BRANCHCARE, "IMPORT_MAX_ROWS": 5}):
        assert "超过上限（5 行）" in refused(spec, write(tmp_path, "d.csv", body))
        xlsx = make_xlsx(tmp_path, [["代码", "名称"]] + [[i, f"n{i}"] for i in range(1, 8)])
        assert "超过上限（5 行）" in refused(spec, xlsx)


def _bomb(tmp_path: Path, megabytes: int) -> Path:
    """A real workbook whose sheet is followed by a member of ``megabytes`` MB of zeros, streamed."""
    good = make_xlsx(tmp_path, [["代码", "名称"], [1, "a"]], name="good.xlsx")
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        chunk = b"\0" * (1 << 20)
        with dst.open("xl/media/padding.bin", "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(chunk)
    return path


def test_zip_bomb_by_ratio(spec, db, tmp_path):
    path = _bomb(tmp_path, 64)
    assert path.stat().st_size < 1 << 20
    assert "压缩炸弹" in refused(spec, path)


def test_zip_bomb_by_total_size(spec, db, tmp_path):
    path = _bomb(tmp_path, 3)
    with override_settings(
        BRANCHCARE={**settings.BRANCHCARE, "XLSX_MAX_UNCOMPRESSED_BYTES": 2 << 20, "XLSX_MAX_RATIO": 10**6}
    ):
        assert "解压后过大" in refused(spec, path)


def _with_member(tmp_path: Path, member: str, transform) -> Path:
    good = make_xlsx(tmp_path, [["代码", "名称"], [1, "a"]], name="base.xlsx")
    path = tmp_path / "evil.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, transform(data) if info.filename == member else data)
    return path


LOL = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n'
)


def test_xml_entity_bomb_refused_before_parsing(spec, db, tmp_path):
    def inject(data: bytes) -> bytes:
        assert b"<t>a</t>" in data
        return LOL + data.replace(b"<t>a</t>", b"<t>&lol3;</t>")

    path = _with_member(tmp_path, "xl/worksheets/sheet1.xml", inject)
    assert "不安全的 XML" in refused(spec, path)


def test_xml_entity_bomb_behind_padding_is_caught_by_defusedxml(spec, db, tmp_path):
    # A DTD pushed past the pre-scan window by a long comment still never expands: openpyxl parses with
    # defusedxml, which refuses entity declarations.
    def inject(data: bytes) -> bytes:
        padding = b"<!--" + b"x" * 70_000 + b"-->\n"
        body = data.replace(b"<t>a</t>", b"<t>&lol3;</t>")
        return b'<?xml version="1.0"?>\n' + padding + LOL.split(b"\n", 1)[1] + body

    path = _with_member(tmp_path, "xl/worksheets/sheet1.xml", inject)
    assert "不安全的 XML" in refused(spec, path)


def test_huge_csv_field_is_a_file_error(spec, db, tmp_path):
    path = write(tmp_path, "d.csv", "代码,名称\n1," + "x" * 200_000 + "\n")
    assert "CSV 格式错误" in refused(spec, path)


# --- reports, templates, registry, jobs --------------------------------------------------------------------


def test_error_report_neutralises_formulas():
    data = imports.error_report_xlsx(
        [RowError(3, "名称", "=cmd|' /C calc'!A0", "不能为空"), [4, "代码", "", "x"]]
    )
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("行号", "列", "值", "原因")
    assert rows[1] == (3, "名称", "'=cmd|' /C calc'!A0", "不能为空")
    assert rows[2][0] == 4


def test_template_has_chinese_headers(spec):
    wb = openpyxl.load_workbook(io.BytesIO(imports.template_xlsx(spec)))
    assert [c.value for c in wb.worksheets[0][1]] == ["代码", "名称", "金额", "日期", "标志", "数量"]
    assert wb.worksheets[1]["A2"].value == "代码"


def test_registry(spec):
    assert imports.get_spec("toy") is spec
    assert spec in imports.registered_specs()
    with pytest.raises(DomainError, match="未知的导入类型"):
        imports.get_spec("nope")


@pytest.fixture
def job_factory(world, tmp_path):
    def make(content: str, **kw) -> ImportJob:
        path = write(tmp_path, "job.csv", content)
        return ImportJob.objects.create(
            kind="toy",
            branch=world.b1,
            created_by=world["director"],
            file_name="客户.csv",
            file_path=str(path),
            **kw,
        )

    return make


def test_task_runs_job_once(spec, job_factory):
    from branchcare.core.tasks import run_import_job

    job = job_factory("代码,名称\n1,A\n2,B\n")
    run_import_job(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.created_count == 2 and job.processed_rows == 2
    assert job.finished_at is not None and "导入完成" in job.message
    log = AuditLog.objects.get(action="toy.import")
    assert (log.object_type, log.object_id, log.branch_id) == ("core.importjob", str(job.pk), job.branch_id)
    assert log.actor_username == "director"
    # A retried task finds the job finished and does nothing.
    run_import_job(job.pk)
    assert spec.commits == 1 and AuditLog.objects.filter(action="toy.import").count() == 1


def test_job_with_row_errors_fails_and_keeps_errors(spec, job_factory):
    job = job_factory("代码,名称\n1,A\n,B\n", status=ImportJob.Status.RUNNING)
    imports.execute_job(job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.error_count == 1
    assert job.errors == [[3, "代码", "", "不能为空"]]
    assert spec.commits == 0 and not AuditLog.objects.exists()
    assert Path(job.file_path).exists()


def test_job_with_bad_file_fails_with_message(spec, job_factory):
    job = job_factory("")
    imports.execute_job(job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.message == "文件为空。"


def test_dry_run_job_is_previewed(spec, job_factory):
    job = job_factory("代码,名称\n1,A\n", dry_run=True)
    imports.execute_job(job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED and job.progress_percent == 100 and spec.commits == 0


def test_job_selectors_are_scoped(spec, job_factory, world):
    from django.http import Http404

    job = job_factory("代码,名称\n1,A\n")
    assert imports.import_job_get_for(viewer=world["director"], pk=job.pk) == job
    assert imports.import_job_get_for(viewer=world["admin"], pk=job.pk) == job
    for viewer in (world["b2director"], world["manager1"]):
        with pytest.raises(Http404):
            imports.import_job_get_for(viewer=viewer, pk=job.pk)
    with pytest.raises(Http404):
        imports.import_job_get_for(viewer=world["director"], pk="x")


def test_xlsx_without_dimension_is_read_in_one_pass(spec, db, tmp_path):
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    original = ReadOnlyWorksheet._get_size
    wb = openpyxl.Workbook(write_only=True)  # writes no <dimension>
    ws = wb.create_sheet()
    ws.append(["代码", "名称"])
    for i in range(1, 4):
        ws.append([i, f"n{i}"])
    path = tmp_path / "nodim.xlsx"
    wb.save(path)
    with imports.open_table(path, "nodim.xlsx") as table:
        assert table.estimated_rows == 0
        assert len(list(table)) == 4
    assert ReadOnlyWorksheet._get_size is original  # openpyxl is left as it was
    result = run(spec, path)
    assert result.total_rows == 3 and [r["code"] for r in spec.written] == ["000001", "000002", "000003"]


def test_progress_reports_phases(spec, db, tmp_path):
    calls: list[tuple[int, int, str]] = []
    body = "代码,名称\n" + "".join(f"{i},n{i}\n" for i in range(1, 6))
    run(spec, write(tmp_path, "d.csv", body), progress=lambda *a: calls.append(a))
    assert calls[0][2] == "正在校验数据"
    assert calls[-2] == (5, 5, "校验完成") and calls[-1] == (5, 5, "正在写入数据库")


def test_stalled_running_import_job_is_released_and_fresh_one_kept(world):
    import datetime as dt

    from django.utils import timezone

    from branchcare.core.models import ImportJob
    from branchcare.core.tasks import fail_stalled_import_jobs

    now = timezone.now()
    stalled = ImportJob.objects.create(
        kind="clients",
        branch=world.b1,
        file_name="a.csv",
        file_path="/x",
        status="running",
        updated_at=now - dt.timedelta(hours=2),
    )
    fresh = ImportJob.objects.create(
        kind="clients",
        branch=world.b1,
        file_name="b.csv",
        file_path="/y",
        status="running",
        updated_at=now - dt.timedelta(minutes=5),
    )
    assert fail_stalled_import_jobs(now=now) == 1
    stalled.refresh_from_db()
    fresh.refresh_from_db()
    assert stalled.status == "failed" and "重新导入" in stalled.message
    assert fresh.status == "running"
