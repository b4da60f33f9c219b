"""Premium services: rates, enrolment effects and audit, the desk's workflow, research questions, escalation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from branchcare.clients.models import Client
from branchcare.core import events
from branchcare.core.errors import DomainError
from branchcare.core.models import AuditLog, Notification
from branchcare.premium import services as svc
from branchcare.premium.models import (
    Enrolment,
    PremiumRate,
    PremiumRequest,
    RequestMessage,
    ResearchQuestion,
    ServiceTier,
)

from .conftest import TODAY

S = PremiumRequest.State


# --- rates -------------------------------------------------------------------------------------------------


def test_rate_versions_and_rate_in_force(world, premium):
    b1 = world.b1
    svc.rate_add(
        actor=world["director"],
        branch=b1,
        tier="gold",
        commission_rate="0.65",
        effective_from=TODAY,
        today=TODAY,
    )
    assert svc.rate_in_force(
        branch_id=b1.pk, tier="gold", on=TODAY - dt.timedelta(days=1)
    ).commission_rate == Decimal("0.60")
    assert svc.rate_in_force(branch_id=b1.pk, tier="gold", on=TODAY).commission_rate == Decimal("0.65")
    assert AuditLog.objects.filter(action="premium.rate_add").count() == 7


@pytest.mark.parametrize(
    ("who", "rate", "day", "field"),
    [
        ("manager1", "0.7", 0, None),  # not the director
        ("b2director", "0.7", 0, None),  # another branch's director
        ("director", "0", 0, "commission_rate"),
        ("director", "abc", 0, "commission_rate"),
        ("director", "0.7", -1, "effective_from"),  # in the past
    ],
)
def test_rate_add_refusals_change_nothing(world, premium, who, rate, day, field):
    before = PremiumRate.objects.count()
    with pytest.raises(DomainError) as exc:
        svc.rate_add(
            actor=world[who], branch=world.b1, tier="gold", commission_rate=rate,
            effective_from=TODAY + dt.timedelta(days=day), today=TODAY,
        )  # fmt: skip
    assert exc.value.field == field
    assert PremiumRate.objects.count() == before


def test_duplicate_version_refused(world, premium):
    svc.rate_add(
        actor=world["director"],
        branch=world.b1,
        tier="gold",
        commission_rate="0.7",
        effective_from=TODAY,
        today=TODAY,
    )
    with pytest.raises(DomainError):
        svc.rate_add(
            actor=world["director"],
            branch=world.b1,
            tier="gold",
            commission_rate="0.8",
            effective_from=TODAY,
            today=TODAY,
        )


# --- enrolment ---------------------------------------------------------------------------------------------


def test_enrol_sets_client_flags_audits_and_publishes(world, premium):
    seen = []
    events.subscribe("premium.enrolled", lambda **p: seen.append(p), key="test.enrolled")
    try:
        client = world.client_m2
        version = Client.objects.get(pk=client.pk).version
        e = svc.enrol(
            actor=world["director"], client=client, broker=world["broker1"], tier=ServiceTier.DIAMOND,
            agreement_no="GJ-9", signed_on=TODAY, effective_on=TODAY, today=TODAY,
        )  # fmt: skip
    finally:
        events._handlers["premium.enrolled"].pop("test.enrolled", None)
    client.refresh_from_db()
    assert client.is_premium and client.commission_rate == Decimal("0.80")
    assert client.version == version + 1
    assert e.previous_rate == Decimal("0.25") and e.commission_rate == Decimal("0.80")
    assert seen == [{"client_id": client.pk, "enrolment_id": e.pk, "actor": world["director"]}]
    log = AuditLog.objects.get(action="premium.client_enrolled", object_id=str(client.pk))
    assert log.object_type == "clients.client" and log.changes["is_premium"] == [False, True]
    assert AuditLog.objects.filter(action="premium.enrol", object_id=str(e.pk)).exists()
    assert Notification.objects.filter(recipient=world["broker1"], title__contains=client.name).exists()


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("broker_not_broker", "broker"),
        ("backup_same", "backup_broker"),
        ("future", "effective_on"),
        ("before_signed", "effective_on"),
        ("no_agreement", "agreement_no"),
        ("already", "client"),
        ("not_director", None),
    ],
)
def test_enrol_refusals_change_nothing(world, premium, case, field):
    client = world.client_m1 if case == "already" else world.client_m2
    kwargs = {
        "actor": world["director"], "client": client, "broker": world["broker1"], "tier": "gold",
        "agreement_no": "X-1", "signed_on": TODAY, "effective_on": TODAY, "today": TODAY,
    }  # fmt: skip
    if case == "broker_not_broker":
        kwargs["broker"] = world["manager1"]
    elif case == "backup_same":
        kwargs["backup_broker"] = world["broker1"]
    elif case == "future":
        kwargs["effective_on"] = TODAY + dt.timedelta(days=1)
        kwargs["signed_on"] = TODAY
    elif case == "before_signed":
        kwargs["effective_on"] = TODAY - dt.timedelta(days=2)
    elif case == "no_agreement":
        kwargs["agreement_no"] = "  "
    elif case == "not_director":
        kwargs["actor"] = world["broker1"]
    before = (Enrolment.objects.count(), AuditLog.objects.count())
    snapshot = Client.objects.filter(pk=client.pk).values("is_premium", "commission_rate", "version").get()
    with pytest.raises(DomainError) as exc:
        svc.enrol(**kwargs)
    assert exc.value.field == field
    assert (Enrolment.objects.count(), AuditLog.objects.count()) == before
    assert (
        Client.objects.filter(pk=client.pk).values("is_premium", "commission_rate", "version").get()
        == snapshot
    )


def test_enrol_without_rate_for_tier_is_refused(world):
    with pytest.raises(DomainError) as exc:
        svc.enrol(
            actor=world["director"], client=world.client_m2, broker=world["broker1"], tier="gold",
            agreement_no="X", signed_on=TODAY, effective_on=TODAY, today=TODAY,
        )  # fmt: skip
    assert exc.value.field == "tier"


def test_downgrade_then_exit_restores_previous_rate(world, premium):
    seen = []
    events.subscribe("premium.exited", lambda **p: seen.append(p), key="test.exited")
    try:
        e1 = premium["e1"]
        new = svc.enrolment_downgrade(
            actor=world["director"],
            enrolment=e1,
            tier="silver",
            effective_on=TODAY,
            reason="客户要求",
            today=TODAY,
        )
        e1.refresh_from_db()
        assert e1.state == Enrolment.State.DOWNGRADED and e1.ended_on == TODAY
        assert (
            new.state == Enrolment.State.ACTIVE
            and new.previous == e1
            and new.commission_rate == Decimal("0.40")
        )
        assert Client.objects.get(pk=world.client_m1.pk).commission_rate == Decimal("0.40")
        with pytest.raises(DomainError):  # not lower
            svc.enrolment_downgrade(
                actor=world["director"],
                enrolment=new,
                tier="gold",
                effective_on=TODAY,
                reason="x",
                today=TODAY,
            )
        svc.enrolment_exit(
            actor=world["director"], enrolment=new, ended_on=TODAY, reason="资产转出", today=TODAY
        )
    finally:
        events._handlers["premium.exited"].pop("test.exited", None)
    client = Client.objects.get(pk=world.client_m1.pk)
    assert not client.is_premium and client.commission_rate == Decimal("0.25")
    assert seen == [{"client_id": client.pk, "enrolment_id": new.pk, "actor": world["director"]}]
    assert AuditLog.objects.filter(action="premium.client_exited", object_id=str(client.pk)).exists()
    with pytest.raises(DomainError):
        svc.enrolment_exit(
            actor=world["director"], enrolment=new, ended_on=TODAY, reason="again", today=TODAY
        )


def test_exit_needs_reason_and_director(world, premium):
    e1 = premium["e1"]
    with pytest.raises(DomainError) as exc:
        svc.enrolment_exit(actor=world["director"], enrolment=e1, ended_on=TODAY, reason=" ", today=TODAY)
    assert exc.value.field == "reason"
    with pytest.raises(DomainError):
        svc.enrolment_exit(actor=world["broker1"], enrolment=e1, ended_on=TODAY, reason="x", today=TODAY)
    assert Enrolment.objects.get(pk=e1.pk).state == Enrolment.State.ACTIVE
    assert Client.objects.get(pk=world.client_m1.pk).is_premium


# --- requests ----------------------------------------------------------------------------------------------


def test_request_enters_dedicated_brokers_queue_with_24x7_deadlines(world, premium):
    friday_night = dt.datetime(2026, 11, 27, 23, 50, tzinfo=dt.UTC)
    req = svc.request_create(
        actor=world["director"], client=world.client_m1, channel="phone", subject="夜间来电", body="问询",
        received_at=friday_night, now=friday_night,
    )  # fmt: skip
    assert req.broker == world["broker1"] and req.backup_broker == premium["broker2"]
    assert req.first_response_due == friday_night + dt.timedelta(minutes=30)  # no business hours on the desk
    assert req.resolution_due == friday_night + dt.timedelta(hours=24)
    assert Notification.objects.filter(recipient=world["broker1"], title__contains=f"#{req.pk}").exists()


def test_request_for_non_premium_client_is_refused(world, premium):
    with pytest.raises(DomainError) as exc:
        svc.request_create(
            actor=world["director"], client=world.client_m2, channel="phone", subject="x", body="y"
        )
    assert exc.value.field == "client"
    with pytest.raises(DomainError) as exc:
        svc.request_create(
            actor=world["manager1"], client=world.client_m1, channel="phone", subject="x", body="y"
        )
    assert exc.value.code == "forbidden"
    assert not PremiumRequest.objects.filter(branch=world.b1).exists()


def test_desk_settings_change_deadlines_of_new_requests(world, premium):
    svc.desk_settings_update(
        actor=world["director"],
        branch=world.b1,
        first_response_minutes=15,
        resolution_hours=4,
        director_after_minutes=30,
    )
    now = timezone.now()
    req = svc.request_create(
        actor=world["broker1"], client=world.client_m1, channel="wecom", subject="s", body="b", now=now
    )
    assert req.first_response_due == now + dt.timedelta(minutes=15)
    assert req.resolution_due == now + dt.timedelta(hours=4)
    with pytest.raises(DomainError) as exc:
        svc.desk_settings_update(
            actor=world["director"],
            branch=world.b1,
            first_response_minutes=600,
            resolution_hours=4,
            director_after_minutes=30,
        )
    assert exc.value.field == "first_response_minutes"


def test_research_question_round_trip(world, premium, requests_):
    req = requests_["r1"]
    broker, researcher = world["broker1"], world["researcher1"]
    q = svc.question_ask(actor=broker, req=req, question="招商银行的分红预期如何？")
    req.refresh_from_db()
    assert req.state == S.AWAITING_RESEARCH and req.responded_at is not None  # asking accepted the request
    assert Notification.objects.filter(recipient=researcher, url__contains="questions").exists()
    with pytest.raises(DomainError):  # the broker cannot resolve while waiting
        svc.request_resolve(actor=broker, req=req, resolution="x")
    with pytest.raises(DomainError) as exc:  # a broker cannot answer
        svc.question_answer(actor=broker, question=q, answer="x")
    assert exc.value.code == "forbidden"
    svc.question_answer(actor=researcher, question=q, answer="预计分红率 5% 左右。")
    req.refresh_from_db()
    assert req.state == S.ANSWERED
    with pytest.raises(DomainError) as exc:  # not yet relayed
        svc.request_resolve(actor=broker, req=req, resolution="已答复")
    assert "转达" in exc.value.message
    svc.question_relay(actor=broker, question=q)
    req = svc.request_resolve(actor=broker, req=req, resolution="已向客户说明分红预期。")
    assert req.state == S.RESOLVED and req.resolved_at is not None
    req = svc.request_close(actor=broker, req=req, satisfaction=5)
    assert req.state == S.CLOSED and req.satisfaction == 5
    kinds = list(RequestMessage.objects.filter(request=req).values_list("kind", flat=True))
    assert kinds == ["reply", "question", "answer", "relay", "reply"]
    assert ResearchQuestion.objects.get(pk=q.pk).relayed_at is not None


def test_assigned_question_only_for_that_researcher(world, premium, requests_):
    other = __import__("branchcare.testing.factories", fromlist=["UserFactory"]).UserFactory(
        username="researcher2", branch=world.b1, roles=["researcher"]
    )
    q = svc.question_ask(
        actor=world["broker1"], req=requests_["r1"], question="q", researcher=world["researcher1"]
    )
    with pytest.raises(DomainError):
        svc.question_answer(actor=other, question=q, answer="a")
    assert ResearchQuestion.objects.get(pk=q.pk).answered_at is None


def test_close_requires_satisfaction_and_illegal_steps_change_nothing(world, premium, requests_):
    req = requests_["r1"]
    with pytest.raises(DomainError):
        svc.request_close(actor=world["broker1"], req=req, satisfaction=4)  # not resolved
    assert PremiumRequest.objects.get(pk=req.pk).state == S.NEW
    req = svc.request_start(actor=world["broker1"], req=req, text="收到")
    req = svc.request_resolve(actor=world["broker1"], req=req, resolution="已办结")
    with pytest.raises(DomainError) as exc:
        svc.request_close(actor=world["broker1"], req=req, satisfaction=9)
    assert exc.value.field == "satisfaction"
    assert PremiumRequest.objects.get(pk=req.pk).state == S.RESOLVED


def test_backup_broker_acts_only_after_escalation(world, premium, requests_):
    req = requests_["r1"]
    backup = premium["broker2"]
    with pytest.raises(DomainError):
        svc.request_start(actor=backup, req=req)
    PremiumRequest.objects.filter(pk=req.pk).update(escalation_level=1)
    req.refresh_from_db()
    assert svc.request_start(actor=backup, req=req).state == S.IN_PROGRESS


def test_reply_to_client_on_new_request_counts_as_first_response(world, premium, requests_):
    req = requests_["r1"]
    svc.request_message_add(actor=world["broker1"], req=req, text="您好，马上为您查询。", to_client=True)
    req.refresh_from_db()
    assert req.state == S.IN_PROGRESS and req.responded_at is not None
    svc.request_message_add(actor=world["broker1"], req=req, text="内部备注", to_client=False)
    assert RequestMessage.objects.filter(request=req, kind="note", to_client=False).exists()


# --- escalation --------------------------------------------------------------------------------------------


def test_escalation_to_backup_then_director_once_each(world, premium):
    t0 = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)  # a Saturday night in Shanghai: the desk still counts
    req = svc.request_create(
        actor=world["broker1"],
        client=world.client_m1,
        channel="phone",
        subject="s",
        body="b",
        received_at=t0,
        now=t0,
    )
    assert svc.requests_escalate(now=t0 + dt.timedelta(minutes=29)) == 0
    assert svc.requests_escalate(now=t0 + dt.timedelta(minutes=31)) == 1
    req.refresh_from_db()
    assert req.escalation_level == 1
    assert Notification.objects.filter(recipient=premium["broker2"], title__contains=f"#{req.pk}").exists()
    assert not Notification.objects.filter(recipient=world["director"], title__contains=f"#{req.pk}").exists()
    assert svc.requests_escalate(now=t0 + dt.timedelta(minutes=40)) == 0  # announced once
    assert svc.requests_escalate(now=t0 + dt.timedelta(minutes=91)) == 1  # 60 min after the breach
    req.refresh_from_db()
    assert req.escalation_level == 2
    assert Notification.objects.filter(recipient=world["director"], title__contains=f"#{req.pk}").exists()
    assert svc.requests_escalate(now=t0 + dt.timedelta(days=3)) == 0
    assert RequestMessage.objects.filter(request=req, kind="system").count() == 2
    assert AuditLog.objects.filter(action="premium_request.escalate", object_id=str(req.pk)).count() == 2


def test_answered_request_does_not_escalate_on_first_response(world, premium):
    t0 = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)
    req = svc.request_create(
        actor=world["broker1"],
        client=world.client_m1,
        channel="phone",
        subject="s",
        body="b",
        received_at=t0,
        now=t0,
    )
    svc.request_start(actor=world["broker1"], req=req, now=t0 + dt.timedelta(minutes=10))
    assert svc.requests_escalate(now=t0 + dt.timedelta(hours=5)) == 0
    assert svc.requests_escalate(now=t0 + dt.timedelta(hours=24, minutes=1)) == 1  # resolution missed


def test_periodic_escalation_task_runs_the_service(world, premium):
    from branchcare.premium import tasks

    t0 = timezone.now() - dt.timedelta(hours=2)
    req = svc.request_create(
        actor=world["broker1"],
        client=world.client_m1,
        channel="phone",
        subject="s",
        body="b",
        received_at=t0,
        now=t0,
    )
    tasks.escalate_premium_requests()  # immediate mode in tests; periodic results are not kept
    req.refresh_from_db()
    assert req.escalation_level == 2


def test_morning_briefings_only_on_trading_days(world, premium, monkeypatch):
    from branchcare.premium import tasks

    monkeypatch.setattr(tasks, "is_trading_day", lambda day: False)
    assert tasks.generate_morning_briefings() == 0
    monkeypatch.setattr(tasks, "is_trading_day", lambda day: True)
    assert tasks.generate_morning_briefings() == 2  # broker1 and the B002 broker have premium clients


def test_dedicated_broker_reaches_the_premium_client_and_loses_it_on_exit(world, premium):
    """Enrolment makes broker1 client_m1's dedicated broker: the client is in broker1's scope (the 360
    page, lists, the API) though managed by manager1, and leaves it again on exit."""
    from branchcare.clients.selectors import client_base_qs

    client = world.client_m1
    client.refresh_from_db()
    assert client.broker_id == world["broker1"].pk
    assert client_base_qs(viewer=world["broker1"]).filter(pk=client.pk).exists()
    assert not client_base_qs(viewer=world["broker1"]).filter(pk=world.client_m2.pk).exists()
    assert not client_base_qs(viewer=premium["broker2"]).filter(pk=client.pk).exists()  # backup only
    svc.enrolment_exit(
        actor=world["director"], enrolment=premium["e1"], ended_on=TODAY, reason="客户申请退出", today=TODAY
    )
    client.refresh_from_db()
    assert client.broker_id is None
    assert not client_base_qs(viewer=world["broker1"]).filter(pk=client.pk).exists()
