"""Plan generation: priority order, reasons, fairness over a cycle, idempotency, calendar refusals, swaps."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from django.utils import timezone

from branchcare.clients.models import Client
from branchcare.clients.services import clients_touch
from branchcare.core.errors import DomainError
from branchcare.core.models import AuditLog
from branchcare.onsite.models import PatrolPlanItem, Visit, VisitPlan, VisitPlanItem
from branchcare.onsite.services_plans import (
    PRIORITY_SIGNALS,
    plan_generate,
    plan_generate_for_manager,
    plan_swap,
    register_signal,
)
from branchcare.org.calendar import next_trading_day
from branchcare.org.models import ServiceStandard
from branchcare.testing.factories import (
    ClientFactory,
    HoldingFactory,
    PriceFactory,
    RoomFactory,
    SecurityFactory,
)

TODAY = dt.date(2026, 11, 25)  # a Wednesday, an XSHG trading day
SATURDAY = dt.date(2026, 11, 28)


def _standard(branch, **kw):
    values = {"visits_per_day": 3, "patrols_per_day": 2, "effective_from": dt.date(2020, 1, 1), **kw}
    return ServiceStandard.objects.create(branch=branch, **values)


def _visit(client, manager, day: dt.date):
    at = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
    visit = Visit.objects.create(branch=client.branch, manager=manager, client=client, at=at, topic="t")
    clients_touch(client_ids=[client.pk], at=at)  # what visit_record does
    return visit


def _book(world, n, **kw):
    return [
        ClientFactory(branch=world.b1, manager=world["manager1"], opened_on=dt.date(2026, 11, 1), **kw)
        for _ in range(n)
    ]


def test_overdue_first_then_longest_since_contact_with_reasons(world):
    # given: manager1's book (client_m1 plus four more) with different last contacts
    _standard(world.b1)
    m1 = world["manager1"]
    Client.objects.filter(pk=world.client_m1.pk).update(status=Client.Status.DORMANT)
    large_overdue = ClientFactory(branch=world.b1, manager=m1, tier="large", opened_on=dt.date(2020, 1, 1))
    _visit(large_overdue, m1, TODAY - dt.timedelta(days=16))  # large interval 7 → 9 days past it
    recent = ClientFactory(branch=world.b1, manager=m1, tier="small", opened_on=dt.date(2020, 1, 1))
    _visit(recent, m1, TODAY - dt.timedelta(days=2))
    older = ClientFactory(branch=world.b1, manager=m1, tier="small", opened_on=dt.date(2020, 1, 1))
    _visit(older, m1, TODAY - dt.timedelta(days=20))
    newest = ClientFactory(branch=world.b1, manager=m1, tier="small", opened_on=TODAY - dt.timedelta(days=5))

    # when
    plans = plan_generate(branch=world.b1, date=TODAY)

    # then: one plan per manager; manager1's: overdue large first, then longest since contact
    assert {p.manager.username for p in plans} == {"manager1", "manager2"}
    plan = VisitPlan.objects.get(manager=m1, date=TODAY)
    items = list(plan.items.order_by("rank"))
    assert [i.client_id for i in items] == [large_overdue.pk, older.pk, newest.pk]
    assert items[0].reasons[0] == "已超过大户联系间隔 9 天"
    assert items[1].reasons[0] == "距上次联系 20 天"
    assert recent.pk not in [i.client_id for i in items]
    assert world.client_m1.pk not in [i.client_id for i in items]  # dormant: not planned


def test_signals_raise_priority_and_explain(world):
    _standard(world.b1, visits_per_day=3, holding_drop_alert_pct=Decimal("10"))
    m1 = world["manager1"]
    Client.objects.filter(pk=world.client_m1.pk).update(status=Client.Status.DORMANT)
    plain = _book(world, 3)
    for c in plain:
        _visit(c, m1, TODAY - dt.timedelta(days=25))  # 25 days: longer than the others, not overdue
    opened = TODAY - dt.timedelta(days=10)  # contacted more recently than the plain ones
    premium = ClientFactory(branch=world.b1, manager=m1, is_premium=True, opened_on=opened)
    expired = ClientFactory(
        branch=world.b1, manager=m1, risk_assessed_on=dt.date(2020, 1, 1), opened_on=opened
    )
    dropped = ClientFactory(branch=world.b1, manager=m1, opened_on=opened)
    sec = SecurityFactory()
    HoldingFactory(client=dropped, security=sec, cost_price=Decimal("10.00"))
    PriceFactory(security=sec, date=dt.date(2026, 11, 24), close=Decimal("8.50"))  # -15 %

    plan_generate(branch=world.b1, date=TODAY)

    items = list(VisitPlan.objects.get(manager=m1).items.order_by("rank"))
    assert {i.client_id for i in items} == {premium.pk, expired.pk, dropped.pk}
    reasons = {i.client_id: i.reasons for i in items}
    assert "高端客户" in reasons[premium.pk]
    assert "风险测评已过期" in reasons[expired.pk]
    assert "持仓浮亏超过 10%" in reasons[dropped.pk]


def test_registered_signal_is_used(world):
    _standard(world.b1, visits_per_day=1)
    m1 = world["manager1"]
    others = _book(world, 3)
    flagged = others[-1]
    register_signal("test.complaint", lambda **kw: {flagged.pk: "近期投诉"})
    try:
        Client.objects.filter(manager=m1).update(opened_on=TODAY - dt.timedelta(days=3))
        plan_generate(branch=world.b1, date=TODAY)
    finally:
        PRIORITY_SIGNALS.pop("test.complaint")
    item = VisitPlan.objects.get(manager=m1).items.get()
    assert item.client_id == flagged.pk and "近期投诉" in item.reasons


@pytest.mark.parametrize("book_size,per_day", [(20, 3), (17, 4), (9, 8)])
def test_fair_rotation_covers_every_client_within_a_cycle(world, book_size, per_day):
    # given: a book with signals on some clients; each day the manager visits every planned client
    _standard(world.b1, visits_per_day=per_day)
    m1 = world["manager1"]
    Client.objects.filter(pk=world.client_m1.pk).update(status=Client.Status.DORMANT)
    book = _book(world, book_size)
    Client.objects.filter(pk__in=[c.pk for c in book[::4]]).update(is_premium=True)
    cycle = math.ceil(book_size / per_day)
    day = TODAY
    seen: list[set[int]] = []
    for _ in range(2 * cycle):
        plan = plan_generate_for_manager(manager=m1, date=day)
        ids = {i.client_id for i in plan.items.all()}
        assert len(ids) == per_day
        for item in plan.items.select_related("client"):
            _visit(item.client, m1, day)
        seen.append(ids)
        day = next_trading_day(day)
    all_ids = {c.pk for c in book}
    # then: any window of `cycle` consecutive trading days covers the whole book
    for start in range(0, len(seen) - cycle + 1):
        covered = set().union(*seen[start : start + cycle])
        assert covered == all_ids, f"window starting day {start} missed {all_ids - covered}"


def test_planned_but_not_visited_clients_do_not_hold_the_top(world):
    _standard(world.b1, visits_per_day=2)
    m1 = world["manager1"]
    Client.objects.filter(pk=world.client_m1.pk).update(status=Client.Status.DORMANT)
    book = _book(world, 6)
    day, seen = TODAY, set()
    for _ in range(3):  # the manager visits nobody
        plan = plan_generate_for_manager(manager=m1, date=day)
        seen |= {i.client_id for i in plan.items.all()}
        day = next_trading_day(day)
    assert seen == {c.pk for c in book}


def test_second_run_changes_nothing(world):
    _standard(world.b1)
    _book(world, 5)
    first = plan_generate(branch=world.b1, date=TODAY)
    snapshot = list(VisitPlanItem.objects.order_by("pk").values_list("pk", "client_id", "rank", "reasons"))
    audits = AuditLog.objects.count()

    again = plan_generate(branch=world.b1, date=TODAY)

    assert len(first) == 2 and again == []
    assert (
        list(VisitPlanItem.objects.order_by("pk").values_list("pk", "client_id", "rank", "reasons"))
        == snapshot
    )
    assert AuditLog.objects.count() == audits


def test_non_trading_day_refused(world):
    _book(world, 3)
    with pytest.raises(DomainError, match="非交易日不生成计划"):
        plan_generate(branch=world.b1, date=SATURDAY)
    assert not VisitPlan.objects.exists()


def test_past_known_range_refused_with_clear_message(world):
    _book(world, 3)
    with pytest.raises(DomainError, match="交易日历只录入到") as exc:
        plan_generate(branch=world.b1, date=dt.date(2031, 3, 3))
    assert "录入新一年的节假日" in exc.value.message
    assert not VisitPlan.objects.exists()


def test_patrol_rounds_rotate_across_rooms_managers_and_days(world):
    _standard(world.b1, patrols_per_day=2)
    rooms = [RoomFactory(branch=world.b1, name=f"房间{i}") for i in range(4)]
    plan_generate(branch=world.b1, date=TODAY)
    m1 = list(PatrolPlanItem.objects.filter(plan__manager=world["manager1"]).order_by("round_no"))
    m2 = list(PatrolPlanItem.objects.filter(plan__manager=world["manager2"]).order_by("round_no"))
    assert len(m1) == len(m2) == 2
    assert m1[0].room_id != m2[0].room_id
    nxt = next_trading_day(TODAY)
    plan_generate(branch=world.b1, date=nxt)
    m1_next = list(PatrolPlanItem.objects.filter(plan__manager=world["manager1"], plan__date=nxt))
    assert {p.room_id for p in m1_next}.isdisjoint({p.room_id for p in m1})
    assert {p.room_id for p in m1} | {p.room_id for p in m1_next} == {r.pk for r in rooms}


def test_swap_replaces_item_and_is_audited(world):
    _standard(world.b1, visits_per_day=2)
    m1 = world["manager1"]
    _book(world, 4)
    plan = plan_generate_for_manager(manager=m1, date=TODAY)
    item = plan.items.order_by("rank").first()
    spare = Client.objects.filter(manager=m1).exclude(pk__in=plan.items.values("client_id")).first()

    new_item = plan_swap(actor=m1, item=item, new_client=spare, reason="客户出差")

    item.refresh_from_db()
    assert item.status == VisitPlanItem.Status.SWAPPED and item.replaced_by == new_item
    assert item.swap_reason == "客户出差" and new_item.client == spare
    assert AuditLog.objects.filter(action="visit_plan.swap", object_id=str(plan.pk)).exists()


def test_swap_refusals_change_nothing(world):
    _standard(world.b1, visits_per_day=2)
    m1 = world["manager1"]
    _book(world, 4)
    plan = plan_generate_for_manager(manager=m1, date=TODAY)
    first, second = plan.items.order_by("rank")[:2]
    spare = Client.objects.filter(manager=m1).exclude(pk__in=plan.items.values("client_id")).first()
    with pytest.raises(DomainError, match="请填写调换原因"):
        plan_swap(actor=m1, item=first, new_client=spare, reason=" ")
    with pytest.raises(DomainError, match="已在今日计划中"):
        plan_swap(actor=m1, item=first, new_client=second.client, reason="x")
    with pytest.raises(DomainError, match="名下的客户"):
        plan_swap(actor=m1, item=first, new_client=world.client_m2, reason="x")
    first.refresh_from_db()
    assert first.status == VisitPlanItem.Status.PLANNED and plan.items.count() == 2


def test_holding_drop_uses_each_securitys_latest_close(world):
    from branchcare.onsite.services_plans import holding_drop_signal

    standard = _standard(world.b1, holding_drop_alert_pct=Decimal("10"))
    m1 = world["manager1"]
    fresh, stale, recovered = SecurityFactory(), SecurityFactory(), SecurityFactory()
    PriceFactory(security=fresh, date=dt.date(2026, 11, 24), close=Decimal("8.00"))
    PriceFactory(security=stale, date=dt.date(2026, 11, 20), close=Decimal("8.00"))  # suspended since
    PriceFactory(security=recovered, date=dt.date(2026, 11, 20), close=Decimal("5.00"))
    PriceFactory(security=recovered, date=dt.date(2026, 11, 24), close=Decimal("9.50"))
    a, b, c = _book(world, 3)
    HoldingFactory(client=a, security=fresh, cost_price=Decimal("10"))
    HoldingFactory(client=b, security=stale, cost_price=Decimal("10"))
    HoldingFactory(client=c, security=recovered, cost_price=Decimal("10"))
    flagged = holding_drop_signal(branch=world.b1, date=TODAY, standard=standard, manager_ids=[m1.pk])
    assert set(flagged) == {a.pk, b.pk}


# --- stored last contact and ranking in SQL -------------------------------------------------------------


def test_clients_touch_moves_last_contact_forward_only(world):
    c = world.client_m1
    later = timezone.make_aware(dt.datetime(2026, 11, 20, 10))
    earlier = timezone.make_aware(dt.datetime(2026, 11, 2, 10))
    assert clients_touch(client_ids=[c.pk], at=later) == 1
    assert clients_touch(client_ids=[c.pk], at=earlier) == 0  # an older contact entered late
    c.refresh_from_db()
    assert c.last_contact_at == later
    assert clients_touch(client_ids=[], at=later) == 0


def test_visit_record_stores_last_contact(world):
    from branchcare.onsite.services_visits import visit_record

    m1, c = world["manager1"], world.client_m1
    at = timezone.now() - dt.timedelta(hours=1)
    visit_record(actor=m1, client=c, data={"at": at, "topic": "回访"})
    c.refresh_from_db()
    assert c.last_contact_at == at


def _python_ranking(book, *, date, standard, quota, extra):
    """The reference: rank the whole book in Python with every signal (what the plan did before SQL)."""
    from branchcare.onsite.services_plans import Book, Candidate, _choose

    clients = list(Client.objects.filter(pk__in=[c.pk for c in book]))
    planned = {
        i.client_id: i.plan.date
        for i in VisitPlanItem.objects.filter(client__in=clients, plan__date__lt=date).select_related("plan")
    }
    expired_before = date - dt.timedelta(days=730)
    cands = []
    for c in clients:
        contact = timezone.localtime(c.last_contact_at).date() if c.last_contact_at else c.opened_on
        signals = (["高端客户"] if c.is_premium else []) + (
            ["风险测评已过期"] if c.risk_assessed_on is None or c.risk_assessed_on < expired_before else []
        )
        signals += extra.get(c.pk, [])
        p = planned.get(c.pk)
        cands.append(
            Candidate(
                pk=c.pk,
                manager_id=c.manager_id,
                tier=c.tier,
                last_contact=contact,
                last_attention=max(contact, p) if p else contact,
                last_planned=p,
                signals=signals,
            )
        )
    modulus = max(c.pk for c in clients) + 1
    book_info = Book(
        size=len(clients), modulus=modulus, shift=(date.toordinal() * quota) % modulus, cycle_start=date
    )
    return [c.pk for c in _choose(cands, date=date, standard=standard, quota=quota, book=book_info)]


def test_sql_ranking_matches_ranking_the_whole_book(world, settings):
    # given: a varied book (tiers, contacts, premium, expired assessments, an extra signal on a few)
    import random

    settings.BRANCHCARE = {**settings.BRANCHCARE, "RISK_ASSESSMENT_VALID_DAYS": 730}
    standard = _standard(world.b1, visits_per_day=5)
    m1 = world["manager1"]
    Client.objects.filter(pk=world.client_m1.pk).update(status=Client.Status.DORMANT)
    rnd = random.Random(7)
    book = []
    for _ in range(40):
        c = ClientFactory(
            branch=world.b1,
            manager=m1,
            tier=rnd.choice(["large", "medium", "small"]),
            is_premium=rnd.random() < 0.2,
            risk_assessed_on=rnd.choice([None, dt.date(2020, 1, 1), dt.date(2026, 1, 1)]),
            opened_on=TODAY - dt.timedelta(days=rnd.randint(1, 90)),
        )
        if rnd.random() < 0.6:
            clients_touch(
                client_ids=[c.pk],
                at=timezone.make_aware(
                    dt.datetime.combine(TODAY - dt.timedelta(days=rnd.randint(1, 60)), dt.time(10))
                ),
            )
        book.append(c)
    flagged = {c.pk: ["近期投诉"] for c in rnd.sample(book, 4)}
    register_signal("test.complaint", lambda **kw: dict.fromkeys(flagged, "近期投诉"))
    try:
        expected = _python_ranking(book, date=TODAY, standard=standard, quota=5, extra=flagged)
        plan = plan_generate_for_manager(manager=m1, date=TODAY)
    finally:
        PRIORITY_SIGNALS.pop("test.complaint")
    # then: the plan made from the SQL short list is the ranking of the whole book
    assert [i.client_id for i in plan.items.order_by("rank")] == expected


def test_plan_generation_query_count_does_not_grow_with_the_book(world, django_assert_max_num_queries):
    _standard(world.b1, visits_per_day=3)
    _book(world, 30)
    with django_assert_max_num_queries(30):
        plan_generate(branch=world.b1, date=TODAY)


def test_migration_backfills_last_contact_from_visits(world):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("branchcare.clients.migrations.0004_client_last_contact_at_and_more")
    m1 = world["manager1"]
    older = timezone.make_aware(dt.datetime(2026, 11, 2, 10))
    newer = timezone.make_aware(dt.datetime(2026, 11, 20, 15))
    for at in (older, newer):
        Visit.objects.create(branch=world.b1, manager=m1, client=world.client_m1, at=at, topic="t")
    Client.objects.update(last_contact_at=None)

    migration.backfill_last_contact(apps, None)

    assert Client.objects.get(pk=world.client_m1.pk).last_contact_at == newer
    assert Client.objects.get(pk=world.client_m2.pk).last_contact_at is None  # never visited
