"""Wiring of the plan/visit/patrol pages: permission matrix (role × URL), scoping, query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from branchcare.onsite.models import FollowUp, Patrol, Visit, VisitPlan, VisitPlanItem
from branchcare.onsite.services_plans import plan_generate_for_manager
from branchcare.testing.factories import ClientFactory, RoomFactory


@pytest.fixture
def objs(world):
    """A visit, a patrol, a follow-up and a plan item of manager1; the same for b2manager1."""
    now = timezone.now() - dt.timedelta(minutes=10)
    out = {}
    for key, username, client in (("m1", "manager1", world.client_m1), ("b2", "b2manager1", world.client_b2)):
        user = world[username]
        room = RoomFactory(branch=user.branch)
        plan = plan_generate_for_manager(manager=user, date=timezone.localdate())
        visit = Visit.objects.create(branch=user.branch, manager=user, client=client, at=now, topic="t")
        patrol = Patrol.objects.create(branch=user.branch, manager=user, room=room, at=now)
        fu = FollowUp.objects.create(
            branch=user.branch, owner=user, description="d", due_on=timezone.localdate(), patrol=patrol
        )
        out[key] = {"visit": visit, "patrol": patrol, "fu": fu, "item": plan.items.first(), "room": room}
    return out


def _urls(objs):
    m1, b2 = objs["m1"], objs["b2"]
    return {
        "today": ("get", reverse("onsite:today")),
        "visits": ("get", reverse("onsite:visits")),
        "visit_new": ("get", reverse("onsite:visit_new")),
        "visit_m1": ("get", reverse("onsite:visit_detail", args=[m1["visit"].pk])),
        "visit_b2": ("get", reverse("onsite:visit_detail", args=[b2["visit"].pk])),
        "patrols": ("get", reverse("onsite:patrols")),
        "patrol_new": ("get", reverse("onsite:patrol_new")),
        "patrol_m1": ("get", reverse("onsite:patrol_detail", args=[m1["patrol"].pk])),
        "patrol_b2": ("get", reverse("onsite:patrol_detail", args=[b2["patrol"].pk])),
        "followups": ("get", reverse("onsite:followups")),
        "fu_done_b2": ("post", reverse("onsite:followup_done", args=[b2["fu"].pk])),
        "swap_m1": ("post", reverse("onsite:plan_swap", args=[m1["item"].pk])),
        "generate": ("post", reverse("onsite:plan_generate")),
    }


# role → {url key: expected status}; 302 for POSTs that redirect back to the plan page
MATRIX = {
    "manager1": {
        "today": 200, "visits": 200, "visit_new": 200, "visit_m1": 200, "visit_b2": 404, "patrols": 200,
        "patrol_new": 200, "patrol_m1": 200, "patrol_b2": 404, "followups": 200, "fu_done_b2": 404,
        "swap_m1": 302, "generate": 302,
    },
    "manager2": {
        "today": 200, "visits": 200, "visit_new": 200, "visit_m1": 404, "visit_b2": 404, "patrols": 200,
        "patrol_new": 200, "patrol_m1": 404, "patrol_b2": 404, "followups": 200, "fu_done_b2": 404,
        "swap_m1": 404, "generate": 302,
    },
    "director": {
        "today": 200, "visits": 200, "visit_new": 200, "visit_m1": 200, "visit_b2": 404, "patrols": 200,
        "patrol_new": 200, "patrol_m1": 200, "patrol_b2": 404, "followups": 200, "fu_done_b2": 404,
        "swap_m1": 403, "generate": 302,
    },
    "consultant1": {
        "today": 403, "visits": 403, "visit_new": 403, "visit_m1": 403, "visit_b2": 403, "patrols": 403,
        "patrol_new": 403, "patrol_m1": 403, "patrol_b2": 403, "followups": 200, "fu_done_b2": 404,
        "swap_m1": 403, "generate": 403,
    },
    "agent1": dict.fromkeys(("today", "visits", "visit_new", "visit_m1", "visit_b2", "patrols", "patrol_new", "patrol_m1", "patrol_b2", "followups", "fu_done_b2", "swap_m1", "generate"), 403),
}  # fmt: skip


@pytest.mark.parametrize("username", list(MATRIX))
def test_permission_matrix(world, objs, login, username):
    client = login(username)
    urls = _urls(objs)
    for key, expected in MATRIX[username].items():
        method, url = urls[key]
        response = getattr(client, method)(
            url, {"reason": "r", "client_no": "x"} if method == "post" else None
        )
        assert response.status_code == expected, f"{username} {key} {url}: {response.status_code}"


def test_anonymous_redirected_to_login(client, objs):
    for _method, url in _urls(objs).values():
        response = client.get(url)
        assert response.status_code in (302, 405)


def test_manager_today_page_shows_plan_and_progress(world, login):
    client = login("manager1")
    assert "还没有今日计划，点击生成今日计划" in client.get(reverse("onsite:today")).content.decode()
    client.post(reverse("onsite:plan_generate"))
    plan = VisitPlan.objects.get(manager=world["manager1"])
    body = client.get(reverse("onsite:today")).content.decode()
    assert f"0/{plan.visits_quota}" in body and world.client_m1.name in body


def test_record_visit_through_the_form(world, login):
    client = login("manager1")
    client.post(reverse("onsite:plan_generate"))
    item = VisitPlanItem.objects.get(client=world.client_m1)
    page = client.get(reverse("onsite:visit_new") + f"?item={item.pk}")
    assert world.client_m1.client_no in page.content.decode()
    at = timezone.localtime() - dt.timedelta(minutes=2)
    response = client.post(
        reverse("onsite:visit_new"),
        {
            "client_no": world.client_m1.client_no,
            "at": at.strftime("%Y-%m-%dT%H:%M"),
            "place": "hall",
            "topic": "问候",
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == VisitPlanItem.Status.DONE


def test_visit_form_shows_chinese_errors(world, login):
    client = login("manager1")
    future = timezone.localtime() + dt.timedelta(hours=2)
    response = client.post(
        reverse("onsite:visit_new"),
        {
            "client_no": world.client_m2.client_no,
            "at": future.strftime("%Y-%m-%dT%H:%M"),
            "place": "hall",
            "topic": "x",
        },
    )
    assert "不在您的服务范围内" in response.content.decode()
    assert not Visit.objects.exists()


def test_followup_done_htmx_returns_row(world, login):
    fu = FollowUp.objects.create(
        branch=world.b1, owner=world["manager1"], description="修理", due_on=timezone.localdate()
    )
    client = login("manager1")
    response = client.post(
        reverse("onsite:followup_done", args=[fu.pk]), {"resolution": "已修好"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "已完成" in response.content.decode()
    fu.refresh_from_db()
    assert fu.state == FollowUp.State.DONE


def _make_rows(world, n):
    now = timezone.now() - dt.timedelta(hours=1)
    m1 = world["manager1"]
    room = RoomFactory(branch=world.b1)
    for _ in range(n):
        c = ClientFactory(branch=world.b1, manager=m1)
        Visit.objects.create(
            branch=world.b1, manager=m1, client=c, at=now, topic="t", room=room, place="room"
        )
        p = Patrol.objects.create(branch=world.b1, manager=m1, room=room, at=now)
        p.clients_present.add(c)
        FollowUp.objects.create(
            branch=world.b1, owner=m1, description="d", due_on=now.date(), patrol=p, client=c
        )


@pytest.mark.parametrize("rows", [5, 30])
@pytest.mark.parametrize("name", ["onsite:today", "onsite:visits", "onsite:patrols", "onsite:followups"])
@pytest.mark.parametrize("username", ["manager1", "director"])
def test_query_counts_do_not_grow_with_rows(
    world, login, django_assert_max_num_queries, rows, name, username
):
    _make_rows(world, rows)
    plan_generate_for_manager(manager=world["manager1"], date=timezone.localdate())
    client = login(username)
    client.get(reverse(name))  # warm caches (session, calendar)
    with django_assert_max_num_queries(20):
        assert client.get(reverse(name)).status_code == 200


def test_visit_form_raises_consultation_order(world, login):
    from branchcare.onsite.models import ConsultationOrder

    client = login("manager1")
    at = timezone.localtime() - dt.timedelta(minutes=2)
    form = {
        "client_no": world.client_m1.client_no,
        "at": at.strftime("%Y-%m-%dT%H:%M"),
        "place": "hall",
        "topic": "问候",
        "raise_consultation": "on",
    }
    missing = client.post(reverse("onsite:visit_new"), form)
    assert "发起咨询单时请填写客户的问题" in missing.content.decode() and not Visit.objects.exists()

    response = client.post(reverse("onsite:visit_new"), {**form, "consultation_question": "要不要减仓？"})

    order = ConsultationOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("onsite:consultation_detail", args=[order.pk])
    visit = Visit.objects.get()
    assert order.visit == visit and order.question == "要不要减仓？"
    detail = client.get(reverse("onsite:visit_detail", args=[visit.pk])).content.decode()
    assert "关联咨询单" in detail and "要不要减仓？" in detail


def test_visit_form_question_ignored_without_the_option(world, login):
    from branchcare.onsite.models import ConsultationOrder

    client = login("manager1")
    at = timezone.localtime() - dt.timedelta(minutes=2)
    client.post(
        reverse("onsite:visit_new"),
        {
            "client_no": world.client_m1.client_no,
            "at": at.strftime("%Y-%m-%dT%H:%M"),
            "place": "hall",
            "topic": "问候",
            "consultation_question": "未勾选",
        },
    )
    assert Visit.objects.count() == 1 and not ConsultationOrder.objects.exists()
