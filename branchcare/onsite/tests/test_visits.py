"""Recording visits and patrols, completing follow-ups: validation, plans, holdings, scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from branchcare.clients.models import Holding
from branchcare.core.errors import DomainError
from branchcare.core.models import AuditLog
from branchcare.onsite.models import FollowUp, Patrol, PatrolPlanItem, Visit, VisitPlanItem
from branchcare.onsite.services_plans import plan_generate_for_manager
from branchcare.onsite.services_visits import followup_complete, patrol_record, visit_record
from branchcare.testing.factories import ClientFactory, RoomFactory, SeatFactory, SecurityFactory

TODAY = dt.date(2026, 11, 25)


def _now(**delta):
    return timezone.now() - dt.timedelta(**delta)


def _data(**kw):
    return {"at": _now(minutes=5), "topic": "了解持仓", "place": Visit.Place.HALL, **kw}


def test_planned_visit_marks_item_done(world):
    m1 = world["manager1"]
    plan = plan_generate_for_manager(manager=m1, date=timezone.localdate())
    item = plan.items.get(client=world.client_m1)

    visit = visit_record(actor=m1, client=world.client_m1, data=_data(satisfaction=5))

    item.refresh_from_db()
    assert item.status == VisitPlanItem.Status.DONE and visit.plan_item == item and visit.planned
    assert AuditLog.objects.filter(action="visit.record", object_id=str(visit.pk)).exists()


def test_unplanned_visit_is_counted_separately(world):
    m1 = world["manager1"]
    visit = visit_record(actor=m1, client=world.client_m1, data=_data())
    assert visit.plan_item is None and not visit.planned


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"at": _now(minutes=-30)}, "at", "不能晚于当前时间"),
        ({"at": _now(days=8)}, "at", "只能补录 7 天内"),
        ({"at": None}, "at", "请填写拜访时间"),
        ({"satisfaction": 6}, "satisfaction", "满意度须为 1 到 5 分"),
        ({"place": Visit.Place.ROOM}, "room", "请选择房间"),
        ({"topic": " "}, "topic", "请填写拜访主题"),
    ],
)
def test_visit_validation_messages_in_chinese(world, data, field, message):
    with pytest.raises(DomainError, match=message) as exc:
        visit_record(actor=world["manager1"], client=world.client_m1, data=_data(**data))
    assert exc.value.field == field
    assert not Visit.objects.exists()


def test_room_of_another_branch_refused(world):
    room = RoomFactory(branch=world.b2)
    with pytest.raises(DomainError, match="本营业部的房间"):
        visit_record(
            actor=world["manager1"], client=world.client_m1, data=_data(place=Visit.Place.ROOM, room=room)
        )


def test_director_may_backfill_older_visits(world):
    visit = visit_record(actor=world["director"], client=world.client_m2, data=_data(at=_now(days=20)))
    assert visit.manager == world["director"]


@pytest.mark.parametrize("client_attr", ["client_m2", "client_b2"])
def test_out_of_scope_client_refused_with_nothing_written(world, client_attr):
    audits = AuditLog.objects.count()
    with pytest.raises(DomainError, match="不在您的服务范围内"):
        visit_record(
            actor=world["manager1"],
            client=getattr(world, client_attr),
            data=_data(followups=[{"description": "x", "due_on": TODAY}]),
            holdings=[],
        )
    assert not Visit.objects.exists() and not FollowUp.objects.exists()
    assert AuditLog.objects.count() == audits


def test_holdings_update_goes_through_the_holdings_service(world):
    sec = SecurityFactory()
    visit = visit_record(
        actor=world["manager1"],
        client=world.client_m1,
        data=_data(),
        holdings=[(sec, 2000, Decimal("12.50"))],
    )
    assert visit.holdings_confirmed
    holding = Holding.objects.get(client=world.client_m1)
    assert holding.quantity == 2000 and holding.cost_price == Decimal("12.50")
    assert AuditLog.objects.filter(action="holdings.replace", object_id=str(world.client_m1.pk)).exists()


def test_visit_follow_up_gets_owner_and_due_date(world):
    m1 = world["manager1"]
    visit = visit_record(
        actor=m1,
        client=world.client_m1,
        data=_data(
            followups=[{"kind": "need", "description": "寄送研报", "due_on": TODAY + dt.timedelta(days=2)}]
        ),
    )
    fu = FollowUp.objects.get(visit=visit)
    assert fu.owner == m1 and fu.client == world.client_m1 and fu.due_on == TODAY + dt.timedelta(days=2)


def test_patrol_problems_become_follow_ups_and_link_plan(world):
    m1 = world["manager1"]
    room = RoomFactory(branch=world.b1)
    seat = SeatFactory(room=room)
    seated = ClientFactory(branch=world.b1, manager=world["manager2"], seat=seat)
    plan = plan_generate_for_manager(manager=m1, date=timezone.localdate())
    planned_round = plan.patrol_items.order_by("round_no").first()

    patrol = patrol_record(
        actor=m1,
        room=room,
        data={"at": _now(minutes=1), "observations": "秩序良好"},
        clients_present=[seated],
        problems=[
            {"kind": "equipment", "description": "3 号行情机黑屏", "owner": world["director"]},
            {"kind": "risk", "description": "客户频繁追涨", "client": seated, "due_on": TODAY},
        ],
    )

    planned_round.refresh_from_db()
    assert planned_round.status == PatrolPlanItem.Status.DONE and patrol.plan_item == planned_round
    assert list(patrol.clients_present.all()) == [seated]
    fus = {f.kind: f for f in FollowUp.objects.filter(patrol=patrol)}
    assert fus["equipment"].owner == world["director"] and fus["equipment"].due_on > TODAY
    assert fus["risk"].owner == m1 and fus["risk"].client == seated


def test_patrol_refusals_write_nothing(world):
    m1 = world["manager1"]
    other_room = RoomFactory(branch=world.b2)
    with pytest.raises(DomainError, match="本营业部的房间"):
        patrol_record(actor=m1, room=other_room, data={"at": _now(minutes=1)})
    room = RoomFactory(branch=world.b1)
    with pytest.raises(DomainError, match="本营业部的客户"):
        patrol_record(actor=m1, room=room, data={"at": _now(minutes=1)}, clients_present=[world.client_b2])
    with pytest.raises(DomainError, match="负责人须为本营业部"):
        patrol_record(
            actor=m1,
            room=room,
            data={"at": _now(minutes=1)},
            problems=[{"description": "x", "owner": world["b2manager1"]}],
        )
    assert not Patrol.objects.exists() and not FollowUp.objects.exists()


def test_followup_complete(world):
    m1 = world["manager1"]
    visit = visit_record(
        actor=m1, client=world.client_m1, data=_data(followups=[{"description": "回电", "due_on": TODAY}])
    )
    fu = visit.follow_ups.get()
    with pytest.raises(DomainError, match="请填写处理结果"):
        followup_complete(actor=m1, followup=fu, resolution="")
    with pytest.raises(DomainError, match="只有负责人"):
        followup_complete(actor=world["manager2"], followup=fu, resolution="ok")
    followup_complete(actor=m1, followup=fu, resolution="已回电")
    fu.refresh_from_db()
    assert fu.state == FollowUp.State.DONE and fu.resolution == "已回电" and fu.done_at
    with pytest.raises(DomainError, match="已完成"):
        followup_complete(actor=m1, followup=fu, resolution="again")


# --- a visit raising a consultation order in one step ---------------------------------------------------


def test_visit_raises_consultation_order_with_holdings_snapshot(world):
    from branchcare.onsite.models import ConsultationOrder

    m1 = world["manager1"]
    sec = SecurityFactory(code="600519")
    visit = visit_record(
        actor=m1,
        client=world.client_m1,
        data=_data(consultation_question="贵州茅台还要继续持有吗？"),
        holdings=[(sec, 200, Decimal("1500.00"))],
    )
    order = visit.orders.get()
    assert order.state == ConsultationOrder.State.DRAFT and order.manager == m1
    assert order.question == "贵州茅台还要继续持有吗？" and order.client == world.client_m1
    # the snapshot is taken after the holdings update of the same visit
    assert list(order.holdings.values_list("security__code", "quantity")) == [("600519", 200)]
    audit = AuditLog.objects.get(action="visit.record", object_id=str(visit.pk))
    assert audit.changes["consultation_order"] == [None, order.pk]
    assert AuditLog.objects.filter(action="consultation.create", object_id=str(order.pk)).exists()


def test_visit_without_question_raises_no_order(world):
    visit = visit_record(
        actor=world["manager1"], client=world.client_m1, data=_data(consultation_question="  ")
    )
    assert not visit.orders.exists()


def test_refused_order_records_no_visit_either(world):
    # the director may record a manager's visit, but only the client's manager raises an order
    from branchcare.onsite.models import ConsultationOrder

    director = world["director"]
    before = Holding.objects.count()
    with pytest.raises(DomainError) as exc:
        visit_record(
            actor=director,
            client=world.client_m1,
            data=_data(manager=world["manager1"], consultation_question="问题"),
        )
    assert "咨询单" in exc.value.message
    assert not Visit.objects.exists() and not ConsultationOrder.objects.exists()
    assert Holding.objects.count() == before
