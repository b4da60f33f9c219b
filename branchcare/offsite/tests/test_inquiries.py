"""Inquiries and complaints: registration, matching, the workflow, escalation, closing and the survey."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from branchcare.core import events
from branchcare.core.errors import DomainError
from branchcare.core.models import Notification
from branchcare.offsite import services_inquiries as inq
from branchcare.offsite.models import Inquiry, ReturnVisit

from .conftest import NOW, make_inquiry

pytestmark = pytest.mark.django_db
S = Inquiry.State


def test_known_client_is_matched_by_phone_or_client_no(world):
    assert inq.match_client(branch_id=world.b1.pk, phone="+86 138-1234-5678") == world.client_m1
    assert inq.match_client(branch_id=world.b1.pk, client_no=world.client_m2.client_no) == world.client_m2
    # another branch's client is never matched
    assert inq.match_client(branch_id=world.b1.pk, phone=world.client_b2.phone) is None
    obj = inq.inquiry_create(
        actor=world["agent1"], data=inq.InquiryInput(subject="问开户", client_lookup="13812345678"), now=NOW
    )
    assert obj.client == world.client_m1 and obj.caller_name == "张三"


def test_unknown_caller_needs_a_name_or_phone(world):
    with pytest.raises(DomainError) as err:
        inq.inquiry_create(actor=world["agent1"], data=inq.InquiryInput(subject="陌生来电"), now=NOW)
    assert err.value.field == "caller_name"
    assert not Inquiry.objects.exists()
    obj = inq.inquiry_create(
        actor=world["agent1"],
        data=inq.InquiryInput(subject="陌生来电", caller_name="路人甲", caller_phone="13900000000"),
        now=NOW,
    )
    assert obj.client is None and obj.caller_phone == "13900000000"


def test_deadlines_come_from_the_category_on_service_hours(world, category):
    obj = make_inquiry(world, category_id=category.pk)
    assert obj.first_response_due == NOW + dt.timedelta(hours=1)
    assert obj.resolution_due == dt.datetime(
        2026, 11, 26, 10, 0, tzinfo=NOW.tzinfo
    )  # 3.5 h today + 0.5 h tomorrow
    assert obj.regulatory_due is None


def test_complaint_goes_to_compliance_with_regulatory_deadline(world):
    obj = make_inquiry(world, kind=Inquiry.Kind.COMPLAINT, subject="客户经理未及时回复")
    assert obj.regulatory_due == NOW + dt.timedelta(days=15)
    assert Notification.objects.filter(recipient=world["compliance1"], title__contains="新投诉").exists()
    assert not Notification.objects.filter(recipient=world["director"]).exists()


def test_who_may_register(world):
    for username in ("manager1", "consultant1", "compliance1"):
        with pytest.raises(DomainError):
            make_inquiry(world, actor=username)
    assert not Inquiry.objects.exists()
    assert make_inquiry(world, actor="director").pk


def test_assignment_to_agent_or_owning_manager_only(world):
    obj = make_inquiry(world)
    with pytest.raises(DomainError) as err:
        inq.inquiry_assign(actor=world["agent1"], inquiry=obj, assignee=world["manager2"])
    assert err.value.field == "assignee"
    obj.refresh_from_db()
    assert obj.state == S.NEW and obj.assignee is None
    obj = inq.inquiry_assign(actor=world["agent1"], inquiry=obj, assignee=world["manager1"])
    assert obj.state == S.ASSIGNED and obj.assignee == world["manager1"]
    assert Notification.objects.filter(recipient=world["manager1"]).exists()
    # the manager works it, but may not reassign or cancel
    with pytest.raises(DomainError):
        inq.inquiry_transition(actor=world["manager1"], inquiry=obj, name="cancel", note="不办了")
    obj = inq.inquiry_transition(actor=world["manager1"], inquiry=obj, name="start")
    assert obj.state == S.IN_PROGRESS and obj.first_responded_at is not None
    # manager2 may not touch it
    with pytest.raises(DomainError):
        inq.inquiry_transition(actor=world["manager2"], inquiry=obj, name="resolve", note="x")


def test_full_workflow_closing_a_complaint_publishes_and_generates_a_return_visit(world):
    seen = []
    events.subscribe("offsite.complaint_closed", lambda **p: seen.append(p), key="test-closed")
    try:
        obj = make_inquiry(world, kind=Inquiry.Kind.COMPLAINT, assignee_id=world["agent1"].pk)
        obj = inq.inquiry_transition(actor=world["agent1"], inquiry=obj, name="start")
        with pytest.raises(DomainError):
            inq.inquiry_transition(actor=world["agent1"], inquiry=obj, name="resolve", note="")
        obj = inq.inquiry_transition(
            actor=world["agent1"], inquiry=obj, name="resolve", note="已解释佣金标准"
        )
        assert obj.state == S.RESOLVED and obj.resolution == "已解释佣金标准"
        obj = inq.inquiry_transition(actor=world["agent1"], inquiry=obj, name="reopen", note="客户仍有疑问")
        obj = inq.inquiry_transition(
            actor=world["agent1"], inquiry=obj, name="resolve", note="已退还多收佣金"
        )
        with pytest.raises(DomainError):
            inq.inquiry_transition(actor=world["agent1"], inquiry=obj, name="close")  # unconfirmed, no reason
        obj = inq.inquiry_transition(actor=world["agent1"], inquiry=obj, name="close", client_confirmed=True)
    finally:
        events._handlers["offsite.complaint_closed"].pop("test-closed")
    assert obj.state == S.CLOSED and obj.client_confirmed
    closed_on = timezone.localtime(obj.closed_at).date()
    assert obj.retention_until == closed_on.replace(year=closed_on.year + 5)
    assert seen == [
        {
            "inquiry_id": obj.pk,
            "client_id": world.client_m1.pk,
            "branch_id": world.b1.pk,
            "actor": world["agent1"],
        }
    ]
    visit = ReturnVisit.objects.get(client=world.client_m1, rule__kind="complaint_closed")
    assert visit.source_ref == f"complaint:{obj.pk}" and visit.assignee != world["manager1"]
    # satisfaction survey once
    obj = inq.inquiry_survey(actor=world["agent1"], inquiry=obj, score=4, comment="满意")
    assert obj.survey_score == 4
    with pytest.raises(DomainError):
        inq.inquiry_survey(actor=world["agent1"], inquiry=obj, score=5)


def test_escalation_warns_then_escalates_once(world, category):
    obj = make_inquiry(world, category_id=category.pk, assignee_id=world["agent1"].pk)
    # before the warning nothing happens
    assert inq.inquiries_escalate(now=NOW + dt.timedelta(minutes=30)) == {"warned": 0, "escalated": 0}
    # first response is due after 1 h: breached, escalated, director told
    counts = inq.inquiries_escalate(now=NOW + dt.timedelta(hours=1, minutes=1))
    assert counts["escalated"] == 1
    obj.refresh_from_db()
    assert obj.escalated and obj.escalated_at is not None
    assert Notification.objects.filter(recipient=world["director"], title__contains="已升级").count() == 1
    assert not Notification.objects.filter(recipient=world["b2director"]).exists()
    assert not Notification.objects.filter(recipient=world["compliance1"]).exists()  # not a complaint
    # idempotent
    assert inq.inquiries_escalate(now=NOW + dt.timedelta(hours=2))["escalated"] == 0
    assert inq.inquiry_sla(obj, now=NOW + dt.timedelta(hours=2)).value == "overdue"


def test_escalated_complaint_also_tells_compliance(world):
    obj = make_inquiry(world, kind=Inquiry.Kind.COMPLAINT)
    Notification.objects.all().delete()
    inq.inquiries_escalate(now=obj.first_response_due + dt.timedelta(minutes=1))
    assert Notification.objects.filter(recipient=world["compliance1"], kind="danger").exists()
    assert Notification.objects.filter(recipient=world["director"], kind="danger").exists()


def test_warning_before_breach(world, category):
    obj = make_inquiry(world, category_id=category.pk, assignee_id=world["agent1"].pk)
    obj = inq.inquiry_transition(
        actor=world["agent1"], inquiry=obj, name="start", now=NOW + dt.timedelta(minutes=5)
    )
    counts = inq.inquiries_escalate(now=obj.warn_at + dt.timedelta(minutes=1))
    assert counts == {"warned": 1, "escalated": 0}
    assert Notification.objects.filter(recipient=world["agent1"], title__contains="即将到期").count() == 1
