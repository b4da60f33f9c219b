"""Demo data for 潜客开发: three partners of the director's branch and about forty prospects across
sources, segments and stages — some in the pool, some overdue for a follow-up, a few converted into demo
clients (credited to their partner and owner). Idempotent: partners are matched by referral code,
prospects by phone."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.utils import timezone

from branchcare.clients.models import Client

from .models import Partner, Prospect, ProspectFollowUp
from .workflows import RANK

PARTNERS = (
    ("DZH-PD", "大智慧软件浦东体验店", Partner.Kind.SOFTWARE, "陈立新", "021-58881234", Decimal("0.1500")),
    ("PC-ZJ", "张江电脑城", Partner.Kind.COMPUTER_SHOP, "王海涛", "021-50801122", Decimal("0.1800")),
    ("ZX-HS", "恒升投资咨询", Partner.Kind.CONSULTING, "刘敏", "021-68776655", Decimal("0.2000")),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "涛", "明", "超", "霞")
NOTES = ("电话介绍低佣金方案", "约周末来营业部参观", "询问两融开通条件", "关注投顾服务", "已加企业微信")


def seed_demo(*, users: dict[str, Any], today: dt.date, seed: int) -> dict[str, int]:
    director = users.get("director")
    if director is None or not director.branch_id:
        return {}
    branch = director.branch
    rng = random.Random(seed + 6)
    partners = []
    for code, name, kind, contact, phone, rate in PARTNERS:
        obj, _created = Partner.objects.get_or_create(
            referral_code=code,
            defaults={
                "branch": branch, "name": name, "kind": kind, "contact_name": contact, "contact_phone": phone,
                "offered_rate": rate, "agreement_start": today - dt.timedelta(days=200),
                "agreement_end": today + dt.timedelta(days=165),
            },
        )  # fmt: skip
        partners.append(obj)
    owners = [u for key in ("broker1", "manager1", "manager2") if (u := users.get(key)) is not None]
    if not owners:
        return {"prospects.partners": len(partners)}
    # clients of the branch to convert into (the newest ones, not linked yet, not the fixed demo clients)
    free_clients = list(
        Client.objects.filter(branch=branch)
        .exclude(source_prospects__isnull=False)
        .order_by("-pk")
        .values("pk", "total_assets")[:6]
    )
    now = timezone.now()
    created = 0
    for i in range(40):
        phone = f"1590000{i:04d}"
        if Prospect.objects.filter(phone=phone).exists():
            continue
        source = rng.choice(["partner", "partner", "partner", "walk_in", "event", "meeting"])
        partner: Partner | None = rng.choice(partners) if source == "partner" else None
        segment = "price" if source == "partner" or rng.random() < 0.4 else "advice"
        stage = rng.choice([Prospect.Stage.LEAD, Prospect.Stage.LEAD, Prospect.Stage.CONTACTED,
                            Prospect.Stage.CONTACTED, Prospect.Stage.VISITED, Prospect.Stage.LOST])  # fmt: skip
        owner = None if i % 7 == 3 else owners[i % len(owners)]
        registered = now - dt.timedelta(days=rng.randint(2, 80), hours=rng.randint(0, 8))
        touched = registered + dt.timedelta(days=rng.randint(0, 5))
        client = free_clients.pop() if i % 6 == 0 and free_clients and owner is not None else None
        p = Prospect.objects.create(
            branch=branch, name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(("", *GIVEN)),
            phone=phone, source=source, partner=partner, segment=segment,
            owner=owner, stage=stage, reached=RANK.get(stage, 1), last_touched_at=min(touched, now),
            state_changed_at=min(touched, now), next_follow_up_due=today + dt.timedelta(days=rng.randint(-4, 7)),
            offered_rate=partner.offered_rate if partner else None, created_by=owner or director,
        )  # fmt: skip
        if client is not None:
            stage = Prospect.Stage.FUNDED if client["total_assets"] > 0 else Prospect.Stage.OPENED
            Prospect.objects.filter(pk=p.pk).update(
                client_id=client["pk"], stage=stage, reached=RANK[stage],
                converted_at=registered + dt.timedelta(days=rng.randint(3, 20)), credited_owner=owner,
                credited_partner=partner, premium_offered=segment == "advice", next_follow_up_due=None,
            )  # fmt: skip
        Prospect.objects.filter(pk=p.pk).update(created_at=registered)
        if stage != Prospect.Stage.LEAD and (owner or director):
            ProspectFollowUp.objects.create(
                prospect=p, channel=rng.choice(["phone", "wechat", "visit"]), notes=rng.choice(NOTES),
                at=min(touched, now), by=owner or director,
            )  # fmt: skip
        created += 1
    return {"prospects.partners": len(partners), "prospects.prospects": created}
