"""Demo data of the off-site service: categories with SLA targets, the return-visit rules, inquiries and
complaints in every state (one overdue and escalated), a call record and this year's return visits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from branchcare.clients.models import Client
from branchcare.org.models import Branch

from . import services_inquiries as inq
from . import services_visits as visits
from .models import CallRecord, Inquiry, InquiryCategory

CATEGORIES = [
    ("ACC", "账户业务", "1", "8"),
    ("TRD", "交易与行情", "0.5", "4"),
    ("FEE", "佣金与费用", "2", "16"),
    ("PRD", "理财产品", "2", "16"),
    ("SRV", "服务质量", "1", "8"),
]

# (kind, channel, client sequence (None: unknown caller), subject, description, days ago, steps)
INQUIRIES: list[tuple[str, str, int | None, str, str, int, list[str]]] = [
    ("inquiry", "phone", 0, "询问转托管流程", "客户想把其他券商的持仓转入我部。", 0, ["assign"]),
    (
        "complaint",
        "phone",
        1,
        "佣金扣费与约定不符",
        "客户称实际佣金高于开户时约定的万分之二点五。",
        6,
        ["assign"],
    ),
    ("inquiry", "wecom", 2, "如何开通创业板权限", "", 1, ["assign", "start"]),
    ("inquiry", "email", 3, "对账单邮件收不到", "", 2, ["assign", "start", "resolve"]),
    (
        "complaint",
        "letter",
        4,
        "营业厅排队时间过长",
        "来信反映周一上午柜台排队超过 40 分钟。",
        9,
        ["assign", "start", "resolve", "close"],
    ),
    ("inquiry", "web", None, "咨询开户所需材料", "网页表单留言，非本部客户。", 0, []),
    ("inquiry", "walk_in", 5, "修改预留手机号", "", 3, ["assign", "start", "resolve", "close"]),
]


def seed_demo(*, users: dict[str, Any], today: dt.date, seed: int) -> dict[str, int]:
    """Idempotent: categories and rules are matched by code/kind; inquiries are added only once."""
    created = {
        "offsite_categories": 0,
        "offsite_inquiries": 0,
        "offsite_return_visits": 0,
        "offsite_calls": 0,
    }
    agent = users.get("agent1")
    branch = Branch.objects.filter(code="B001").first()
    if branch is None or agent is None:
        return created
    for code, name, first, resolution in CATEGORIES:
        _obj, made = InquiryCategory.objects.get_or_create(
            branch=branch,
            code=code,
            defaults={
                "name": name,
                "first_response_hours": Decimal(first),
                "resolution_hours": Decimal(resolution),
            },
        )
        created["offsite_categories"] += made
    visits.rules_for(branch.pk)
    inq.settings_for(branch.pk)
    if Inquiry.objects.filter(branch=branch, created_by=agent).exists():
        return created
    clients = list(Client.objects.filter(branch=branch).order_by("client_no")[:10])
    categories = {c.code: c for c in InquiryCategory.objects.filter(branch=branch)}
    now = timezone.now()
    for n, (kind, channel, seq, subject, description, days_ago, steps) in enumerate(INQUIRIES):
        client = clients[seq] if seq is not None and seq < len(clients) else None
        at = now - dt.timedelta(days=days_ago, hours=n)
        category = categories["FEE" if "佣金" in subject else "SRV" if kind == "complaint" else "ACC"]
        obj = inq.inquiry_create(
            actor=agent,
            data=inq.InquiryInput(
                kind=kind, channel=channel, subject=subject, description=description, category_id=category.pk,
                client_id=client.pk if client else None, caller_name="" if client else "王先生",
                caller_phone="" if client else "13900001234",
            ),
            now=at,
        )  # fmt: skip
        created["offsite_inquiries"] += 1
        for step in steps:
            if step == "assign":
                obj = inq.inquiry_assign(
                    actor=agent, inquiry=obj, assignee=agent, now=at + dt.timedelta(minutes=5)
                )
            elif step == "resolve":
                obj = inq.inquiry_transition(
                    actor=agent,
                    inquiry=obj,
                    name="resolve",
                    note="已向客户说明并处理完毕。",
                    now=at + dt.timedelta(hours=1),
                )
            elif step == "close":
                obj = inq.inquiry_transition(
                    actor=agent,
                    inquiry=obj,
                    name="close",
                    client_confirmed=True,
                    now=at + dt.timedelta(hours=2),
                )
            else:
                obj = inq.inquiry_transition(
                    actor=agent, inquiry=obj, name=step, now=at + dt.timedelta(minutes=10)
                )
    inq.inquiries_escalate(now=now)  # the old complaint is overdue: escalated to the director
    if clients:
        CallRecord.objects.create(
            branch=branch, agent=agent, phone=clients[0].phone, client=clients[0],
            started_at=now - dt.timedelta(hours=1), ended_at=now - dt.timedelta(minutes=55), note="询问转托管",
        )  # fmt: skip
        created["offsite_calls"] += 1
    generated = visits.annual_sample(branch=branch, year=today.year, seed=seed, today=today)
    recent = list(
        Client.objects.filter(branch=branch).order_by("-client_no").values_list("pk", flat=True)[:3]
    )
    rule = next(r for r in visits.rules_for(branch.pk) if r.kind == "new_account")
    generated += visits.visits_generate(
        rule=rule,
        planned=[
            visits.PlannedVisit(pk, "new_account", today + dt.timedelta(days=20 - 15 * i))
            for i, pk in enumerate(recent)
        ],
    )
    created["offsite_return_visits"] += len(generated)
    return created
