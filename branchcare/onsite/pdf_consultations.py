"""The advice letter (投资建议书) as an A4 PDF with a CJK font, for delivery to the client.

Font: a TrueType CJK font, embedded (as a subset, with a ToUnicode map so the text can be copied and
searched). reportlab cannot use the CFF-outline Noto Sans CJK of fonts-noto-cjk, so the letter looks for
the TrueType fonts of Debian's fonts-wqy-zenhei (installed by ``scripts/ensure-chromium.sh``),
fonts-wqy-microhei or fonts-arphic-uming, at their usual paths — no setting needed. Only when none is
installed does it fall back to reportlab's built-in CID font ``STSong-Light`` (not embedded: the viewer
substitutes its own Chinese font), with a warning in the log.
"""

from __future__ import annotations

import functools
import io
import logging
import os
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .models import Advice, ConsultationOrder

logger = logging.getLogger(__name__)

# Tried in order: (path, subfont index). TrueType outlines only (reportlab does not read CFF).
FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf", 0),
    ("/usr/local/share/fonts/wqy-zenhei.ttc", 0),
)
FALLBACK_FONT = "STSong-Light"


@functools.cache
def cjk_font() -> str:
    """Register and return the name of the CJK font used for letters."""
    for path, index in FONT_CANDIDATES:
        if not os.path.exists(path):
            continue
        try:
            pdfmetrics.registerFont(TTFont("BranchCareCJK", path, subfontIndex=index))
        except Exception as exc:  # noqa: BLE001 - unreadable or CFF-outline font: try the next one
            logger.debug("CJK font %s not usable: %s", path, exc)
            continue
        return "BranchCareCJK"
    logger.warning(
        "No TrueType CJK font found (tried %s): advice letters use %s, which is not embedded. "
        "Install fonts-wqy-zenhei.",
        ", ".join(path for path, _index in FONT_CANDIDATES),
        FALLBACK_FONT,
    )
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    return FALLBACK_FONT


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text or "")).replace("\n", "<br/>"), style)


def advice_letter_pdf(*, order: ConsultationOrder, advice: Advice) -> bytes:
    """The letter for ``advice`` (one version of ``order``'s advice) as PDF bytes."""
    font = cjk_font()
    base = ParagraphStyle("base", fontName=font, fontSize=10, leading=15, wordWrap="CJK")
    small = ParagraphStyle("small", parent=base, fontSize=8.5, leading=12)
    title = ParagraphStyle("title", parent=base, fontSize=17, leading=24, alignment=TA_CENTER, spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=base, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4)
    warn = ParagraphStyle(
        "warn", parent=base, borderColor=colors.HexColor("#b02a37"), borderWidth=0.6, borderPadding=6,
        backColor=colors.HexColor("#fff5f5"),
    )  # fmt: skip

    branch = order.branch
    client = order.client
    lines = {line.security_id: line for line in advice.lines.select_related("security")}
    holdings = list(order.holdings.select_related("security").order_by("security__code"))
    issued = timezone.localtime(advice.delivered_at or advice.submitted_at or advice.created_at)

    story: list = [
        _p("投资建议书", title),
        _p(f"咨询单编号：{order.pk}　　版本：第 {advice.version} 版　　出具日期：{issued:%Y-%m-%d}", small),
        Spacer(1, 4 * mm),
        _p("客户信息", h2),
        _p(
            f"客户：{client.name}（客户号 {client.client_no}）　　风险承受等级：{client.risk_level or '未测评'}",
            base,
        ),
        _p(f"客户问题：{order.question}", base),
        _p("持仓与逐项建议", h2),
    ]
    header = ["证券", "数量（股）", "成本价", "风险等级", "建议", "理由"]
    rows = [[_p(h, small) for h in header]]
    held_ids = set()
    for h in holdings:
        held_ids.add(h.security_id)
        line = lines.get(h.security_id)
        rows.append(
            [
                _p(f"{h.security.code} {h.security.name}", small),
                _p(f"{h.quantity:,}", small),
                _p(f"{h.cost_price:,.{h.security.price_decimals}f}", small),
                _p(h.security.risk_rating, small),
                _p(line.get_action_display() if line else "—", small),
                _p(line.rationale if line else "", small),
            ]
        )
    for sid, line in lines.items():
        if sid not in held_ids:
            rows.append(
                [
                    _p(f"{line.security.code} {line.security.name}", small),
                    _p("—", small),
                    _p("—", small),
                    _p(line.security.risk_rating, small),
                    _p(line.get_action_display(), small),
                    _p(line.rationale, small),
                ]
            )
    table = Table(rows, colWidths=[32 * mm, 20 * mm, 18 * mm, 16 * mm, 14 * mm, 70 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#adb5bd")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [table, _p("总体建议", h2), _p(advice.overall, base)]
    citations = list(advice.citations.all())
    if citations:
        story.append(_p("引用研究资料", h2))
        for no, c in enumerate(citations, start=1):
            published = f"{c.published_on:%Y-%m-%d}" if c.published_on else "—"
            story.append(
                _p(f"{no}. 《{c.title}》　发布机构：{c.publisher or '—'}　发布日期：{published}", small)
            )
    if advice.client_request_ack:
        story += [
            Spacer(1, 2 * mm),
            _p(
                "特别风险提示：本建议中部分证券的风险等级高于您的风险承受等级，系应您的主动要求提供，"
                "您已知悉并确认相关风险。",
                warn,
            ),
        ]
    story += [
        _p("风险提示", h2),
        _p(advice.risk_warning, warn),
        Spacer(1, 6 * mm),
        _p(f"投资顾问：{advice.consultant}　　执业编号：{advice.practice_no}", base),
        _p(f"客户经理：{order.manager}", base),
        _p(f"{branch.name}", base),
    ]
    if advice.replaces is not None:
        story.insert(2, _p(f"本版本为更正版本，替代第 {advice.replaces.version} 版。", small))

    def decorate(canvas, doc) -> None:
        canvas.saveState()
        width, height = A4
        canvas.setFont(font, 9)
        canvas.setFillColor(colors.HexColor("#495057"))
        canvas.drawString(18 * mm, height - 12 * mm, f"{branch.name}（{branch.code}）  客户服务中心")
        canvas.drawRightString(width - 18 * mm, height - 12 * mm, "投资建议书")
        canvas.setStrokeColor(colors.HexColor("#0d6efd"))
        canvas.line(18 * mm, height - 14 * mm, width - 18 * mm, height - 14 * mm)
        canvas.drawCentredString(width / 2, 10 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=22 * mm,
        bottomMargin=18 * mm,
        title=f"投资建议书 {order.pk}-v{advice.version}",
        author=str(advice.consultant),
    )
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()
