"""Excel and PDF documents of the supervision app: a period's assessment (考核结果) and one client's
complete service history (客户服务记录). Excel through ``core.exports``; PDF on A4 with the CJK font the
advice letter uses (``onsite.pdf_consultations.cjk_font``) when that module exists, else reportlab's
built-in CID font."""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable, Sequence
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .compliance import ClientHistory
from .selectors import ScorecardTable


@functools.cache
def cjk_font() -> str:
    try:
        from branchcare.onsite.pdf_consultations import cjk_font as onsite_font
    except ImportError:
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        return "STSong-Light"
    return onsite_font()


def fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:.2f}%"
    if unit in ("小时", "分"):
        return f"{value:.2f}"
    return f"{value:g}"


def scorecard_rows(table: ScorecardTable) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the assessment: person / team / branch, each measure's value and score, total."""
    items = table.version.items
    headers = ["层级", "姓名/团队", "团队"]
    for item in items:
        unit = f"（{item.measure.unit}）" if item.measure.unit else ""
        headers += [f"{item.measure.label}{unit}", f"{item.measure.label}得分（权重{item.weight}）"]
    headers.append("综合得分")
    level_names = {"person": "个人", "team": "团队小计", "branch": "营业部合计"}
    rows = []
    for line in table.lines:
        row: list[Any] = [
            level_names[line.level],
            line.label,
            (line.employee.team.name if line.employee and line.employee.team else "")
            if line.level == "person"
            else "",
        ]
        for item in items:
            fig = line.figures.get(item.measure.code)
            value = fig.value if fig and fig.has_data else None
            score = line.item_scores.get(item.measure.code)
            row += [value if value is not None else "", score if score is not None else ""]
        row.append(line.total if line.total is not None else "")
        rows.append(row)
    return headers, rows


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=8.5, leading=11, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle(
            "title", parent=base, fontSize=15, leading=21, alignment=TA_CENTER, spaceAfter=4
        ),
        "meta": ParagraphStyle("meta", parent=base, fontSize=9, leading=13, alignment=TA_CENTER),
        "h2": ParagraphStyle("h2", parent=base, fontSize=11, leading=16, spaceBefore=8, spaceAfter=4),
    }


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text if text is not None else "")).replace("\n", "<br/>"), style)


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], style: ParagraphStyle, widths: Any = None
) -> Table:
    data = [[_p(h, style) for h in headers]] + [[_p(c, style) for c in r] for r in rows]
    t = Table(data, repeatRows=1, colWidths=widths)
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#9aa4b2")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde8f7")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return t


def _page_numbers(font: str, header: str):
    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        width, height = doc.pagesize
        canvas.drawString(doc.leftMargin, height - 10 * mm, header)
        canvas.drawRightString(width - doc.rightMargin, 8 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    return draw


def _scorecard_widths(n_items: int) -> list[float]:
    """Level, name, team and total get fixed widths; the measures share the rest of landscape A4."""
    fixed = [16 * mm, 24 * mm, 20 * mm]
    total = 18 * mm
    rest = (297 - 24) * mm - sum(fixed) - total
    each = rest / max(2 * n_items, 1)
    return [*fixed, *([each] * (2 * n_items)), total]


def scorecard_pdf(table: ScorecardTable, *, role_label: str) -> bytes:
    font = cjk_font()
    st = _styles(font)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm, topMargin=16 * mm,
        bottomMargin=14 * mm, title=f"考核结果 {table.period.label}",
    )  # fmt: skip
    headers, rows = scorecard_rows(table)
    version = (
        "系统默认方案"
        if table.version.is_default
        else f"{table.version.effective_from:%Y-%m-%d} 起生效的方案"
    )
    story: list = [
        _p(f"{table.branch.name} {role_label}考核结果", st["title"]),
        _p(
            f"考核期间 {table.period.first:%Y-%m-%d} 至 {table.period.last:%Y-%m-%d}（{table.period.label}）· "
            f"{version} · 生成于 {timezone.localtime():%Y-%m-%d %H:%M}",
            st["meta"],
        ),
        Spacer(1, 4 * mm),
        _table(headers, rows, st["base"], _scorecard_widths(len(table.version.items))),
        Spacer(1, 3 * mm),
        _p(
            "说明：各指标 0 分对应底线值、100 分对应目标值，其间按比例计分；综合得分为有数据指标的加权平均。"
            "数据来自每日汇总，可在系统中逐项下钻到原始记录。",
            st["base"],
        ),
    ]
    draw = _page_numbers(font, f"{table.branch.code} {table.branch.name} · 监督考核")
    doc.build(story, onFirstPage=draw, onLaterPages=draw)
    return buf.getvalue()


HISTORY_HEADERS = ["时间", "类别", "事项", "内容", "经办人"]


def history_rows(history: ClientHistory) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for line in history.lines:
        rows.append(
            [
                line.at.strftime("%Y-%m-%d %H:%M") if line.at else "",
                line.kind,
                line.title,
                line.detail,
                line.actor,
            ]
        )
    for line in history.audit:
        rows.append(
            [line.at.strftime("%Y-%m-%d %H:%M") if line.at else "", f"审计：{line.kind}", line.title, line.detail,
             line.actor]
        )  # fmt: skip
    return rows


def history_pdf(history: ClientHistory) -> bytes:
    font = cjk_font()
    st = _styles(font)
    c = history.client
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=16 * mm, bottomMargin=14 * mm,
        title=f"客户服务记录 {c.client_no}",
    )  # fmt: skip
    widths = [30 * mm, 22 * mm, 44 * mm, 67 * mm, 23 * mm]
    story: list = [
        _p("客户服务记录", st["title"]),
        _p(
            f"{c.client_no} {c.name} · 手机 {history.phone or '—'} · 证件 {history.id_number or '—'} · "
            f"{c.branch.name} · 生成于 {timezone.localtime(history.generated_at):%Y-%m-%d %H:%M}"
            f"（{history.viewer}）",
            st["meta"],
        ),
        _p(f"服务事件（{len(history.lines)} 条）", st["h2"]),
        _table(HISTORY_HEADERS, history_rows_only(history.lines), st["base"], widths),
        _p(f"审计记录（{len(history.audit)} 条）", st["h2"]),
        _table(HISTORY_HEADERS, history_rows_only(history.audit), st["base"], widths),
    ]
    draw = _page_numbers(font, f"{c.branch.code} {c.branch.name} · 客户服务记录 · {c.client_no}")
    doc.build(story, onFirstPage=draw, onLaterPages=draw)
    return buf.getvalue()


def history_rows_only(lines: Iterable[Any]) -> list[list[Any]]:
    return [
        [
            line.at.strftime("%Y-%m-%d %H:%M") if line.at else "",
            line.kind,
            line.title,
            line.detail,
            line.actor,
        ]
        for line in lines
    ]
