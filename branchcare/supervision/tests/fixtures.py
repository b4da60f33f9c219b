"""Known on-site records for the supervision tests (dated in November 2026, Asia/Shanghai)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from branchcare.clients.models import Client
from branchcare.onsite.models import (
    ConsultationOrder,
    FollowUp,
    Patrol,
    PatrolPlanItem,
    Visit,
    VisitPlan,
    VisitPlanItem,
)
from branchcare.testing.factories import ClientFactory, RoomFactory

TZ = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 11, 24)  # Tuesday, a trading day
NOW = dt.datetime(2026, 11, 25, 14, 0, tzinfo=TZ)
S = ConsultationOrder.State


def at(d: int, h: int = 10, mi: int = 0, m: int = 11) -> dt.datetime:
    return dt.datetime(2026, m, d, h, mi, tzinfo=TZ)


def order(manager, client, state, **kw):
    return ConsultationOrder.objects.create(
        branch=manager.branch, client=client, manager=manager, question="持仓怎么办？", state=state, **kw
    )


def build(world) -> dict:
    """manager1's day 24 Nov: plan of 4 (2 done, 1 planned, 1 swapped), quota 4 visits / 2 patrols;
    3 visits (2 planned, 1 unplanned), 1 patrol. consultant1's orders due that day: 3 decided (2 on time),
    1 cancelled; 1 late held by consultant1; ratings; follow-ups."""
    m1, c1 = world["manager1"], world["consultant1"]
    b1 = world.b1
    clients = [
        ClientFactory(branch=b1, manager=m1, name=f"客户{i}", tier=Client.Tier.SMALL) for i in range(4)
    ]
    room = RoomFactory(branch=b1)
    plan = VisitPlan.objects.create(branch=b1, manager=m1, date=DAY, visits_quota=4, patrols_quota=2)
    statuses = ["done", "done", "planned", "swapped"]
    items = [
        VisitPlanItem.objects.create(plan=plan, client=c, rank=i + 1, status=s)
        for i, (c, s) in enumerate(zip(clients, statuses, strict=True))
    ]
    Visit.objects.create(
        branch=b1,
        manager=m1,
        client=clients[0],
        at=at(24, 9, 40),
        topic="拜访",
        plan_item=items[0],
        satisfaction=5,
    )
    Visit.objects.create(
        branch=b1,
        manager=m1,
        client=clients[1],
        at=at(24, 10),
        topic="拜访",
        plan_item=items[1],
        satisfaction=4,
    )
    Visit.objects.create(branch=b1, manager=m1, client=world.client_m1, at=at(24, 14), topic="计划外")
    r1 = PatrolPlanItem.objects.create(plan=plan, room=room, round_no=1, status="done")
    PatrolPlanItem.objects.create(plan=plan, room=room, round_no=2)
    Patrol.objects.create(branch=b1, manager=m1, room=room, at=at(24, 11), plan_item=r1)
    # a visit on another day must not count on the 24th
    Visit.objects.create(branch=b1, manager=m1, client=clients[2], at=at(23, 23, 59), topic="前一天")

    due = at(24, 13)
    o_ontime = order(m1, clients[0], S.DELIVERED, consultant=c1, submitted_at=at(24, 9, 30), due_at=due,
                     advice_ready_at=at(24, 10, 30), delivered_at=at(24, 11), manager_rating=5,
                     consultant_rating=4)  # fmt: skip
    o_ontime2 = order(m1, clients[1], S.CLOSED, consultant=c1, submitted_at=at(24, 9, 30), due_at=due,
                      advice_ready_at=at(24, 11, 30), delivered_at=at(24, 12), rework_count=1, manager_rating=3,
                      consultant_rating=2)  # fmt: skip
    o_late = order(m1, clients[2], S.IN_ANALYSIS, consultant=c1, submitted_at=at(24, 9, 30), due_at=due,
                   late_holder=c1)  # fmt: skip
    order(m1, clients[3], S.CANCELLED, consultant=c1, submitted_at=at(24, 9, 30), due_at=due)
    # follow-ups of manager1 due on the 24th: one done on time, one done late, one still open
    fu = {"branch": b1, "owner": m1, "description": "修理行情机", "due_on": DAY}
    FollowUp.objects.create(**fu, state="done", done_at=at(24, 16))
    f_late = FollowUp.objects.create(**fu, state="done", done_at=at(25, 9))
    f_open = FollowUp.objects.create(**fu)
    return {
        "clients": clients,
        "plan": plan,
        "orders": {"ontime": o_ontime, "ontime2": o_ontime2, "late": o_late},
        "followups": {"late": f_late, "open": f_open},
    }
