"""Demo data of the premium service: the rate table (with an upcoming version), eight premium clients of
broker1 (one downgraded, one exited), desk requests in every state — one breached and escalated — a
research question answered by researcher1, and broker1's briefing for today."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from branchcare.clients.models import Client
from branchcare.core.errors import DomainError
from branchcare.org.models import Branch

from . import services as svc
from .models import Enrolment, PremiumRate, PremiumRequest, ServiceTier

RATES = {
    ServiceTier.SILVER: Decimal("0.40"),
    ServiceTier.GOLD: Decimal("0.60"),
    ServiceTier.DIAMOND: Decimal("0.80"),
}
TIERS = [ServiceTier.DIAMOND, ServiceTier.GOLD, ServiceTier.GOLD, ServiceTier.SILVER]

# (client index, channel, subject, body, hours ago, steps)
REQUESTS: list[tuple[int, str, str, str, float, list[str]]] = [
    (0, "phone", "询问持仓银行股是否减仓", "客户关心银行板块近期回调，问是否需要减仓。", 0.2, []),
    (
        1,
        "wecom",
        "新能源板块后市观点",
        "客户持有宁德时代，想了解研究员对新能源板块的最新观点。",
        2.0,
        ["start", "ask"],
    ),
    (2, "in_person", "调整资产配置", "客户希望把部分股票仓位换成红利类 ETF。", 5.0, ["start"]),
    (
        3,
        "via_manager",
        "分红到账时间",
        "客户经理转达：客户询问招商银行分红何时到账。",
        30.0,
        ["start", "ask", "answer", "relay", "resolve", "close5"],
    ),
    (4, "phone", "融资融券开通条件", "客户询问两融开户门槛。", 50.0, ["start", "resolve", "close4"]),
    (
        5,
        "wecom",
        "夜间急询：美股大跌影响",
        "客户夜间来信询问外盘大跌对次日 A 股的影响。",
        3.0,
        [],
    ),  # breached
]


def _rates(branch: Branch, director: Any, today: dt.date) -> int:
    if PremiumRate.objects.filter(branch=branch).exists():
        return 0
    start = today - dt.timedelta(days=365)
    for tier, rate in RATES.items():
        svc.rate_add(
            actor=director, branch=branch, tier=tier, commission_rate=rate, effective_from=start, today=start
        )
    svc.rate_add(
        actor=director, branch=branch, tier=ServiceTier.GOLD, commission_rate=Decimal("0.65"),
        effective_from=today + dt.timedelta(days=30), note="2026 年调价", today=today,
    )  # fmt: skip
    return 4


def seed_demo(*, users: dict[str, Any], today: dt.date, seed: int) -> dict[str, int]:
    """Idempotent: nothing is added to a branch that already has premium enrolments or requests."""
    created = {
        "premium_rates": 0,
        "premium_enrolments": 0,
        "premium_requests": 0,
        "premium_briefing_items": 0,
    }
    director, broker, researcher = users.get("director"), users.get("broker1"), users.get("researcher1")
    if director is None or broker is None or director.branch_id is None:
        return created
    branch = director.branch
    created["premium_rates"] += _rates(branch, director, today)
    b2director = users.get("b2director")
    if b2director is not None and b2director.branch_id:
        created["premium_rates"] += _rates(b2director.branch, b2director, today)
    if not Enrolment.objects.filter(branch=branch).exists():
        clients = list(
            Client.objects.filter(branch=branch, status=Client.Status.ACTIVE, is_premium=False).order_by(
                "-total_assets", "client_no"
            )[:9]
        )
        for i, client in enumerate(clients):
            effective = today - dt.timedelta(days=300 - i * 30)
            try:
                e = svc.enrol(
                    actor=director, client=client, broker=broker, tier=TIERS[i % len(TIERS)],
                    agreement_no=f"GD-{effective:%Y%m}-{i + 1:03d}", signed_on=effective, effective_on=effective, today=today,
                )  # fmt: skip
            except DomainError:
                continue
            created["premium_enrolments"] += 1
            if i == 6:  # downgraded last month
                svc.enrolment_downgrade(
                    actor=director, enrolment=e, tier=ServiceTier.SILVER, effective_on=today - dt.timedelta(days=20),
                    reason="客户交易频率下降，申请降低服务等级", today=today,
                )  # fmt: skip
            if i == 8:  # exited
                svc.enrolment_exit(
                    actor=director,
                    enrolment=e,
                    ended_on=today - dt.timedelta(days=10),
                    reason="资产转出至他行",
                    today=today,
                )
    if not PremiumRequest.objects.filter(branch=branch).exists():
        active = list(
            Enrolment.objects.filter(branch=branch, state=Enrolment.State.ACTIVE)
            .select_related("client")
            .order_by("effective_on")
        )
        now = timezone.now()
        for idx, channel, subject, body, hours, steps in REQUESTS:
            if idx >= len(active):
                continue
            t = now - dt.timedelta(hours=hours)
            req = svc.request_create(
                actor=broker,
                client=active[idx].client,
                channel=channel,
                subject=subject,
                body=body,
                received_at=t,
                now=t,
            )
            created["premium_requests"] += 1
            step_t = t
            question = None
            for step in steps:
                step_t += dt.timedelta(minutes=12)
                req.refresh_from_db()
                if step == "start":
                    svc.request_start(actor=broker, req=req, text="您好，已收到，马上为您处理。", now=step_t)
                elif step == "ask" and researcher is not None:
                    question = svc.question_ask(
                        actor=broker,
                        req=req,
                        question=f"客户问：{subject}。请给出研究观点。",
                        researcher=researcher,
                        now=step_t,
                    )
                elif step == "answer" and question is not None:
                    svc.question_answer(
                        actor=researcher,
                        question=question,
                        answer="公司公告分红将于下月中旬派发，以公告为准。",
                        now=step_t,
                    )
                elif step == "relay" and question is not None:
                    svc.question_relay(actor=broker, question=question, now=step_t)
                elif step == "resolve":
                    svc.request_resolve(actor=broker, req=req, resolution="已向客户详细说明。", now=step_t)
                elif step.startswith("close"):
                    svc.request_close(actor=broker, req=req, satisfaction=int(step[-1]), now=step_t)
        svc.requests_escalate(now=now)
    try:
        from .services_briefing import briefing_generate

        b = briefing_generate(broker=broker, date=today, actor=broker)
        created["premium_briefing_items"] = b.items.count()
    except DomainError:
        pass
    return created
