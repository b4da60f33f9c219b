"""The generic import framework: safe reading of uploaded spreadsheets and validation into typed records.

No domain knowledge lives here. An import is declared once, in the app that owns the data, as an
:class:`ImportSpec` subclass listing its :class:`Column` s and implementing three hooks::

    class PriceImportSpec(ImportSpec):
        kind = "prices"
        label = _("行情")
        audit_action = "prices.import"
        columns = (
            Column("code", _("证券代码"), english="security_code", required=True, allow_blank=False,
                   parse=parse_code(6)),
            Column("date", _("日期"), english="date", required=True, allow_blank=False, parse=parse_date),
            Column("close", _("收盘价"), english="close", required=True, allow_blank=False,
                   parse=parse_decimal(max_digits=14, places=4, min_value=0)),
        )
        unique_together = ("code", "date")

        def check_batch(self, rows, ctx): ...      # database checks, row.error(key, message)
        def commit(self, batches, ctx): ...        # writes, inside the one transaction

    imports.register(PriceImportSpec())

and :func:`run_import` does the rest:

1. :func:`sniff` the file by its *content* (xlsx must be a zip holding ``[Content_Types].xml``; CSV must be
   text), refusing empty, oversized, binary, zip-bomb and XML-entity files before any parsing;
2. stream the rows (``csv`` reader with UTF-8 / UTF-8-BOM / UTF-16 / GB18030 detection, or openpyxl in
   ``read_only`` mode on the first sheet — formulas come back as their text and are never evaluated);
3. find the header row and map its cells to columns by alias (case, spaces, full-width and units such as
   "（元）" do not matter); a missing required column is a file-level error;
4. normalise and parse every cell (NFKC, trimming, thousands separators, Excel serial dates, codes whose
   leading zeros Excel dropped, ...) into a typed record, collecting a :class:`RowError` (line as Excel
   shows it, column header as it appears in the file, value, Chinese reason) for every bad cell;
5. let the spec check each batch of records against the database (:meth:`ImportSpec.check_batch`);
6. if no row is bad (or the user chose ``skip_invalid``), call :meth:`ImportSpec.commit` once, inside one
   transaction, with the valid records in batches, and write one summary audit record.

Validated records are spooled to a temporary file, so memory stays flat however large the file is.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import gc
import io
import logging
import os
import pickle
import re
import tempfile
import threading
import time
import unicodedata
import uuid
import warnings
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.db import connection, models, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .errors import DomainError
from .exports import neutralise, write_xlsx

if TYPE_CHECKING:
    from .models import ImportJob

logger = logging.getLogger(__name__)

XLSX = "xlsx"
CSV = "csv"
#: File extensions accepted, and the format each one is expected to hold.
EXTENSIONS = {".xlsx": XLSX, ".csv": CSV, ".txt": CSV}
#: Only the first rows may hold a title above the header; the header is searched for among them.
HEADER_SEARCH_ROWS = 10
#: At most this many row errors are kept (the count of bad rows is always exact).
DEFAULT_MAX_ERRORS = 20_000
#: Members of an xlsx smaller than this are not held to the compression-ratio limit.
RATIO_CHECK_MIN_BYTES = 1024 * 1024
#: An xlsx with more members than this is not a spreadsheet anyone exported.
XLSX_MAX_MEMBERS = 5_000


def _limit(name: str, default: int | None = None) -> int:
    value = settings.BRANCHCARE.get(name, default)
    if value is None:
        raise KeyError(name)
    return int(value)


def human_size(n: int) -> str:
    """``1536`` -> ``"1.5 KB"``."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"  # pragma: no cover


# ---------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------


class ImportFileError(DomainError):
    """The file as a whole is refused (wrong type, unsafe, empty, missing columns, too big...).

    Nothing has been written when this is raised."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="import_file")


class CellError(ValueError):
    """Raised by a value parser: ``message`` says in Chinese what is wrong with the cell."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = str(message)


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one row: ``line`` as Excel numbers it (the header is line 1), ``column`` the header
    text as it appears in the file ("" for the whole row), ``value`` the offending cell as text."""

    line: int
    column: str
    value: str
    message: str

    def as_list(self) -> list[Any]:
        return [self.line, self.column, self.value, self.message]

    @classmethod
    def from_list(cls, item: Sequence[Any]) -> RowError:
        line, column, value, message = item
        return cls(int(line), str(column), str(value), str(message))

    def __str__(self) -> str:
        where = _("第 %(line)d 行") % {"line": self.line}
        if self.column:
            where += f"「{self.column}」"
        value = _("（值：%(value)s）") % {"value": self.value} if self.value else ""
        return f"{where}：{self.message}{value}"


# ---------------------------------------------------------------------------------------------------------
# Value normalisers. Each parser receives a non-blank cell (str, int, float, bool, date or datetime) and
# returns the typed value, or raises CellError with a Chinese reason.
# ---------------------------------------------------------------------------------------------------------

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def clean_text(value: Any) -> str:
    """Any cell as trimmed text: NFKC (full-width letters, digits and spaces become half-width), zero-width
    characters removed; whole-number floats lose their ``.0``; dates become ISO dates."""
    if value.__class__ is str:
        if value.isascii():
            return value.strip()
        return unicodedata.normalize("NFKC", value).translate(_ZERO_WIDTH).strip()
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_text(str(value))
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _clean(value: Any) -> Any:
    """A raw cell made ready for a parser: strings cleaned, other types passed through; blank -> ``None``."""
    if value.__class__ is str:
        if value.isascii():
            return value.strip() or None
        return unicodedata.normalize("NFKC", value).translate(_ZERO_WIDTH).strip() or None
    if isinstance(value, str):
        return clean_text(value) or None
    return value


def parse_text(*, max_length: int | None = None, upper: bool = False) -> Callable[[Any], str]:
    """Text, optionally upper-cased, at most ``max_length`` characters (a longer value is an error, never
    silently truncated). A value starting with ``= + - @`` is kept as the text it is; nothing evaluates it."""

    def parse(value: Any) -> str:
        text = clean_text(value)
        if upper:
            text = text.upper()
        if max_length is not None and len(text) > max_length:
            raise CellError(_("长度超过 %(n)d 个字符") % {"n": max_length})
        return text

    return parse


_NUMBER_JUNK = str.maketrans("", "", ", _'¥$")


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise CellError(_("不是有效的数字"))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise CellError(_("不是有效的数字"))
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        number = value
    else:
        text = clean_text(value).translate(_NUMBER_JUNK)
        if text.endswith("元"):
            text = text[:-1]
        negative = text.startswith("(") and text.endswith(")")
        if negative:
            text = text[1:-1]
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CellError(_("不是有效的数字")) from None
        if negative:
            number = -number
    if not number.is_finite():
        raise CellError(_("不是有效的数字"))
    return number


def parse_decimal(
    *,
    max_digits: int,
    places: int,
    min_value: Decimal | int | None = None,
    max_value: Decimal | int | None = None,
) -> Callable[[Any], Decimal]:
    """A decimal number: thousands separators, currency signs, a trailing 元 and accounting negatives
    ``(1,234.50)`` accepted; rounded half-up to ``places``; must fit ``max_digits``."""
    quantum = Decimal(1).scaleb(-places)
    limit = Decimal(10) ** (max_digits - places)

    def parse(value: Any) -> Decimal:
        number = _to_decimal(value)
        try:
            number = number.quantize(quantum, rounding=ROUND_HALF_UP)
        except InvalidOperation:
            raise CellError(_("数值过大")) from None
        if abs(number) >= limit:
            raise CellError(_("数值过大"))
        if min_value is not None and number < min_value:
            raise CellError(_("不能小于 %(n)s") % {"n": min_value})
        if max_value is not None and number > max_value:
            raise CellError(_("不能大于 %(n)s") % {"n": max_value})
        return number

    return parse


def parse_int(*, min_value: int | None = None, max_value: int | None = None) -> Callable[[Any], int]:
    """A whole number (``"1,000"`` and ``1000.0`` are fine, ``1000.5`` is an error)."""

    def parse(value: Any) -> int:
        number = _to_decimal(value)
        if number != number.to_integral_value():
            raise CellError(_("必须是整数"))
        result = int(number)
        if min_value is not None and result < min_value:
            raise CellError(_("不能小于 %(n)s") % {"n": min_value})
        if max_value is not None and result > max_value:
            raise CellError(_("不能大于 %(n)s") % {"n": max_value})
        return result

    return parse


_EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_MIN = dt.date(1900, 1, 1)
_DATE_MAX = dt.date(2100, 12, 31)
_DATE_YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SERIAL = re.compile(r"\d{1,5}(?:\.\d+)?")
_TIME_PART = re.compile(r"[ T]\d{1,2}:")


def _from_serial(serial: float) -> dt.date:
    days = int(serial)
    if days < 1 or days > 2958465:
        raise CellError(_("无法识别的日期"))
    if days < 60:  # Excel's 1900 leap-year bug: serials before 1900-03-01 are one day off
        days += 1
    return _EXCEL_EPOCH + dt.timedelta(days=days)


def parse_date(value: Any) -> dt.date:
    """A date from a date cell, an Excel serial number (``46351``), ``2026-11-25``, ``2026/11/25``,
    ``2026.11.25``, ``20261125`` or ``2026年11月25日`` (a time part is ignored). Years 1900–2100."""
    if isinstance(value, dt.datetime):
        result = value.date()
    elif isinstance(value, dt.date):
        result = value
    elif isinstance(value, bool):
        raise CellError(_("无法识别的日期"))
    elif isinstance(value, int | float):
        if 19000101 <= value <= 21001231 and float(value).is_integer():
            return parse_date(str(int(value)))
        result = _from_serial(float(value))
    else:
        text = clean_text(value)
        if len(text) == 10 and text[4] == "-" and text[7] == "-" and text.isascii():
            try:  # the common case, in C
                result = dt.date.fromisoformat(text)
            except ValueError:
                pass
            else:
                if not _DATE_MIN <= result <= _DATE_MAX:
                    raise CellError(_("日期超出范围（1900–2100 年）"))
                return result
        text = _TIME_PART.split(text, maxsplit=1)[0].strip()
        try:
            if (m := _DATE_YMD.fullmatch(text)) or (m := _DATE_COMPACT.fullmatch(text)):
                result = dt.date(int(m[1]), int(m[2]), int(m[3]))
            elif _SERIAL.fullmatch(text):
                result = _from_serial(float(text))
            else:
                raise CellError(_("无法识别的日期，请使用 2026-11-25 格式"))
        except ValueError as exc:
            if isinstance(exc, CellError):
                raise
            raise CellError(_("日期不存在")) from None
    if not _DATE_MIN <= result <= _DATE_MAX:
        raise CellError(_("日期超出范围（1900–2100 年）"))
    return result


_KEY_JUNK = re.compile(r"[\s_\-]+")


def norm_key(text: Any) -> str:
    """A value or header reduced for comparison: NFKC, lower case, no spaces, ``_`` or ``-``."""
    return _KEY_JUNK.sub("", clean_text(text)).lower()


_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "对", "有"}
_FALSE = {"否", "n", "no", "false", "0", "×", "✗", "x", "无", "不是"}
_TRUE_EXACT = frozenset({"是", "Y", "y", "1", 1})
_FALSE_EXACT = frozenset({"否", "N", "n", "0", 0})


def parse_bool(value: Any) -> bool:
    """是/否, Y/N, yes/no, true/false, 1/0, √/×."""
    if isinstance(value, bool):
        return value
    if value in _TRUE_EXACT:
        return True
    if value in _FALSE_EXACT:
        return False
    key = norm_key(value)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise CellError(_("应填写“是”或“否”"))


def parse_code(width: int) -> Callable[[Any], str]:
    """A numeric code kept as text: ``1`` (Excel dropped the zeros) or ``"1"`` become ``"000001"`` for width
    6. Codes with letters are kept as they are (upper-cased)."""

    def parse(value: Any) -> str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool):
            raise CellError(_("代码格式不正确"))
        text = clean_text(value).upper().replace(" ", "")
        if text.isdigit() and len(text) < width:
            text = text.zfill(width)
        return text

    return parse


def parse_choice(choices: dict[str, str], *, hint: Any = "") -> Callable[[Any], str]:
    """One of a fixed set: ``choices`` maps every accepted spelling (any case, spaces, full-width) to the
    stored value."""
    table = {norm_key(k): v for k, v in choices.items()}
    exact = dict(choices)

    def parse(value: Any) -> str:
        if value.__class__ is str and value in exact:
            return exact[value]
        key = norm_key(value)
        if key in table:
            return table[key]
        raise CellError(hint or _("无法识别的取值"))

    return parse


# ---------------------------------------------------------------------------------------------------------
# Declarations
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of an import.

    ``key`` names the value in the record; the header may be written as ``label`` (Chinese), ``english``,
    ``key`` or any of ``aliases``. ``required`` columns must be in the header; ``allow_blank=False``
    cells must hold a value. A blank cell gives ``default``; anything else goes through ``parse``.
    """

    key: str
    label: Any
    english: str = ""
    aliases: tuple[str, ...] = ()
    required: bool = False
    allow_blank: bool = True
    parse: Callable[[Any], Any] = field(default_factory=parse_text)
    default: Any = None
    help: Any = ""
    example: str = ""
    text_format: bool = False  # ask Excel to keep the column as text in the template (codes, phones)

    @property
    def english_name(self) -> str:
        return self.english or self.key

    @property
    def display(self) -> str:
        """``客户号（client_no）``: how the column is named in messages."""
        return f"{self.label}（{self.english_name}）"

    def header_names(self) -> set[str]:
        return {norm_header(n) for n in (str(self.label), self.english_name, self.key, *self.aliases)}


@dataclass
class Row:
    """One data row during validation: its line, the parsed ``values`` by column key and its errors."""

    line: int
    values: dict[str, Any]
    raw: dict[str, Any]
    errors: list[tuple[str | None, str]] = field(default_factory=list)

    def error(self, key: str | None, message: str) -> None:
        """Report a problem with the cell of column ``key`` (``None``: the row as a whole)."""
        self.errors.append((key, str(message)))

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Counts:
    """What a commit (or, estimated, a dry run) did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


class ImportSpec:
    """Declaration of one import. Subclass, fill in the class attributes, implement the hooks.

    Hooks are called in this order: :meth:`prepare` once; :meth:`check_batch` per batch of rows whose
    cells all parsed; :meth:`preview_counts` on a dry run, or :meth:`commit` once, inside one transaction,
    with every valid record.
    """

    kind: ClassVar[str]
    label: ClassVar[Any]
    audit_action: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]
    #: Column keys identifying a row; a later row repeating them is an error (on the last key's column)
    #: naming the first line.
    unique_together: ClassVar[tuple[str, ...]] = ()
    #: Labels of the three counts on result pages and in the CLI.
    count_labels: ClassVar[dict[str, Any]] = {
        "created": gettext_lazy("新增"),
        "updated": gettext_lazy("更新"),
        "unchanged": gettext_lazy("未变"),
    }
    #: Rows checked (and later committed) together.
    batch_size: ClassVar[int] = 2000
    #: Capability needed to run it (checked by the entry points).
    capability: ClassVar[str] = "data.import"

    def prepare(self, *, branch: Any, actor: Any, present: frozenset[str]) -> Any:
        """Return the context shared by the other hooks (lookups loaded once). ``present`` holds the keys of
        the columns found in the file: a column absent from the file must not be overwritten."""
        return None

    def check_batch(self, rows: list[Row], ctx: Any) -> None:
        """Check rows against the database; call ``row.error(key, message)`` for each problem, and put any
        resolved values (ids) into ``row.values``."""

    def preview_counts(self, batches: Iterable[list[dict[str, Any]]], ctx: Any) -> Counts:
        """On a dry run: what a commit of the valid records would do, as far as it can be known without
        writing."""
        return Counts()

    def commit(self, batches: Iterable[list[dict[str, Any]]], ctx: Any) -> Counts:
        """Write the valid records. Called once inside ``transaction.atomic``; must not commit itself."""
        raise NotImplementedError

    # Helpers -------------------------------------------------------------------------------------------

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    def required_columns(self) -> list[Column]:
        return [c for c in self.columns if c.required]


_registry: dict[str, ImportSpec] = {}
_discovered = False


def register(spec: ImportSpec) -> ImportSpec:
    """Make ``spec`` available by its ``kind`` (call at import time of the app's ``import_specs`` module)."""
    _registry[spec.kind] = spec
    return spec


def _discover() -> None:
    global _discovered
    if not _discovered:
        _discovered = True
        autodiscover_modules("import_specs")


def registered_specs() -> list[ImportSpec]:
    """Every registered import (each app's ``import_specs`` module is imported on first use)."""
    _discover()
    return list(_registry.values())


def get_spec(kind: str) -> ImportSpec:
    """The import registered as ``kind``; ``DomainError`` for an unknown kind."""
    _discover()
    try:
        return _registry[kind]
    except KeyError:
        raise DomainError(_("未知的导入类型：%(kind)s") % {"kind": kind}, field="kind") from None


# ---------------------------------------------------------------------------------------------------------
# Sniffing and safety checks
# ---------------------------------------------------------------------------------------------------------

_XML_DANGER = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _msg_unsafe_xml() -> str:
    return _("Excel 文件包含不安全的 XML 内容（DTD/实体定义），已拒绝导入。")


def _msg_bad_xlsx() -> str:
    return _("Excel 文件已损坏或格式不正确，无法读取：请在 Excel 中重新另存为 .xlsx 后再上传。")


def check_xlsx_archive(path: str | os.PathLike[str]) -> None:
    """Refuse an xlsx before parsing it when it is not an OOXML package, is encrypted, would unpack larger
    than ``XLSX_MAX_UNCOMPRESSED_BYTES`` or compresses better than ``XLSX_MAX_RATIO`` (zip bomb), or any XML
    part declares a DTD or entities (billion laughs)."""
    max_total = _limit("XLSX_MAX_UNCOMPRESSED_BYTES")
    max_ratio = _limit("XLSX_MAX_RATIO")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > XLSX_MAX_MEMBERS:
                raise ImportFileError(_msg_bad_xlsx())
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names:
                raise ImportFileError(_("文件是压缩包，但不是 Excel 工作簿（.xlsx）。"))
            total = 0
            for info in infos:
                if info.flag_bits & 0x1:
                    raise ImportFileError(_("Excel 文件已加密，请取消密码保护后再上传。"))
                total += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size >= RATIO_CHECK_MIN_BYTES and ratio > max_ratio:
                    raise ImportFileError(
                        _("文件压缩比异常（%(ratio)d 倍，上限 %(limit)d 倍），疑似压缩炸弹，已拒绝导入。")
                        % {"ratio": ratio, "limit": max_ratio}
                    )
            if total > max_total:
                raise ImportFileError(
                    _("文件解压后过大（%(size)s，上限 %(limit)s），疑似压缩炸弹，已拒绝导入。")
                    % {"size": human_size(total), "limit": human_size(max_total)}
                )
            for info in infos:
                if info.filename.lower().endswith((".xml", ".rels", ".vml")):
                    with zf.open(info) as member:
                        head = member.read(65536)
                    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                        head = head.decode("utf-16", "ignore").encode("utf-8")
                    if _XML_DANGER.search(head):
                        raise ImportFileError(_msg_unsafe_xml())
    except ImportFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError, ValueError):
        raise ImportFileError(_msg_bad_xlsx()) from None


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > max(2, len(head) // 100)


def sniff(path: str | os.PathLike[str], file_name: str) -> str:
    """``"xlsx"`` or ``"csv"`` judged by the file's content (the extension only has to be one we accept),
    after the size and safety checks. Raises :class:`ImportFileError` with a Chinese reason."""
    size = os.path.getsize(path)
    if size == 0:
        raise ImportFileError(_("文件为空。"))
    max_bytes = _limit("IMPORT_MAX_BYTES")
    if size > max_bytes:
        raise ImportFileError(
            _("文件过大（%(size)s），上限为 %(limit)s。")
            % {"size": human_size(size), "limit": human_size(max_bytes)}
        )
    ext = os.path.splitext(file_name)[1].lower()
    if ext not in EXTENSIONS:
        raise ImportFileError(
            _("不支持的文件类型“%(ext)s”：请上传 .xlsx 或 .csv 文件。") % {"ext": ext or file_name}
        )
    with open(path, "rb") as f:
        head = f.read(8192)
    if head.startswith(b"PK\x03\x04"):
        check_xlsx_archive(path)
        return XLSX
    if head.startswith(_OLE2):
        raise ImportFileError(
            _(
                "这是旧版 Excel（.xls）或加密的工作簿，无法读取：请在 Excel 中另存为 .xlsx 或 CSV（UTF-8）后再上传。"
            )
        )
    if EXTENSIONS[ext] == XLSX:
        raise ImportFileError(_("文件扩展名为 .xlsx，但内容不是 Excel 工作簿（可能已损坏或被改了扩展名）。"))
    if head.startswith(b"PK"):
        raise ImportFileError(_("文件是压缩包，不是 CSV 文本文件。"))
    if not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and _looks_binary(head):
        raise ImportFileError(_("文件内容无法识别：既不是 Excel 工作簿，也不是文本格式的 CSV 文件。"))
    return CSV


# ---------------------------------------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------------------------------------


class Table:
    """Rows of a file in order, as lists of cell values; row ``i`` (from 1) is Excel's line ``i``."""

    def __init__(
        self, rows: Iterator[Sequence[Any]], *, fmt: str, estimated_rows: int, encoding: str = ""
    ) -> None:
        self._rows = rows
        self.format = fmt
        self.estimated_rows = estimated_rows
        self.encoding = encoding

    def __iter__(self) -> Iterator[Sequence[Any]]:
        return self._rows


def detect_encoding(path: str | os.PathLike[str]) -> tuple[str, int]:
    """``(encoding, line breaks)`` of a text file: a BOM decides (UTF-8 / UTF-16); otherwise UTF-8 if the
    whole file decodes as UTF-8, else GB18030 (a superset of GBK and GB2312). Counting line breaks in the
    same pass gives the row estimate for the progress bar."""
    with open(path, "rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            candidates = ["utf-8-sig"]
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            candidates = ["utf-16"]
        else:
            candidates = ["utf-8", "gb18030"]
        for encoding in candidates:
            f.seek(0)
            decoder = codecs.getincrementaldecoder(encoding)("strict")
            lines = 0
            try:
                while chunk := f.read(1 << 20):
                    lines += decoder.decode(chunk).count("\n")
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                continue
            return encoding, lines
    raise ImportFileError(_("文件编码无法识别：请将 CSV 另存为 UTF-8 或 GBK 编码后再上传。"))


def _delimiter(path: str | os.PathLike[str], encoding: str) -> str:
    with open(path, encoding=encoding, newline="") as f:
        for _n in range(HEADER_SEARCH_ROWS):
            line = f.readline()
            if not line:
                break
            counts = {d: line.count(d) for d in (",", "\t", ";", "|")}
            best = max(counts, key=lambda d: counts[d])
            if counts[best]:
                return best
    return ","


def _csv_rows(path: str | os.PathLike[str], encoding: str, delimiter: str) -> Generator[list[str]]:
    line = 0
    try:
        with open(path, encoding=encoding, newline="") as f:
            for line, row in enumerate(csv.reader(f, delimiter=delimiter), start=1):  # noqa: B007
                yield row
    except csv.Error as exc:
        raise ImportFileError(
            _("第 %(line)d 行之后 CSV 格式错误，无法继续读取（%(error)s）。") % {"line": line, "error": exc}
        ) from None
    except UnicodeDecodeError:
        raise ImportFileError(_("第 %(line)d 行之后出现无法识别的字符编码。") % {"line": line}) from None


def _unsafe_xml(exc: BaseException | None) -> bool:
    """Whether defusedxml refused the XML somewhere in ``exc``'s chain (openpyxl re-raises it as a
    ``ValueError``)."""
    from defusedxml import DefusedXmlException

    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, DefusedXmlException):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _read_dimension_quickly(ws: Any) -> None:
    """Stand-in for openpyxl's ``ReadOnlyWorksheet._get_size`` with the same result: the ``<dimension>``
    element if the sheet has one. openpyxl looks for it with *end* events, so when a sheet has none (files
    written by many libraries) it parses the whole sheet just to find out — doubling the time of a large
    import. ``<dimension>`` must precede ``<sheetData>``, so *start* events can stop there."""
    from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG
    from openpyxl.worksheet.dimensions import SheetDimension
    from openpyxl.xml.functions import iterparse

    src = ws._get_source()
    try:
        for _event, element in iterparse(src, events=("start",)):
            if element.tag == DIMENSION_TAG:
                boundaries = SheetDimension.from_tree(element).boundaries
                if boundaries is not None:
                    ws._min_column, ws._min_row, ws._max_column, ws._max_row = boundaries
                return
            if element.tag == DATA_TAG:
                return
    finally:
        src.close()


_OPENPYXL_PATCH_LOCK = threading.Lock()


def _xlsx_open(path: str | os.PathLike[str]) -> tuple[Any, Any]:
    import openpyxl
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    try:
        with warnings.catch_warnings(), _OPENPYXL_PATCH_LOCK:
            warnings.simplefilter("ignore")
            original = ReadOnlyWorksheet._get_size
            ReadOnlyWorksheet._get_size = _read_dimension_quickly  # type: ignore[method-assign]
            try:
                wb = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
            finally:
                ReadOnlyWorksheet._get_size = original  # type: ignore[method-assign]
        if not wb.worksheets:
            wb.close()
            raise ImportFileError(_("Excel 文件中没有工作表。"))
        return wb, wb.worksheets[0]
    except ImportFileError:
        raise
    except Exception as exc:  # untrusted input: any parser failure means "cannot read this file"
        if _unsafe_xml(exc):
            raise ImportFileError(_msg_unsafe_xml()) from None
        logger.info("xlsx refused: %s", exc.__class__.__name__)
        raise ImportFileError(_msg_bad_xlsx()) from None


def _xlsx_rows(wb: Any, ws: Any) -> Generator[tuple[Any, ...]]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield from ws.iter_rows(values_only=True)
    except ImportFileError:
        raise
    except Exception as exc:  # untrusted input
        if _unsafe_xml(exc):
            raise ImportFileError(_msg_unsafe_xml()) from None
        logger.info("xlsx refused while reading: %s", exc.__class__.__name__)
        raise ImportFileError(_msg_bad_xlsx()) from None
    finally:
        wb.close()


@contextlib.contextmanager
def open_table(path: str | os.PathLike[str], file_name: str) -> Iterator[Table]:
    """Sniff and open ``path`` (shown to the user as ``file_name``); yields a :class:`Table`."""
    fmt = sniff(path, file_name)
    if fmt == XLSX:
        wb, ws = _xlsx_open(path)
        try:
            estimated = int(ws.max_row or 0)
        except Exception:  # noqa: BLE001 - a missing or broken <dimension> only costs the estimate
            estimated = 0
        rows = _xlsx_rows(wb, ws)
        try:
            yield Table(rows, fmt=XLSX, estimated_rows=estimated)
        finally:
            rows.close()
            wb.close()
    else:
        encoding, lines = detect_encoding(path)
        rows_csv = _csv_rows(path, encoding, _delimiter(path, encoding))
        try:
            yield Table(rows_csv, fmt=CSV, estimated_rows=lines, encoding=encoding)
        finally:
            rows_csv.close()


# ---------------------------------------------------------------------------------------------------------
# Header mapping
# ---------------------------------------------------------------------------------------------------------

_UNIT = re.compile(r"[(\[【].*?[)\]】]")


def norm_header(text: Any) -> str:
    """A header cell reduced for matching: NFKC, lower case, without spaces, ``_``/``-``, the required mark
    ``*`` and bracketed units — so ``Client No``, ``client_no`` and ``CLIENT-NO`` match, as do ``资产（元）``
    and ``资产``."""
    s = clean_text(text).lower()
    s = _UNIT.sub("", s)
    return re.sub(r"[\s_\-*:：]+", "", s)


@dataclass
class HeaderMap:
    """Where each column of the spec sits in the file."""

    line: int
    columns: list[tuple[int, Column, str]]  # (cell index, column, header text as in the file)
    ignored: list[str]

    @property
    def present(self) -> frozenset[str]:
        return frozenset(col.key for _i, col, _h in self.columns)

    def header_of(self, key: str | None) -> str:
        if key is None:
            return ""
        for _i, col, header in self.columns:
            if col.key == key:
                return header
        return key


def map_header(spec: ImportSpec, cells: Sequence[Any], line: int) -> HeaderMap:
    """Map a header row to the spec's columns; unknown headers are ignored, a column given twice or a
    required column missing is an :class:`ImportFileError` naming it in Chinese and English."""
    lookup: dict[str, Column] = {}
    for col in spec.columns:
        for name in col.header_names():
            lookup.setdefault(name, col)
    mapped: list[tuple[int, Column, str]] = []
    seen: dict[str, str] = {}
    ignored: list[str] = []
    for idx, cell in enumerate(cells):
        if not clean_text(cell):
            continue
        text = cell.strip() if isinstance(cell, str) else clean_text(cell)  # as the user wrote it
        found = lookup.get(norm_header(text))
        if found is None:
            ignored.append(text)
            continue
        col = found
        if col.key in seen:
            raise ImportFileError(
                _("列“%(a)s”和“%(b)s”都表示%(col)s，请只保留一列。")
                % {"a": seen[col.key], "b": text, "col": col.display}
            )
        seen[col.key] = text
        mapped.append((idx, col, text))
    missing = [c.display for c in spec.required_columns() if c.key not in seen]
    if missing:
        raise ImportFileError(_("缺少必需的列：%(cols)s。") % {"cols": "、".join(missing)})
    return HeaderMap(line=line, columns=mapped, ignored=ignored)


def _is_blank_row(cells: Sequence[Any]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _find_header(spec: ImportSpec, rows: Iterator[Sequence[Any]]) -> HeaderMap:
    """The header is the first non-blank row naming at least one known column (a title row above it is
    skipped); if none of the first rows does, the first non-blank row is taken (and reported as missing
    the required columns)."""
    names: set[str] = set()
    for col in spec.columns:
        names |= col.header_names()
    first: tuple[int, Sequence[Any]] | None = None
    looked = 0
    for line, cells in enumerate(rows, start=1):
        if _is_blank_row(cells):
            continue
        if first is None:
            first = (line, cells)
        if any(norm_header(c) in names for c in cells if c is not None):
            return map_header(spec, cells, line)
        looked += 1
        if looked >= HEADER_SEARCH_ROWS:
            break
    if first is None:
        raise ImportFileError(_("文件中没有任何内容。"))
    return map_header(spec, first[1], first[0])


# ---------------------------------------------------------------------------------------------------------
# The runner
# ---------------------------------------------------------------------------------------------------------

ProgressCallback = Callable[[int, int, str], None]


class Spool:
    """Lists of records pickled batch by batch to an anonymous temporary file, read back in order (flat
    memory however many there are). Holds the validated records between validation and commit; commit
    hooks may use one too (e.g. to append audit records at the end of the transaction)."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.batches = 0
        self.records = 0

    def append(self, batch: list[Any]) -> None:
        if batch:
            pickle.dump(batch, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self.batches += 1
            self.records += len(batch)

    def __iter__(self) -> Iterator[list[Any]]:
        self._file.seek(0)
        for _n in range(self.batches):
            yield pickle.load(self._file)  # noqa: S301 - our own temporary file, written above

    def close(self) -> None:
        self._file.close()


@dataclass
class ImportResult:
    """The outcome of :func:`run_import`."""

    kind: str
    file_name: str
    dry_run: bool = False
    skip_invalid: bool = False
    total_rows: int = 0
    bad_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_truncated: bool = False
    ignored_columns: list[str] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)
    committed: bool = False
    validate_seconds: float = 0.0
    commit_seconds: float = 0.0

    @property
    def valid_rows(self) -> int:
        return self.total_rows - self.bad_rows

    @property
    def validate_rate(self) -> float:
        return self.total_rows / self.validate_seconds if self.validate_seconds else 0.0

    @property
    def commit_rate(self) -> float:
        return self.valid_rows / self.commit_seconds if self.commit_seconds else 0.0

    def summary(self, spec: ImportSpec) -> str:
        """One Chinese sentence for the job page and the CLI."""
        labels = spec.count_labels
        counts = "，".join(
            f"{labels[name]} {getattr(self.counts, name)}"
            for name in ("created", "updated", "unchanged")
            if name in labels
        )
        if self.dry_run:
            head = _("预检完成：共 %(n)d 行，错误 %(bad)d 行。") % {
                "n": self.total_rows,
                "bad": self.bad_rows,
            }
            return head + (_("若导入预计：%(counts)s。") % {"counts": counts} if counts else "")
        if not self.committed:
            if self.bad_rows:
                return _("发现 %(bad)d 行错误，未写入任何数据。请修正后重新导入，或勾选“跳过错误行”。") % {
                    "bad": self.bad_rows
                }
            return _("没有可导入的数据行，未写入任何数据。")
        text = _("导入完成：共 %(n)d 行，%(counts)s。") % {"n": self.total_rows, "counts": counts}
        if self.bad_rows:
            text += _("已跳过错误行 %(bad)d 行。") % {"bad": self.bad_rows}
        return text


def _validate(
    spec: ImportSpec,
    table: Table,
    *,
    branch: Any,
    actor: Any,
    spool: Spool,
    result: ImportResult,
    progress: ProgressCallback | None,
) -> tuple[Any, HeaderMap]:
    max_rows = _limit("IMPORT_MAX_ROWS")
    max_errors = _limit("IMPORT_MAX_ERRORS", DEFAULT_MAX_ERRORS)
    rows = iter(table)
    header = _find_header(spec, rows)
    result.ignored_columns = header.ignored
    ctx = spec.prepare(branch=branch, actor=actor, present=header.present)
    estimated = max(table.estimated_rows - header.line, 0)
    if estimated > max_rows * 2:  # an honest file is never twice the cap; refuse before reading it
        raise ImportFileError(_("文件行数超过上限（%(limit)d 行），请拆分后分批导入。") % {"limit": max_rows})
    cols = header.columns
    unique = spec.unique_together
    seen_keys: dict[tuple[Any, ...], int] = {}
    batch: list[Row] = []
    errors = result.errors
    last_report = time.monotonic()
    if progress:
        progress(0, estimated, _("正在校验数据"))

    def record_errors(row: Row) -> None:
        result.bad_rows += 1
        for key, message in row.errors:
            if len(errors) >= max_errors:
                result.errors_truncated = True
                return
            value = clean_text(row.raw.get(key)) if key else ""
            errors.append(RowError(row.line, header.header_of(key), value[:200], message))

    def flush() -> None:
        # Rows whose cells did not parse stay in the batch (unchecked) so errors come out in line order.
        if not batch:
            return
        spec.check_batch([row for row in batch if row.ok], ctx)
        good = []
        for row in batch:
            if row.errors:
                record_errors(row)
            else:
                good.append(row.values)
        spool.append(good)
        batch.clear()

    line = header.line
    data_rows = 0
    plan = [(idx, col.key, col.parse, col.allow_blank, col.default) for idx, col, _h in cols]
    keys = [col.key for _i, col, _h in cols]
    width = max((idx for idx, *_rest in plan), default=-1) + 1
    msg_blank = _("不能为空")
    batch_size = spec.batch_size
    for line, cells in enumerate(rows, start=header.line + 1):  # noqa: B007
        if len(cells) < width:
            cells = [*cells, *([None] * (width - len(cells)))]
        cleaned = [_clean(cells[idx]) for idx, *_rest in plan]
        if cleaned.count(None) == len(cleaned) and _is_blank_row(cells):
            continue
        data_rows += 1
        if data_rows > max_rows:
            raise ImportFileError(
                _("文件行数超过上限（%(limit)d 行），请拆分后分批导入。") % {"limit": max_rows}
            )
        values: dict[str, Any] = {}
        row = Row(line, values, dict(zip(keys, cleaned, strict=True)))
        for (_idx, key, parse, allow_blank, default), cell in zip(plan, cleaned, strict=True):
            if cell is None:
                if not allow_blank:
                    row.error(key, msg_blank)
                values[key] = default
                continue
            try:
                values[key] = parse(cell)
            except CellError as exc:
                row.error(key, exc.message)
        if unique and not row.errors:
            key_value = tuple(values[k] for k in unique)
            first = seen_keys.setdefault(key_value, line)
            if first != line:
                row.error(unique[-1], _("与第 %(line)d 行重复") % {"line": first})
        batch.append(row)
        if len(batch) >= batch_size:
            flush()
            if progress and time.monotonic() - last_report > 0.5:
                last_report = time.monotonic()
                # Without an estimate (a sheet lacking <dimension>) the total stays 0: "unknown".
                total = max(estimated, data_rows) if estimated else 0
                progress(data_rows, total, _("正在校验第 %(n)d 行") % {"n": line})
    flush()
    result.total_rows = data_rows
    if data_rows == 0:
        raise ImportFileError(_("文件中没有数据行（只有表头）。"))
    if progress:
        progress(data_rows, data_rows, _("校验完成"))
    return ctx, header


def run_import(
    spec: ImportSpec,
    path: str | os.PathLike[str],
    *,
    file_name: str,
    branch: Any,
    actor: Any,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: ProgressCallback | None = None,
    job: ImportJob | None = None,
    on_committed: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Validate ``path`` against ``spec`` and, unless ``dry_run``, commit it into ``branch`` as ``actor``.

    All or nothing: when any row is bad nothing is written, unless ``skip_invalid`` (then the valid rows are
    written and the bad ones reported). The commit runs in one transaction together with one summary audit
    record (``spec.audit_action`` on the import job, or on the file when there is no job) and
    ``on_committed`` (used to mark the job done in the same transaction). Raises :class:`ImportFileError`
    when the file as a whole is refused; nothing is written then either.
    """
    from .audit import audit_log

    result = ImportResult(kind=spec.kind, file_name=file_name, dry_run=dry_run, skip_invalid=skip_invalid)
    spool = Spool()
    # Millions of short-lived containers would trigger full cyclic-GC passes over everything alive
    # (a quarter of the validation time); the loops create no reference cycles, so pause it.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        started = time.perf_counter()
        with open_table(path, file_name) as table:
            ctx, _header = _validate(
                spec, table, branch=branch, actor=actor, spool=spool, result=result, progress=progress
            )
        result.validate_seconds = time.perf_counter() - started
        if dry_run:
            result.counts = spec.preview_counts(iter(spool), ctx)
            return result
        if (result.bad_rows and not skip_invalid) or spool.records == 0:
            return result
        if progress:
            progress(result.total_rows, result.total_rows, _("正在写入数据库"))
        started = time.perf_counter()
        with transaction.atomic():
            result.counts = spec.commit(iter(spool), ctx)
            result.committed = True
            audit_log(
                actor=actor,
                action=spec.audit_action,
                object_type="core.importjob" if job is not None else "file",
                object_id=str(job.pk) if job is not None else file_name[:64],
                object_repr=file_name,
                branch_id=getattr(branch, "pk", None),
                changes={
                    "file": file_name,
                    "kind": spec.kind,
                    "rows": result.total_rows,
                    "created": result.counts.created,
                    "updated": result.counts.updated,
                    "unchanged": result.counts.unchanged,
                    "skipped_rows": result.bad_rows,
                },
            )
            if on_committed:
                on_committed(result)
        result.commit_seconds = time.perf_counter() - started
        return result
    finally:
        spool.close()
        if gc_was_enabled:
            gc.enable()


# ---------------------------------------------------------------------------------------------------------
# Bulk writing for commit hooks: COPY on PostgreSQL, bulk_create elsewhere
# ---------------------------------------------------------------------------------------------------------


def copy_available() -> bool:
    """Whether the default database can take rows by ``COPY`` (PostgreSQL)."""
    return connection.vendor == "postgresql"


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def copy_insert(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """``COPY`` ``rows`` (tuples in ``columns`` order, JSON already serialised) into ``model``'s table.
    PostgreSQL only; call inside the commit transaction."""
    table = _qn(model._meta.db_table)
    cols = ", ".join(_qn(c) for c in columns)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def copy_upsert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    conflict: Sequence[str],
    update: Sequence[str],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    """Upsert ``rows`` into ``model``'s table: ``COPY`` into a temporary staging table, then one
    ``INSERT … SELECT … ON CONFLICT (conflict) DO UPDATE SET update = EXCLUDED.update RETURNING returning``.
    The rows must not repeat a conflict key. PostgreSQL only; call inside the commit transaction (the
    staging table is dropped at commit)."""
    table = _qn(model._meta.db_table)
    stage = _qn(f"import_stage_{model._meta.db_table}")
    cols = ", ".join(_qn(c) for c in columns)
    assignments = ", ".join(f"{_qn(c)} = EXCLUDED.{_qn(c)}" for c in update)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DROP "  # noqa: S608 - quoted identifiers
            f"AS SELECT * FROM {table} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {stage}")
        with cursor.cursor.copy(f"COPY {stage} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} "  # noqa: S608 - identifiers quoted
            f"ON CONFLICT ({', '.join(_qn(c) for c in conflict)}) DO UPDATE SET {assignments} "
            f"RETURNING {', '.join(_qn(c) for c in returning)}"
        )
        return cursor.fetchall()


# ---------------------------------------------------------------------------------------------------------
# Jobs: running one, and the scoped reads of them
# ---------------------------------------------------------------------------------------------------------


def imports_dir() -> Path:
    """Where uploaded files wait for their job: ``MEDIA_ROOT/imports``."""
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _remove_upload(job: ImportJob) -> None:
    """Delete the job's uploaded file, but only a file we stored under ``MEDIA_ROOT/imports``."""
    try:
        path = Path(job.file_path).resolve()
        if path.parent == imports_dir().resolve() and path.is_file():
            path.unlink()
    except OSError:
        logger.warning("could not remove import file of job %s", job.pk)


class _JobProgress:
    """Progress callback writing to the job row at most twice a second. Only called outside the commit
    transaction, so on SQLite it never competes with the writer for the lock."""

    def __init__(self, job: ImportJob) -> None:
        self.job = job

    def __call__(self, processed: int, total: int, message: str) -> None:
        from .models import ImportJob

        ImportJob.objects.filter(pk=self.job.pk).update(
            processed_rows=processed, total_rows=total, message=str(message)[:500], updated_at=timezone.now()
        )


def execute_job(job: ImportJob) -> ImportResult | None:
    """Run ``job`` now, in this process (inline from a view or in the Huey worker) and record the outcome
    on it: counts, row errors, status and a Chinese summary. Never raises for a bad file."""
    from .models import ImportJob

    Status = ImportJob.Status
    spec = get_spec(job.kind)

    def finish(result: ImportResult) -> None:
        job.total_rows = result.total_rows
        job.processed_rows = result.total_rows
        job.created_count = result.counts.created
        job.updated_count = result.counts.updated
        job.unchanged_count = result.counts.unchanged
        job.error_count = result.bad_rows
        job.errors = [e.as_list() for e in result.errors]
        job.message = result.summary(spec)[:500]
        if result.dry_run:
            job.status = Status.PREVIEWED
        elif result.committed:
            job.status = Status.DONE
        else:
            job.status = Status.FAILED
        job.finished_at = timezone.now()
        job.save()

    try:
        result = run_import(
            spec,
            job.file_path,
            file_name=job.file_name,
            branch=job.branch,
            actor=job.created_by,
            dry_run=job.dry_run,
            skip_invalid=job.skip_invalid,
            progress=_JobProgress(job),
            job=job,
            on_committed=finish,
        )
    except DomainError as exc:  # ImportFileError, or a rule the commit enforces
        job.status = Status.FAILED
        job.message = exc.message[:500]
        job.finished_at = timezone.now()
        job.save()
        _remove_upload(job)
        return None
    except Exception:
        logger.exception("import job %s failed", job.pk)
        job.status = Status.FAILED
        job.message = _("导入失败：系统内部错误，未写入任何数据。请联系系统管理员。")
        job.finished_at = timezone.now()
        job.save()
        return None
    if not result.committed:
        finish(result)
    if job.status == Status.DONE:
        _remove_upload(job)
    return result


def check_file(spec: ImportSpec, path: str | os.PathLike[str], file_name: str) -> HeaderMap:
    """The quick checks run while the user waits: type, safety, encoding and the header row. Raises
    :class:`ImportFileError`; the rows themselves are not read."""
    with open_table(path, file_name) as table:
        return _find_header(spec, iter(table))


def _start_job(
    *,
    spec: ImportSpec,
    actor: Any,
    branch: Any,
    path: Path,
    file_name: str,
    dry_run: bool,
    skip_invalid: bool,
) -> ImportJob:
    from .models import ImportJob

    background = path.stat().st_size > _limit("IMPORT_BACKGROUND_BYTES")
    job = ImportJob.objects.create(
        kind=spec.kind,
        branch=branch,
        created_by=actor,
        file_name=file_name[:255],
        file_path=str(path),
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        status=ImportJob.Status.PENDING if background else ImportJob.Status.RUNNING,
        message=_("排队等待后台处理") if background else _("正在处理"),
    )
    if background:
        from .tasks import run_import_job

        transaction.on_commit(lambda: run_import_job(job.pk))
    else:
        execute_job(job)
        job.refresh_from_db()
    return job


def _check_branch(actor: Any, branch: Any, capability: str) -> None:
    from branchcare.org.scope import branches_for

    if not branches_for(actor, capability).filter(pk=branch.pk).exists():
        raise DomainError(_("您没有向该营业部导入数据的权限。"), field="branch")


def import_job_start(
    *,
    actor: Any,
    branch: Any,
    kind: str,
    upload: Any,
    file_name: str,
    dry_run: bool = False,
    skip_invalid: bool = False,
) -> ImportJob:
    """Store an uploaded file under ``MEDIA_ROOT/imports`` and import it into ``branch`` as ``actor``.

    The file's type, safety and header are checked at once (``ImportFileError`` — nothing is stored then).
    A file up to ``IMPORT_BACKGROUND_BYTES`` is imported inline and the finished job returned; a bigger one
    becomes a pending job run by the Huey task :func:`branchcare.core.tasks.run_import_job`."""
    spec = get_spec(kind)
    _check_branch(actor, branch, spec.capability)
    file_name = os.path.basename(file_name or "") or "upload"
    size = getattr(upload, "size", None)
    max_bytes = _limit("IMPORT_MAX_BYTES")
    if size is not None and size > max_bytes:
        raise ImportFileError(
            _("文件过大（%(size)s），上限为 %(limit)s。")
            % {"size": human_size(size), "limit": human_size(max_bytes)}
        )
    ext = os.path.splitext(file_name)[1].lower()
    if ext not in EXTENSIONS:
        raise ImportFileError(
            _("不支持的文件类型“%(ext)s”：请上传 .xlsx 或 .csv 文件。") % {"ext": ext or file_name}
        )
    path = imports_dir() / f"{uuid.uuid4().hex}{ext}"
    with open(path, "wb") as out:
        for chunk in (
            upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b"")
        ):
            out.write(chunk)
    try:
        check_file(spec, path, file_name)
    except ImportFileError:
        path.unlink(missing_ok=True)
        raise
    return _start_job(
        spec=spec,
        actor=actor,
        branch=branch,
        path=path,
        file_name=file_name,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
    )


def import_job_confirm(*, actor: Any, job: ImportJob, skip_invalid: bool = False) -> ImportJob:
    """Import for real the file of a previewed job (or of one refused for bad rows, now with
    ``skip_invalid``), as a new job, without uploading it again."""
    from .models import ImportJob

    spec = get_spec(job.kind)
    _check_branch(actor, job.branch, spec.capability)
    path = Path(job.file_path)
    if job.status not in (ImportJob.Status.PREVIEWED, ImportJob.Status.FAILED) or not path.is_file():
        raise DomainError(_("该文件已导入或已失效，请重新上传。"))
    return _start_job(
        spec=spec,
        actor=actor,
        branch=job.branch,
        path=path,
        file_name=job.file_name,
        dry_run=False,
        skip_invalid=skip_invalid,
    )


def import_jobs_for(*, viewer: Any, capability: str = "data.import") -> Any:
    """Import jobs of the branches in which ``viewer`` may import, newest first."""
    from branchcare.org.scope import branches_for

    from .models import ImportJob

    return (
        ImportJob.objects.filter(branch__in=branches_for(viewer, capability))
        .select_related("branch", "created_by")
        .order_by("-created_at", "-pk")
    )


def import_job_get_for(*, viewer: Any, pk: Any, capability: str = "data.import") -> ImportJob:
    """One job ``viewer`` may see; ``Http404`` otherwise, exactly as if it did not exist."""
    try:
        pk_int = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    job = import_jobs_for(viewer=viewer, capability=capability).filter(pk=pk_int).first()
    if job is None:
        raise Http404
    return job


# ---------------------------------------------------------------------------------------------------------
# Writing spreadsheets: the error report and the template
# ---------------------------------------------------------------------------------------------------------


def error_report_xlsx(errors: Iterable[RowError | Sequence[Any]], *, truncated: bool = False) -> bytes:
    """The row errors as an xlsx workbook (行号, 列, 值, 原因); values that look like formulas are
    neutralised, so the report never runs what a hostile file contained."""

    def rows() -> Iterator[list[Any]]:
        for err in errors:
            e = err if isinstance(err, RowError) else RowError.from_list(err)
            yield [e.line, e.column, e.value, e.message]
        if truncated:
            limit = _limit("IMPORT_MAX_ERRORS", DEFAULT_MAX_ERRORS)
            yield ["", "", "", _("错误过多，仅列出前 %(n)d 条。") % {"n": limit}]

    buf = io.BytesIO()
    write_xlsx(
        buf,  # type: ignore[arg-type]
        sheet_title=_("错误明细"),
        headers=[_("行号"), _("列"), _("值"), _("原因")],
        rows=rows(),
        widths=(8, 16, 30, 60),
    )
    return buf.getvalue()


def template_xlsx(spec: ImportSpec) -> bytes:
    """An empty import template: the first sheet holds only the Chinese headers (required ones in bold, code
    columns formatted as text so Excel keeps leading zeros); a second sheet explains each column."""
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = str(spec.label)[:31]
    for i, col in enumerate(spec.columns, start=1):
        cell = ws.cell(row=1, column=i, value=str(col.label))
        cell.font = Font(bold=col.required)
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(12, len(str(col.label)) * 2 + 4)
        if col.text_format:
            ws.column_dimensions[letter].number_format = "@"
    ws.freeze_panes = "A2"
    notes = wb.create_sheet(_("填写说明"))
    notes.append([_("列名"), _("英文列名"), _("必需列"), _("可留空"), _("说明"), _("示例")])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for col in spec.columns:
        notes.append(
            [
                str(col.label),
                col.english_name,
                _("是") if col.required else _("否"),
                _("是") if col.allow_blank else _("否"),
                str(col.help),
                neutralise(col.example),
            ]
        )
    for letter, width in zip("ABCDEF", (14, 18, 8, 8, 60, 20), strict=True):
        notes.column_dimensions[letter].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
