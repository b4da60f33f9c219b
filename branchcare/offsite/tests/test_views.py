"""Off-site pages: the role × URL permission matrix (every page, all 11 world users and anonymous), the
screen-pop polling, the main page flows, and bounded query counts on every list."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from branchcare.offsite import services_calls as calls
from branchcare.offsite import services_campaigns as campaigns
from branchcare.offsite import services_inquiries as inq
from branchcare.offsite import services_visits as visits
from branchcare.offsite.models import CallRecord, Inquiry, ReturnVisit
from branchcare.testing.factories import ClientFactory

pytestmark = pytest.mark.django_db

USERS = [
    "admin", "director", "manager1", "manager2", "consultant1", "researcher1", "broker1", "agent1",
    "compliance1", "b2manager1", "b2director",
]  # fmt: skip


@pytest.fixture
def objs(world):
    agent, b2d = world["agent1"], world["b2director"]
    inquiry = inq.inquiry_create(
        actor=agent,
        data=inq.InquiryInput(
            subject="转户咨询", client_id=world.client_m1.pk, assignee_id=world["manager1"].pk
        ),
    )
    complaint = inq.inquiry_create(
        actor=agent, data=inq.InquiryInput(kind="complaint", subject="佣金投诉", client_id=world.client_m2.pk)
    )
    b2 = inq.inquiry_create(
        actor=b2d, data=inq.InquiryInput(subject="杭州咨询", client_id=world.client_b2.pk)
    )
    call, _c = calls.call_incoming(actor=agent, phone=world.client_m1.phone)
    visit = ReturnVisit.objects.create(
        branch=world.b1, rule=visits.rules_for(world.b1.pk)[0], client=world.client_m2, assignee=agent,
        due_on=timezone.localdate(),
    )  # fmt: skip
    b2_visit = ReturnVisit.objects.create(
        branch=world.b2,
        rule=visits.rules_for(world.b2.pk)[0],
        client=world.client_b2,
        due_on=timezone.localdate(),
    )
    campaign = campaigns.campaign_create(
        actor=agent,
        name="风险测评到期提醒",
        purpose="",
        criteria=campaigns.CampaignCriteria(),
        agents=[agent],
    )
    return {
        "inquiry": inquiry, "complaint": complaint, "b2": b2, "call": call, "visit": visit, "b2_visit": b2_visit,
        "campaign": campaign, "rule": visit.rule, "b2_rule": b2_visit.rule,
    }  # fmt: skip


def _urls(o):
    r = reverse
    return {
        "inquiries": ("get", r("offsite:inquiries")),
        "inquiry_new": ("get", r("offsite:inquiry_new")),
        "inquiry": ("get", r("offsite:inquiry_detail", args=[o["inquiry"].pk])),
        "complaint": ("get", r("offsite:inquiry_detail", args=[o["complaint"].pk])),
        "inquiry_b2": ("get", r("offsite:inquiry_detail", args=[o["b2"].pk])),
        "transition_b2": ("post", r("offsite:inquiry_transition", args=[o["b2"].pk]), {"name": "start"}),
        "survey_b2": ("post", r("offsite:inquiry_survey", args=[o["b2"].pk]), {"score": "5"}),
        "calls": ("get", r("offsite:calls")),
        "call_current": ("get", r("offsite:call_current")),
        "call_log": ("post", r("offsite:call_log", args=[o["call"].pk]), {"kind": "complaint", "subject": "投诉"}),
        "call_end": ("post", r("offsite:call_end", args=[o["call"].pk]), {}),
        "revisits": ("get", r("offsite:revisits")),
        "revisit": ("get", r("offsite:revisit_detail", args=[o["visit"].pk])),
        "revisit_b2": ("get", r("offsite:revisit_detail", args=[o["b2_visit"].pk])),
        "revisit_assign_b2": ("post", r("offsite:revisit_assign", args=[o["b2_visit"].pk]), {"assignee": "1"}),
        "revisit_sample": ("post", r("offsite:revisit_sample"), {}),
        "coverage": ("get", r("offsite:revisit_coverage")),
        "rules": ("get", r("offsite:revisit_rules")),
        "rule_edit": ("get", r("offsite:revisit_rule_edit", args=[o["rule"].pk])),
        "rule_edit_b2": ("get", r("offsite:revisit_rule_edit", args=[o["b2_rule"].pk])),
        "settings": ("post", r("offsite:settings"), {"complaint_response_days": "15", "retention_years": "5"}),
        "category": ("post", r("offsite:category_save"),
                     {"code": "X", "name": "其他", "first_response_hours": "1", "resolution_hours": "8", "active": "on"}),
        "campaigns": ("get", r("offsite:campaigns")),
        "campaign_new": ("get", r("offsite:campaign_new")),
        "campaign": ("get", r("offsite:campaign_detail", args=[o["campaign"].pk])),
    }  # fmt: skip


# Columns: admin, director, manager1, manager2, consultant1, researcher1, broker1, agent1, compliance1,
# b2manager1, b2director.
MATRIX = {
    "inquiries":         [403, 200, 200, 200, 403, 403, 403, 200, 200, 200, 200],
    "inquiry_new":       [403, 200, 403, 403, 403, 403, 403, 200, 403, 403, 200],
    "inquiry":           [403, 200, 200, 404, 403, 403, 403, 200, 404, 404, 404],
    "complaint":         [403, 200, 404, 404, 403, 403, 403, 200, 200, 404, 404],
    "inquiry_b2":        [403, 404, 404, 404, 403, 403, 403, 404, 404, 404, 200],
    "transition_b2":     [403, 404, 404, 404, 403, 403, 403, 404, 404, 404, 302],
    "survey_b2":         [403, 404, 403, 403, 403, 403, 403, 404, 403, 403, 302],
    "calls":             [403, 200, 403, 403, 403, 403, 403, 200, 403, 403, 200],
    "call_current":      [403, 403, 403, 403, 403, 403, 403, 200, 403, 403, 403],
    "call_log":          [403, 403, 403, 403, 403, 403, 403, 302, 403, 403, 403],
    "call_end":          [403, 403, 403, 403, 403, 403, 403, 302, 403, 403, 403],
    "revisits":          [403, 200, 403, 403, 403, 403, 403, 200, 200, 403, 200],
    "revisit":           [403, 200, 403, 403, 403, 403, 403, 200, 200, 403, 404],
    "revisit_b2":        [403, 404, 403, 403, 403, 403, 403, 404, 404, 403, 200],
    "revisit_assign_b2": [403, 404, 403, 403, 403, 403, 403, 404, 403, 403, 302],
    "revisit_sample":    [403, 302, 403, 403, 403, 403, 403, 403, 302, 403, 302],
    "coverage":          [403, 200, 403, 403, 403, 403, 403, 200, 200, 403, 200],
    "rules":             [200, 200, 403, 403, 403, 403, 403, 403, 200, 403, 200],
    "rule_edit":         [200, 200, 403, 403, 403, 403, 403, 403, 200, 403, 404],
    "rule_edit_b2":      [404, 404, 403, 403, 403, 403, 403, 403, 404, 403, 200],
    "settings":          [302, 302, 403, 403, 403, 403, 403, 403, 403, 403, 302],
    "category":          [302, 302, 403, 403, 403, 403, 403, 403, 403, 403, 302],
    "campaigns":         [403, 200, 403, 403, 403, 403, 403, 200, 403, 403, 200],
    "campaign_new":      [403, 200, 403, 403, 403, 403, 403, 200, 403, 403, 200],
    "campaign":          [403, 200, 403, 403, 403, 403, 403, 200, 403, 403, 404],
}  # fmt: skip
CASES = [(user, key, row[i]) for key, row in MATRIX.items() for i, user in enumerate(USERS)]


def _request(client, spec):
    method, url, *data = spec
    return client.post(url, data[0] if data else {}) if method == "post" else client.get(url)


@pytest.mark.parametrize(("user", "key", "expected"), CASES)
def test_permission_matrix(objs, login, user, key, expected):
    response = _request(login(user), _urls(objs)[key])
    assert response.status_code == expected, (user, key, response.status_code)


@pytest.mark.parametrize("key", list(MATRIX))
def test_anonymous_is_sent_to_login(objs, client, key):
    response = _request(client, _urls(objs)[key])
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_screen_pop_poll_swaps_only_when_the_call_changes(objs, login, world):
    c = login("agent1")
    url = reverse("offsite:call_current")
    first = c.get(url)
    assert (
        first.status_code == 200
        and "张三" in first.content.decode()
        and 'hx-trigger="every 3s"' in first.content.decode()
    )
    assert c.get(f"{url}?current={objs['call'].pk}").status_code == 204
    # the card is masked for an agent without the personal-data right
    assert "138****5678" in first.content.decode() and "13812345678" not in first.content.decode()
    calls.call_end(actor=world["agent1"], call=objs["call"])
    empty = c.get(f"{url}?current={objs['call'].pk}")
    assert empty.status_code == 200 and "暂无来电" in empty.content.decode()


def test_logging_a_complaint_from_the_call_in_one_step(objs, login, world):
    c = login("agent1")
    response = c.post(
        reverse("offsite:call_log", args=[objs["call"].pk]),
        {"kind": "complaint", "subject": "交易系统卡顿", "description": "早盘无法下单", "priority": "high"},
    )
    obj = Inquiry.objects.get(subject="交易系统卡顿")
    assert response.status_code == 302 and response["Location"] == reverse(
        "offsite:inquiry_detail", args=[obj.pk]
    )
    assert obj.client == world.client_m1 and obj.call == objs["call"] and obj.kind == "complaint"
    assert obj.assignee == world["agent1"] and obj.state == Inquiry.State.ASSIGNED
    assert CallRecord.objects.get(pk=objs["call"].pk).ended_at is not None
    # compliance sees it in the complaints list
    page = login("compliance1").get(reverse("offsite:inquiries") + "?kind=complaint").content.decode()
    assert "交易系统卡顿" in page


def test_revisit_page_records_the_outcome(objs, login):
    c = login("agent1")
    url = reverse("offsite:revisit_detail", args=[objs["visit"].pk])
    response = c.post(url, {"outcome": "reached", "q0": "是", "note": "已确认"})
    assert response.status_code == 302
    visit = ReturnVisit.objects.get(pk=objs["visit"].pk)
    assert visit.state == ReturnVisit.State.DONE and visit.answers[visit.rule.questions[0]] == "是"
    page = c.get(url).content.decode()
    assert page.index(visit.rule.questions[0]) < page.index(visit.rule.questions[1])
    # someone else cannot post an outcome
    assert login("director").post(url, {"outcome": "reached"}).status_code == 403


def test_revisit_assign_refuses_the_manager_with_a_message(objs, login, world):
    c = login("director")
    response = c.post(
        reverse("offsite:revisit_assign", args=[objs["visit"].pk]),
        {"assignee": world["manager2"].pk},
        follow=True,
    )
    assert "独立人员" in response.content.decode()
    assert ReturnVisit.objects.get(pk=objs["visit"].pk).assignee == world["agent1"]


def test_campaign_new_builds_and_deals_round_robin(world, login):
    from branchcare.testing.factories import UserFactory

    agent2 = UserFactory(username="agent2", branch=world.b1, roles=["agent"])
    ClientFactory.create_batch(4, branch=world.b1, manager=world["manager1"], risk_assessed_on=None)
    c = login("director")
    response = c.post(
        reverse("offsite:campaign_new"),
        {
            "name": "测评过期外呼",
            "assessment_older_than_years": "2",
            "agents": [world["agent1"].pk, agent2.pk],
        },
    )
    assert response.status_code == 302
    campaign = campaigns.campaign_list(viewer=world["director"]).get(name="测评过期外呼")
    counts = {
        a["name"]: sum(v for k, v in a.items() if k != "name")
        for a in campaigns.campaign_progress(campaign)["agents"]
    }
    assert sorted(counts.values()) == [2, 2]


def _rows(world, n):
    agent = world["agent1"]
    rule = visits.rules_for(world.b1.pk)[0]
    for i in range(n):
        cl = ClientFactory(branch=world.b1, manager=world["manager1"])
        inq.inquiry_create(
            actor=agent, data=inq.InquiryInput(subject=f"咨询{i}", client_id=cl.pk, assignee_id=agent.pk)
        )
        calls.call_incoming(actor=agent, phone=cl.phone)
        ReturnVisit.objects.create(
            branch=world.b1, rule=rule, client=cl, assignee=agent, due_on=timezone.localdate()
        )
    campaigns.campaign_create(
        actor=agent, name="外呼", purpose="", criteria=campaigns.CampaignCriteria(), agents=[agent]
    )


@pytest.mark.parametrize(
    ("name", "limit"),
    [("offsite:inquiries", 14), ("offsite:calls", 14), ("offsite:revisits", 12), ("offsite:revisit_coverage", 14),
     ("offsite:campaigns", 12)],
)  # fmt: skip
def test_list_query_counts_are_bounded(world, login, django_assert_max_num_queries, name, limit):
    _rows(world, 12)
    c = login("agent1")
    c.get(reverse(name))  # warm caches (rules created, calendar built)
    with django_assert_max_num_queries(limit):
        assert c.get(reverse(name)).status_code == 200


def test_campaign_detail_query_count(world, login, django_assert_max_num_queries):
    _rows(world, 12)
    campaign = campaigns.campaign_list(viewer=world["agent1"]).first()
    c = login("agent1")
    with django_assert_max_num_queries(14):
        assert c.get(reverse("offsite:campaign_detail", args=[campaign.pk])).status_code == 200


def test_client_page_shows_the_offsite_panel_and_timeline(objs, login, world):
    page = login("agent1").get(reverse("clients:detail", args=[world.client_m1.pk])).content.decode()
    assert 'id="client-offsite"' in page and "转户咨询" in page
    assert login("consultant1").get(reverse("clients:detail", args=[world.client_m1.pk])).status_code == 200
    assert (
        'id="client-offsite"'
        not in login("consultant1").get(reverse("clients:detail", args=[world.client_m1.pk])).content.decode()
    )
