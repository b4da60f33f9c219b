"""Return visits: the rules generating them (events, import, annual sample), independence, attempts,
problems becoming inquiries, and the coverage report."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from branchcare.clients import services as client_services
from branchcare.clients.models import Client
from branchcare.core import events
from branchcare.core.errors import DomainError
from branchcare.offsite import services_visits as svc
from branchcare.offsite.models import IndependenceExclusion, Inquiry, ReturnVisit, ReturnVisitRule
from branchcare.offsite.services_inquiries import settings_for
from branchcare.testing.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db
K = ReturnVisitRule.Kind
V = ReturnVisit.State


def _new_client(world, no="880001", **data):
    return client_services.client_create(
        actor=world["director"],
        branch=world.b1,
        data={"client_no": no, "name": "赵六", "manager": world["manager1"], **data},
    )


def test_new_account_gets_a_visit_within_one_month_never_by_its_manager(world):
    today = timezone.localdate()
    c = _new_client(world, opened_on=today)
    visit = ReturnVisit.objects.get(client=c)
    assert visit.rule.kind == K.NEW_ACCOUNT
    assert visit.due_on == today + dt.timedelta(days=30)
    assert visit.assignee == world["agent1"] and visit.assignee != c.manager
    assert visit.state == V.OPEN


def test_an_old_account_loaded_later_gets_no_new_account_visit(world):
    _new_client(world, opened_on=dt.date(2020, 1, 2))
    assert not ReturnVisit.objects.exists()


def test_inactive_rule_generates_nothing(world):
    rule = next(r for r in svc.rules_for(world.b1.pk) if r.kind == K.NEW_ACCOUNT)
    svc.rule_update(actor=world["director"], rule=rule, data={"active": False})
    _new_client(world, opened_on=timezone.localdate())
    assert not ReturnVisit.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_client_import_generates_visits_in_bulk(world, tmp_path, django_assert_max_num_queries):
    recent = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    f = tmp_path / "clients.csv"
    rows = "".join(f"8802{i:02d},新客户{i},139000002{i:02d},,1000,,{recent},C3\n" for i in range(20))
    f.write_text(
        "客户号,姓名,手机,证件号码,资产,客户经理,开户日期,风险等级\n"
        + rows
        + "880299,老客户,,,1000,,2019-03-01,C2\n",
        encoding="utf-8",
    )
    call_command("import_clients", str(f), "--branch", world.b1.code)
    visits = ReturnVisit.objects.filter(rule__kind=K.NEW_ACCOUNT)
    assert visits.count() == 20
    assert not visits.filter(client__client_no="880299").exists()
    assert set(visits.values_list("assignee__username", flat=True)) == {"agent1"}
    # the handler itself does a bounded number of queries for a bulk id list
    ids = list(Client.objects.filter(client_no__startswith="8802").values_list("pk", flat=True))
    ReturnVisit.objects.all().delete()
    with django_assert_max_num_queries(20):
        svc.on_clients_created(client_ids=ids, branch_id=world.b1.pk, actor=None, source="import")
    assert ReturnVisit.objects.count() == 20


def test_independence_rule_refuses_the_clients_manager(world):
    c = _new_client(world, opened_on=timezone.localdate())
    visit = ReturnVisit.objects.get(client=c)
    with pytest.raises(DomainError) as err:
        svc.visit_assign(actor=world["director"], visit=visit, assignee=world["manager1"])
    assert "客户经理" in err.value.message and "独立" in err.value.message
    visit.refresh_from_db()
    assert visit.assignee == world["agent1"]
    # another manager is independent of this client
    assert (
        svc.visit_assign(actor=world["director"], visit=visit, assignee=world["manager2"]).assignee
        == world["manager2"]
    )


def test_designated_staff_never_include_the_clients_own_manager(world):
    conf = settings_for(world.b1.pk)
    conf.return_visit_staff.set([world["manager1"]])
    c = _new_client(world, opened_on=timezone.localdate())
    assert ReturnVisit.objects.get(client=c).assignee is None  # nobody independent: left for the director
    conf.return_visit_staff.set([world["manager1"], world["manager2"]])
    c2 = _new_client(world, no="880002", opened_on=timezone.localdate())
    assert ReturnVisit.objects.get(client=c2).assignee == world["manager2"]


def test_premium_enrolment_excludes_the_broker_and_generates_a_visit(world):
    events.publish("premium.enrolled", client_id=world.client_m2.pk, actor=world["broker1"])
    assert IndependenceExclusion.objects.filter(client=world.client_m2, user=world["broker1"]).exists()
    visit = ReturnVisit.objects.get(client=world.client_m2, rule__kind=K.PREMIUM_ENROLLED)
    with pytest.raises(DomainError) as err:
        svc.visit_assign(actor=world["director"], visit=visit, assignee=world["broker1"])
    assert "经纪人" in err.value.message
    # the same event again does not duplicate the task
    events.publish("premium.enrolled", client_id=world.client_m2.pk, actor=world["broker1"])
    assert ReturnVisit.objects.filter(client=world.client_m2).count() == 1


def test_risk_level_change_generates_a_visit(world):
    client_services.client_update(actor=world["director"], client=world.client_m1, data={"risk_level": "C5"})
    visit = ReturnVisit.objects.get(client=world.client_m1)
    assert visit.rule.kind == K.RISK_CHANGE and visit.source_ref.startswith("risk:C3>C5:")


def test_stratified_sample_is_deterministic_and_per_tier():
    ids = {"large": list(range(1, 11)), "small": list(range(100, 200))}
    need = svc.sample_required({"large": 10, "small": 100}, Decimal("10"))
    assert need == {"large": 1, "small": 10}
    a = svc.stratified_sample(ids, need, seed=7)
    assert a == svc.stratified_sample(ids, need, seed=7)
    assert a != svc.stratified_sample(ids, need, seed=8)
    assert len([x for x in a if x <= 10]) == 1 and len([x for x in a if x >= 100]) == 10
    assert svc.sample_required({"medium": 11}, Decimal("10")) == {"medium": 2}  # rounded up: at least 10 %


def test_annual_sample_covers_ten_percent_of_each_tier_and_tops_up(world):
    ClientFactory.create_batch(21, branch=world.b1, tier="small", manager=world["manager1"])
    ClientFactory.create_batch(9, branch=world.b1, tier="large", manager=world["manager2"])
    ClientFactory.create_batch(5, branch=world.b2, tier="large")  # another branch: not sampled
    small = Client.objects.filter(branch=world.b1, tier="small").count()  # 21 + client_m1 + client_m2
    made = svc.annual_sample(branch=world.b1, year=2026, seed=1, today=dt.date(2026, 3, 1))
    by_tier = {t: sum(1 for v in made if v.client.tier == t) for t in ("small", "large")}
    assert by_tier == {"small": -(-small // 10), "large": 1}
    assert all(v.client.branch_id == world.b1.pk for v in made)
    assert all(v.assignee is not None and v.assignee.pk != v.client.manager_id for v in made)
    # run again: already covered, nothing new; a bigger branch gets topped up
    assert svc.annual_sample(branch=world.b1, year=2026, seed=1, today=dt.date(2026, 3, 1)) == []
    ClientFactory.create_batch(10, branch=world.b1, tier="large")
    assert len(svc.annual_sample(branch=world.b1, year=2026, seed=2, today=dt.date(2026, 4, 1))) == 1
    rows = {r.rule.kind: r for r in svc.coverage(branch_id=world.b1.pk, year=2026, today=dt.date(2026, 4, 1))}
    assert rows[K.ANNUAL_SAMPLE].required == rows[K.ANNUAL_SAMPLE].generated == len(made) + 1


def test_three_unanswered_attempts_end_the_visit(world):
    c = _new_client(world, opened_on=timezone.localdate())
    visit = ReturnVisit.objects.get(client=c)
    with pytest.raises(DomainError):  # only the assignee records attempts
        svc.visit_attempt(actor=world["manager2"], visit=visit, outcome="not_reached")
    for n in (1, 2):
        visit = svc.visit_attempt(
            actor=world["agent1"], visit=visit, outcome="not_reached", note=f"第{n}次无人接听"
        )
        assert visit.state == V.OPEN and visit.attempts == n
    visit = svc.visit_attempt(actor=world["agent1"], visit=visit, outcome="not_reached")
    assert visit.state == V.UNREACHABLE and visit.attempts == 3 and visit.completed_at is not None
    with pytest.raises(DomainError):
        svc.visit_attempt(actor=world["agent1"], visit=visit, outcome="reached")


def test_reached_with_a_problem_becomes_an_inquiry(world):
    c = _new_client(world, opened_on=timezone.localdate())
    visit = ReturnVisit.objects.get(client=c)
    rule = visit.rule
    visit = svc.visit_attempt(
        actor=world["agent1"], visit=visit, outcome="reached", note="客户配合",
        answers={rule.questions[0]: "是"},
        problem=svc.Problem(kind=Inquiry.Kind.COMPLAINT, subject="开户时被承诺收益", description="客户称经理承诺保本"),
    )  # fmt: skip
    assert visit.state == V.DONE and visit.answers == {rule.questions[0]: "是"}
    inquiry = Inquiry.objects.get(return_visit=visit)
    assert inquiry.kind == Inquiry.Kind.COMPLAINT and inquiry.client == c


def test_coverage_counts_overdue(world):
    c = _new_client(world, opened_on=timezone.localdate())
    visit = ReturnVisit.objects.get(client=c)
    later = visit.due_on + dt.timedelta(days=1)
    rows = {r.rule.kind: r for r in svc.coverage(branch_id=world.b1.pk, year=visit.due_on.year, today=later)}
    row = rows[K.NEW_ACCOUNT]
    assert (row.required, row.done, row.overdue, row.met) == (1, 0, 1, False)
    svc.visit_attempt(actor=world["agent1"], visit=visit, outcome="reached")
    row = {r.rule.kind: r for r in svc.coverage(branch_id=world.b1.pk, year=visit.due_on.year, today=later)}[
        K.NEW_ACCOUNT
    ]
    assert (row.required, row.done, row.overdue, row.met, row.rate) == (1, 1, 0, True, 100.0)


def test_rule_update_validates_and_needs_a_right(world):
    rule = next(r for r in svc.rules_for(world.b1.pk) if r.kind == K.ANNUAL_SAMPLE)
    with pytest.raises(DomainError):
        svc.rule_update(actor=world["agent1"], rule=rule, data={"sample_pct": Decimal("20")})
    with pytest.raises(DomainError) as err:
        svc.rule_update(actor=world["compliance1"], rule=rule, data={"sample_pct": Decimal("0")})
    assert err.value.field == "sample_pct"
    rule.refresh_from_db()
    assert rule.sample_pct == Decimal("10")
    svc.rule_update(actor=world["compliance1"], rule=rule, data={"sample_pct": Decimal("15")})
    rule.refresh_from_db()
    assert rule.sample_pct == Decimal("15")


def test_second_agent_shares_the_load(world):
    UserFactory(username="agent2", branch=world.b1, roles=["agent"])
    today = timezone.localdate()
    for i in range(4):
        _new_client(world, no=f"88100{i}", opened_on=today)
    loads = sorted(ReturnVisit.objects.values_list("assignee__username", flat=True))
    assert loads == ["agent1", "agent1", "agent2", "agent2"]


def test_periodic_tasks_run(world):
    from branchcare.offsite.tasks import annual_sample_task, annual_sample_top_up, escalate_inquiries

    ClientFactory.create_batch(9, branch=world.b1, tier="small")
    made = annual_sample_top_up.call_local()
    assert made == ReturnVisit.objects.filter(rule__kind=K.ANNUAL_SAMPLE).count() > 0
    assert annual_sample_task.call_local(world.b1.pk, timezone.localdate().year) == 0  # already covered
    assert escalate_inquiries.call_local() == {"warned": 0, "escalated": 0}


def test_default_rules_are_stored_in_chinese_whatever_the_request_language(world):
    from django.utils import translation

    with translation.override("en"):
        rules = svc.rules_for(world.b1.pk)
    assert rules[0].name == "新开户回访" and rules[0].questions[0].startswith("是否本人开户")
