"""Demo research: sources of every kind (incl. an external partner whose contract has expired),
~15 published items — reports, market commentary and stock recommendations on securities the
demo clients hold — and one item waiting for compliance review. Idempotent (matched by title)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.utils import timezone

from branchcare.clients.models import Client, Holding, Price, Security
from branchcare.org.models import Branch

from . import services as svc
from .models import ResearchItem, ResearchSource

COMMENTARY = [
    (
        "早盘解盘：指数震荡，关注成交量变化",
        "沪深两市早盘窄幅震荡，成交量较昨日同期略有萎缩。建议控制仓位，关注量能能否有效放大。",
    ),
    ("午间解盘：金融板块护盘，成长股分化", "银行、保险板块午前走强，成长股内部分化明显，短线以观望为主。"),
    ("收盘点评：北向资金净流入，市场情绪回暖", "北向资金全天净流入，消费与医药板块领涨，市场情绪有所回暖。"),
]
REPORTS = [
    (
        "银行业季度展望：息差企稳，资产质量平稳",
        "银行",
        "R2",
        "行业净息差降幅收窄，资产质量总体平稳，高股息银行具备配置价值。",
    ),
    ("保险行业深度：负债端改善，投资端承压", "保险", "R3", "寿险新单保费回暖，利率下行对投资收益形成压力。"),
    (
        "医药行业中期策略：创新药进入收获期",
        "医药",
        "R3",
        "创新药出海与集采出清并行，关注研发管线丰富的龙头。",
    ),
    ("白酒行业跟踪：渠道库存回落，价格趋稳", "白酒", "R3", "高端白酒批价企稳，渠道库存回落至合理水平。"),
    ("半导体设备国产化专题：替代加速", "半导体", "R4", "国产刻蚀、薄膜沉积设备验证加速，订单能见度提升。"),
    ("证券行业点评：交投活跃带动经纪业务", "证券", "R3", "两市成交额回升，经纪与两融业务收入有望改善。"),
]
DIRECTIONS = ["buy", "add", "hold", "add", "buy", "reduce"]


def _source(**kw: Any) -> tuple[ResearchSource, bool]:
    return ResearchSource.objects.get_or_create(name=kw.pop("name"), defaults=kw)


def _last_close(security: Security) -> Decimal | None:
    return Price.objects.filter(security=security).order_by("-date").values_list("close", flat=True).first()


def seed_demo(*, users: dict[str, Any], today: dt.date, seed: int) -> dict[str, int]:
    rng = random.Random(seed + 5)
    researcher, reviewer = users.get("researcher1"), users.get("compliance1")
    b1 = Branch.objects.filter(code="B001").first()
    if researcher is None or reviewer is None or b1 is None:
        return {}
    created = 0
    own, c = _source(name="浦东营业部研究组", branch=b1, kind="own")
    created += c
    head, c = _source(name="总部研究所", branch=None, kind="head_office")
    created += c
    partner, c = _source(
        name="复旦大学金融研究院", branch=b1, kind="external", licence_no="ZXGW-2024-0317",
        contract_start=today - dt.timedelta(days=200), contract_end=today + dt.timedelta(days=500),
    )  # fmt: skip
    created += c
    _source(
        name="沪上投资咨询有限公司", branch=b1, kind="external", licence_no="ZXGW-2021-0088",
        contract_start=today - dt.timedelta(days=900), contract_end=today - dt.timedelta(days=30),
        notes="合同已到期，续签中",
    )  # fmt: skip
    existing = set(ResearchItem.objects.values_list("title", flat=True))
    specs: list[dict[str, Any]] = []
    for i, (title, body) in enumerate(COMMENTARY):
        specs.append({"source": own, "kind": "commentary", "title": title, "body": body, "risk_rating": "R1",
                      "industries": [], "days_ago": i})  # fmt: skip
    for i, (title, industry, risk, body) in enumerate(REPORTS):
        specs.append({"source": head if i % 2 == 0 else partner, "kind": "report", "title": title, "body": body,
                      "summary": body[:60], "risk_rating": risk, "industries": [industry], "days_ago": 2 + i * 2})  # fmt: skip
    # Recommendations on securities the fixed demo clients (张三, 李四) and their branch hold.
    fixed = list(Client.objects.filter(branch=b1, name__in=["张三", "李四"]).values_list("pk", flat=True))
    held = list(
        Holding.objects.filter(client_id__in=fixed, security__kind="stock")
        .select_related("security")
        .order_by("security__code")
        .values_list("security_id", flat=True)
        .distinct()[:4]
    )
    if len(held) < 6:
        more = (
            Holding.objects.filter(client__branch=b1, security__kind="stock")
            .exclude(security_id__in=held)
            .values_list("security_id", flat=True)
            .distinct()[:20]
        )
        held += [s for s in more if s not in held][: 6 - len(held)]
    client_levels = [
        lvl for lvl in Client.objects.filter(pk__in=fixed).values_list("risk_level", flat=True) if lvl
    ]
    rec_risk = min(client_levels or ["C3"]).replace("C", "R")
    for i, sec in enumerate(Security.objects.filter(pk__in=held).order_by("code")):
        close = _last_close(sec) or Decimal("10")
        direction = DIRECTIONS[i % len(DIRECTIONS)]
        up = direction in ("buy", "add", "hold")
        specs.append({
            "source": own if i % 2 == 0 else head, "kind": "recommendation",
            "title": f"{sec.name}（{sec.code}）：{dict(ResearchItem.Direction.choices)[direction]}",
            "body": f"{sec.name}基本面稳健，{sec.industry or '行业'}景气度改善。", "risk_rating": rec_risk,
            "industries": [sec.industry] if sec.industry else [], "security": sec, "direction": direction,
            "target_price": (close * Decimal("1.18" if up else "0.88")).quantize(Decimal("0.01")),
            "stop_loss": (close * Decimal("0.92" if up else "1.06")).quantize(Decimal("0.01")),
            "horizon_days": rng.choice([20, 60, 90]), "reason": f"业绩增长确定性较高，估值处于历史区间{'下沿' if up else '上沿'}。",
            "days_ago": 1 + i,
        })  # fmt: skip
    for spec in specs:
        if spec["title"] in existing:
            continue
        days_ago = spec.pop("days_ago")
        item = svc.item_create(actor=researcher, data=spec)
        item = svc.item_submit(actor=researcher, item=item)
        item = svc.item_review(actor=reviewer, item=item, decision="approve", comment="合规审核通过")
        when = timezone.now() - dt.timedelta(days=days_ago)
        ResearchItem.objects.filter(pk=item.pk).update(
            published_on=timezone.localdate(when), published_at=when
        )
        created += 1
    title = "新能源汽车产业链月报：销量超预期"
    if title not in existing:
        item = svc.item_create(actor=researcher, data={
            "source": own, "kind": "report", "title": title, "risk_rating": "R3", "industries": ["汽车"],
            "body": "月度销量同比高增，电池材料价格企稳，关注整车与零部件龙头。"})  # fmt: skip
        svc.item_submit(actor=researcher, item=item)
        created += 1
    return {"research_items": created}
