"""Excel exports: Chinese headers, frozen header row, column widths, streamed from an iterator,
and no cell that a spreadsheet would run as a formula."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would evaluate (``=cmd|...``, ``+1+1``, ``@SUM``) gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def write_xlsx(
    path: str,
    *,
    sheet_title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[int] = (),
) -> int:
    """Stream ``rows`` into an xlsx file at ``path``; returns the number of data rows written."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet_title[:31])
    ws.freeze_panes = "A2"
    for i, width in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font, cell.fill = head_font, head_fill
        header_cells.append(cell)
    ws.append(header_cells)
    n = 0
    for row in rows:
        ws.append([neutralise(v) for v in row])
        n += 1
    wb.save(path)
    return n


def xlsx_response(
    *,
    filename: str,
    sheet_title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[int] = (),
) -> tuple[FileResponse, int]:
    """Write the workbook to a temporary file and stream it back as a download."""
    tmp = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - closed by FileResponse
    n = write_xlsx(tmp, sheet_title=sheet_title, headers=headers, rows=rows, widths=widths)  # type: ignore[arg-type]
    tmp.seek(0)
    response = FileResponse(
        tmp,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    return response, n
