"""API of the exchange meeting (/api/v1/meetings/…) and of the on-site dashboard
(/api/v1/onsite/dashboard/): scoping, writes, and the figures matching the selector."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from branchcare.api.testing import api_client
from branchcare.onsite import services_meetings as services
from branchcare.onsite.models import ExchangeMeeting, MeetingInvitation, Visit, VisitPlan, VisitPlanItem
from branchcare.testing.factories import ClientFactory

ROLES = [
    "admin",
    "director",
    "manager1",
    "consultant1",
    "researcher1",
    "broker1",
    "agent1",
    "compliance1",
    "b2manager1",
    "b2director",
]


@pytest.fixture
def meeting(world):
    ClientFactory(branch=world.b1, manager=world["manager1"], tier="large", name="大户甲")
    ClientFactory(branch=world.b1, manager=world["manager2"], tier="medium", name="中户乙")
    now = timezone.now()
    return services.meeting_schedule(
        actor=world["director"],
        branch=world.b1,
        topic="市场解盘",
        starts_at=now + dt.timedelta(days=2),
        speakers=[world["researcher1"]],
        now=now,
    )


LIST_OK = {"director", "manager1", "consultant1", "researcher1", "b2manager1", "b2director"}
DETAIL_OK = {"director", "manager1", "researcher1"}


@pytest.mark.parametrize("username", ROLES)
def test_meeting_list_scope(world, meeting, username):
    response = api_client(world[username]).get("/api/v1/meetings/")
    if username not in LIST_OK:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    ids = [m["id"] for m in response.json()["results"]]
    assert ids == ([meeting.pk] if username in DETAIL_OK else [])


@pytest.mark.parametrize("username", ROLES)
@pytest.mark.parametrize("suffix", ["", "invitations/"])
def test_meeting_detail_and_invitations_scope(world, meeting, username, suffix):
    response = api_client(world[username]).get(f"/api/v1/meetings/{meeting.pk}/{suffix}")
    expected = 200 if username in DETAIL_OK else 404 if username in LIST_OK else 403
    assert response.status_code == expected, username


def test_meeting_detail_body(world, meeting):
    body = api_client(world["manager1"]).get(f"/api/v1/meetings/{meeting.pk}/").json()
    assert body["topic"] == "市场解盘"
    assert body["state"] == "planned"
    assert body["invited_count"] == 2
    assert body["speakers"] == [{"id": world["researcher1"].pk, "name": str(world["researcher1"])}]
    assert body["ics_url"].endswith(f"/meetings/{meeting.pk}/meeting.ics")
    invitations = api_client(world["manager1"]).get(f"/api/v1/meetings/{meeting.pk}/invitations/").json()
    assert invitations["count"] == 2
    assert {i["client"]["name"] for i in invitations["results"]} == {"大户甲", "中户乙"}


def test_unknown_or_malformed_id_is_404(world, meeting):
    client = api_client(world["director"])
    assert client.get("/api/v1/meetings/999999/").status_code == 404
    assert client.get("/api/v1/meetings/abc/").status_code == 404


def test_create_meeting(world):
    ClientFactory(branch=world.b1, manager=world["manager1"], tier="large")
    starts = timezone.now() + dt.timedelta(days=3)
    response = api_client(world["director"]).post(
        "/api/v1/meetings/",
        {"topic": "年末展望", "starts_at": starts.isoformat(), "speakers": [world["researcher1"].pk]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["invited_count"] == 1 and body["branch"] == world.b1.pk


def test_create_meeting_refusals_write_nothing(world):
    starts = (timezone.now() + dt.timedelta(days=3)).isoformat()
    # a researcher may not plan
    assert (
        api_client(world["researcher1"]).post("/api/v1/meetings/", {"topic": "x"}, format="json").status_code
        == 403
    )
    # another branch
    response = api_client(world["b2director"]).post(
        "/api/v1/meetings/", {"topic": "x", "branch": world.b1.pk, "starts_at": starts}, format="json"
    )
    assert response.status_code == 404
    # a manager is not a speaker
    response = api_client(world["director"]).post(
        "/api/v1/meetings/",
        {"topic": "x", "starts_at": starts, "speakers": [world["manager1"].pk]},
        format="json",
    )
    assert response.status_code == 400 and "speakers" in response.json()
    assert not ExchangeMeeting.objects.exists()


def test_add_invitation(world, meeting):
    small = ClientFactory(branch=world.b1, manager=world["manager1"], tier="small")
    url = f"/api/v1/meetings/{meeting.pk}/invitations/"
    response = api_client(world["manager1"]).post(url, {"client": small.pk}, format="json")
    assert response.status_code == 201
    assert response.json()["client"]["id"] == small.pk
    again = api_client(world["manager1"]).post(url, {"client": small.pk}, format="json")
    assert again.status_code == 400
    other = api_client(world["manager1"]).post(url, {"client": world.client_b2.pk}, format="json")
    assert other.status_code == 400
    assert api_client(world["b2director"]).post(url, {"client": small.pk}, format="json").status_code == 404
    assert MeetingInvitation.objects.filter(meeting=meeting).count() == 3


# --- dashboard API ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ROLES)
def test_dashboard_api_permissions(world, username):
    response = api_client(world[username]).get("/api/v1/onsite/dashboard/")
    assert response.status_code == (200 if username in ("director", "b2director") else 403)


def test_dashboard_api_figures(world):
    m1 = world["manager1"]
    today = timezone.localdate()
    plan = VisitPlan.objects.create(branch=world.b1, manager=m1, date=today, visits_quota=2, patrols_quota=0)
    item = VisitPlanItem.objects.create(plan=plan, client=world.client_m1, rank=1, status="done")
    VisitPlanItem.objects.create(plan=plan, client=world.client_m2, rank=2)
    Visit.objects.create(
        branch=world.b1, manager=m1, client=world.client_m1, at=timezone.now(), topic="t", plan_item=item
    )
    body = api_client(world["director"]).get("/api/v1/onsite/dashboard/").json()
    assert body["branch"]["code"] == "B001"
    row = next(r for r in body["managers"] if r["manager_id"] == m1.pk)
    assert row["today"]["visits_planned"] == 2 and row["today"]["visits_done"] == 1
    assert row["month"]["visits_done"] == 1
    assert row["today"]["ontime_rate"] is None
    assert (
        api_client(world["b2director"]).get(f"/api/v1/onsite/dashboard/?branch={world.b1.pk}").status_code
        == 404
    )
