"""客户交流会: scheduling from the service standard, the invitation list, RSVP, attendance, minutes,
cancellation, the weekly job, the .ics file, attendance rates, the timeline/workbench hooks and the
pages' permission matrix."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from branchcare.clients.models import Client
from branchcare.core import timeline, workbench
from branchcare.core.errors import DomainError
from branchcare.core.models import AuditLog, Notification
from branchcare.onsite import services_meetings as services
from branchcare.onsite.models import ExchangeMeeting, MeetingInvitation
from branchcare.onsite.selectors_meetings import attendance_rates, meeting_list
from branchcare.onsite.tasks_meetings import schedule_upcoming_meetings
from branchcare.org.calendar import is_trading_day
from branchcare.org.models import ServiceStandard
from branchcare.testing.factories import ClientFactory

TZ = ZoneInfo("Asia/Shanghai")
MON = dt.datetime(2026, 11, 23, 9, 0, tzinfo=TZ)


def at(y, m, d, h=0, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=TZ)


@pytest.fixture
def tiers(world):
    """Clients of every tier in B001 (+ a dormant large one) and a large client in B002."""
    return {
        "large": ClientFactory(branch=world.b1, manager=world["manager1"], tier="large", name="大户甲"),
        "medium": ClientFactory(branch=world.b1, manager=world["manager2"], tier="medium", name="中户乙"),
        "small": ClientFactory(branch=world.b1, manager=world["manager1"], tier="small", name="小户丙"),
        "dormant": ClientFactory(
            branch=world.b1, manager=world["manager1"], tier="large", status=Client.Status.DORMANT
        ),
        "b2large": ClientFactory(branch=world.b2, manager=world["b2manager1"], tier="large"),
    }


def _meeting(world, *, starts_at=None, invite=True, guests=(), speakers=None, now=None):
    return services.meeting_schedule(
        actor=world["director"],
        branch=world.b1,
        topic="市场解盘",
        starts_at=starts_at,
        location="三楼多功能厅",
        speakers=[world["researcher1"]] if speakers is None else speakers,
        guest_speakers=guests,
        invite=invite,
        now=now or MON,
    )


# --- scheduling from the standard ------------------------------------------------------------------------


def test_next_start_uses_default_standard_friday_1530(world):
    assert services.meeting_next_start(world.b1, after=MON) == at(2026, 11, 27, 15, 30)
    # after this week's meeting has started: next week's
    assert services.meeting_next_start(world.b1, after=at(2026, 11, 27, 15, 30)) == at(2026, 12, 4, 15, 30)


def test_next_start_follows_the_standard_version_in_force(world):
    ServiceStandard.objects.create(
        branch=world.b1, effective_from=dt.date(2026, 1, 1), meeting_weekday=1, meeting_time=dt.time(14, 0)
    )
    ServiceStandard.objects.create(
        branch=world.b1, effective_from=dt.date(2026, 12, 1), meeting_weekday=3, meeting_time=dt.time(9, 30)
    )
    assert services.meeting_next_start(world.b1, after=MON) == at(2026, 11, 24, 14, 0)  # Tuesday
    assert services.meeting_next_start(world.b1, after=at(2026, 11, 25)) == at(2026, 12, 3, 9, 30)  # Thursday


def test_next_start_skips_an_exchange_holiday(world):
    ServiceStandard.objects.create(
        branch=world.b1, effective_from=dt.date(2026, 1, 1), meeting_weekday=3, meeting_time=dt.time(15, 0)
    )
    assert not is_trading_day(dt.date(2026, 10, 1))  # 国庆节
    found = services.meeting_next_start(world.b1, after=at(2026, 9, 28))
    assert found.weekday() == 3 and found.date() > dt.date(2026, 10, 1)
    assert is_trading_day(found.date())


def test_schedule_defaults_to_next_occurrence_and_audits(world, tiers):
    meeting = _meeting(world)
    assert meeting.starts_at == at(2026, 11, 27, 15, 30)
    assert list(meeting.speakers.all()) == [world["researcher1"]]
    assert AuditLog.objects.filter(action="meeting.schedule", object_id=str(meeting.pk)).exists()
    assert AuditLog.objects.filter(action="meeting.invitations_generate", object_id=str(meeting.pk)).exists()


# --- invitation list -------------------------------------------------------------------------------------


def test_invitation_list_is_large_and_medium_active_clients_of_the_branch(world, tiers):
    meeting = _meeting(world)
    invited = set(meeting.invitations.values_list("client_id", flat=True))
    assert invited == {tiers["large"].pk, tiers["medium"].pk}


def test_invitation_list_follows_the_standard_tiers(world, tiers):
    ServiceStandard.objects.create(
        branch=world.b1, effective_from=dt.date(2026, 1, 1), meeting_tiers=["large"]
    )
    meeting = _meeting(world)
    assert set(meeting.invitations.values_list("client_id", flat=True)) == {tiers["large"].pk}


def test_guest_speakers_are_invited_and_generation_is_idempotent(world, tiers):
    meeting = _meeting(world, guests=[tiers["small"]])
    assert set(meeting.invitations.values_list("client_id", flat=True)) == {
        tiers["large"].pk,
        tiers["medium"].pk,
        tiers["small"].pk,
    }
    assert services.invitations_generate(actor=world["director"], meeting=meeting) == 0
    assert meeting.invitations.count() == 3


def test_schedule_refuses_other_branch_guest_and_non_speaker_with_nothing_written(world, tiers):
    with pytest.raises(DomainError):
        _meeting(world, guests=[tiers["b2large"]])
    with pytest.raises(DomainError):
        _meeting(world, speakers=[world["manager1"]])
    with pytest.raises(DomainError):
        _meeting(world, starts_at=MON - dt.timedelta(hours=1))
    assert ExchangeMeeting.objects.count() == 0
    assert MeetingInvitation.objects.count() == 0


def test_invitation_add_and_remove(world, tiers):
    meeting = _meeting(world)
    inv = services.invitation_add(actor=world["manager1"], meeting=meeting, client=tiers["small"])
    assert inv.client == tiers["small"]
    with pytest.raises(DomainError):
        services.invitation_add(actor=world["manager1"], meeting=meeting, client=tiers["small"])
    with pytest.raises(DomainError):
        services.invitation_add(actor=world["manager1"], meeting=meeting, client=tiers["b2large"])
    services.invitation_remove(actor=world["manager1"], meeting=meeting, invitation=inv)
    assert not meeting.invitations.filter(client=tiers["small"]).exists()
    assert AuditLog.objects.filter(action="meeting.invitation_remove").count() == 1


def test_guest_speaker_cannot_be_removed_and_held_meeting_list_is_frozen(world, tiers):
    meeting = _meeting(world, guests=[tiers["small"]])
    guest_inv = meeting.invitations.get(client=tiers["small"])
    with pytest.raises(DomainError):
        services.invitation_remove(actor=world["director"], meeting=meeting, invitation=guest_inv)
    services.attendance_record(
        actor=world["director"], meeting=meeting, attended_client_ids=[], now=meeting.starts_at
    )
    other = meeting.invitations.get(client=tiers["large"])
    with pytest.raises(DomainError):
        services.invitation_remove(actor=world["director"], meeting=meeting, invitation=other)
    assert meeting.invitations.count() == 3


# --- RSVP, attendance, minutes, cancel ------------------------------------------------------------------


def test_rsvp_set(world, tiers):
    meeting = _meeting(world)
    inv = meeting.invitations.get(client=tiers["large"])
    services.rsvp_set(actor=world["manager1"], invitation=inv, rsvp="yes")
    inv.refresh_from_db()
    assert inv.rsvp == "yes"
    with pytest.raises(DomainError):
        services.rsvp_set(actor=world["manager1"], invitation=inv, rsvp="maybe")
    inv.refresh_from_db()
    assert inv.rsvp == "yes"
    assert AuditLog.objects.filter(action="meeting.rsvp").count() == 1


def test_attendance_record_before_start_refused_then_bulk_recorded(world, tiers):
    meeting = _meeting(world)
    with pytest.raises(DomainError):
        services.attendance_record(
            actor=world["director"], meeting=meeting, attended_client_ids=[tiers["large"].pk], now=MON
        )
    assert not meeting.invitations.filter(attended__isnull=False).exists()
    meeting.refresh_from_db()
    assert meeting.state == "planned"

    after = meeting.starts_at + dt.timedelta(hours=2)
    with pytest.raises(DomainError):  # not invited
        services.attendance_record(
            actor=world["director"], meeting=meeting, attended_client_ids=[tiers["small"].pk], now=after
        )
    n = services.attendance_record(
        actor=world["director"], meeting=meeting, attended_client_ids=[tiers["large"].pk], now=after
    )
    assert n == 1
    flags = dict(meeting.invitations.values_list("client_id", "attended"))
    assert flags == {tiers["large"].pk: True, tiers["medium"].pk: False}
    meeting.refresh_from_db()
    assert meeting.state == "held"


def test_minutes_and_cancel(world, tiers):
    meeting = _meeting(world)
    services.minutes_save(actor=world["director"], meeting=meeting, minutes="大盘震荡，关注银行板块。")
    meeting.refresh_from_db()
    assert meeting.minutes.startswith("大盘震荡")
    with pytest.raises(DomainError):
        services.meeting_cancel(actor=world["director"], meeting=meeting, reason="")
    services.meeting_cancel(actor=world["director"], meeting=meeting, reason="台风停课")
    meeting.refresh_from_db()
    assert meeting.state == "cancelled"
    recipients = set(Notification.objects.values_list("recipient__username", flat=True))
    assert recipients == {"manager1", "manager2"}
    with pytest.raises(DomainError):
        services.meeting_cancel(actor=world["director"], meeting=meeting, reason="再次取消")


# --- the weekly job --------------------------------------------------------------------------------------


def test_weekly_job_creates_next_meeting_once_and_notifies_managers(world, tiers, monkeypatch):
    saturday = at(2026, 11, 21, 8, 5)
    monkeypatch.setattr(timezone, "now", lambda: saturday)
    assert schedule_upcoming_meetings() == 2  # B001 and B002
    assert schedule_upcoming_meetings() == 0  # idempotent
    meeting = ExchangeMeeting.objects.get(branch=world.b1)
    assert meeting.starts_at == at(2026, 11, 27, 15, 30)
    assert list(meeting.speakers.all()) == [world["researcher1"]]
    assert set(meeting.invitations.values_list("client_id", flat=True)) == {
        tiers["large"].pk,
        tiers["medium"].pk,
    }
    notified = dict(
        Notification.objects.filter(title__startswith="交流会邀请").values_list("recipient__username", "body")
    )
    assert set(notified) == {"manager1", "manager2", "b2manager1"}
    assert "1 位客户" in notified["manager1"]


def test_weekly_job_does_not_recreate_a_cancelled_meeting(world, tiers, monkeypatch):
    meeting = _meeting(world)
    services.meeting_cancel(actor=world["director"], meeting=meeting, reason="场地维修")
    assert services.meeting_ensure_upcoming(branch=world.b1, now=MON) is None
    assert ExchangeMeeting.objects.filter(branch=world.b1).count() == 1


# --- .ics ------------------------------------------------------------------------------------------------


def test_ics_content(world, tiers):
    meeting = _meeting(world)
    meeting.location = "三楼多功能厅, A区"
    text = services.meeting_ics(meeting, host="example.cn", now=MON)
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and "END:VCALENDAR" in lines
    assert f"UID:meeting-{meeting.pk}@example.cn" in lines
    assert "DTSTART;TZID=Asia/Shanghai:20261127T153000" in lines
    assert "DTEND;TZID=Asia/Shanghai:20261127T170000" in lines
    assert "DTSTAMP:20261123T010000Z" in lines
    assert "LOCATION:三楼多功能厅\\, A区" in lines
    unfolded = text.replace("\r\n ", "")
    assert "SUMMARY:客户交流会：市场解盘" in unfolded
    assert all(len(line.encode()) <= 75 for line in lines)


def test_ics_folds_long_lines_without_splitting_characters(world, tiers):
    meeting = _meeting(world)
    meeting.topic = "长" * 60
    text = services.meeting_ics(meeting, now=MON)
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert "长" * 60 in text.replace("\r\n ", "")


# --- attendance rates, timeline, workbench ---------------------------------------------------------------


def test_attendance_rate_per_client(world, tiers):
    large, medium, small = tiers["large"], tiers["medium"], tiers["small"]
    m1 = _meeting(world, starts_at=at(2026, 11, 6, 15, 30), now=at(2026, 11, 1))
    m2 = _meeting(world, starts_at=at(2026, 11, 13, 15, 30), now=at(2026, 11, 1), guests=[small])
    _meeting(world, starts_at=at(2026, 11, 27, 15, 30))  # planned: does not count
    services.attendance_record(
        actor=world["director"], meeting=m1, attended_client_ids=[large.pk, medium.pk], now=MON
    )
    services.attendance_record(actor=world["director"], meeting=m2, attended_client_ids=[large.pk], now=MON)
    rows = {r.client_id: r for r in attendance_rates(branch=world.b1)}
    assert (rows[large.pk].invited, rows[large.pk].attended, rows[large.pk].rate) == (2, 2, 1.0)
    assert (rows[medium.pk].invited, rows[medium.pk].attended, rows[medium.pk].rate) == (2, 1, 0.5)
    assert (rows[small.pk].invited, rows[small.pk].attended, rows[small.pk].rate) == (1, 0, 0.0)
    assert rows[medium.pk].rate_pct == "50.00%"
    # the window: only the second meeting
    recent = {r.client_id: r for r in attendance_rates(branch=world.b1, since=at(2026, 11, 10))}
    assert (recent[medium.pk].invited, recent[medium.pk].attended) == (1, 0)
    # lowest rate first
    assert attendance_rates(branch=world.b1)[0].client_id == small.pk


def test_timeline_shows_meetings_invited_and_attended(world, tiers):
    large = tiers["large"]
    m1 = _meeting(world, starts_at=at(2026, 11, 6, 15, 30), now=at(2026, 11, 1))
    _meeting(world, starts_at=at(2026, 11, 27, 15, 30))
    services.attendance_record(actor=world["director"], meeting=m1, attended_client_ids=[large.pk], now=MON)
    events = [
        e
        for e in timeline.events_for_client(
            client=large, viewer=world["manager1"], start=at(2026, 10, 1), end=at(2026, 12, 31)
        )
        if e.kind == "meeting"
    ]
    assert [e.title for e in events] == ["受邀参加客户交流会：市场解盘", "出席客户交流会：市场解盘"]


def test_director_workbench_card_shows_next_meeting_rsvps(world, tiers):
    meeting = _meeting(world, starts_at=timezone.now() + dt.timedelta(days=2), now=timezone.now())
    inv = meeting.invitations.get(client=tiers["large"])
    services.rsvp_set(actor=world["manager1"], invitation=inv, rsvp="yes")
    cards = [c for c in workbench.cards_for(world["director"]) if c.title == "下一场客户交流会"]
    assert len(cards) == 1
    assert {label: value for label, value, _u in cards[0].rows} == {
        "受邀": "2",
        "参加": "1",
        "不参加": "0",
        "未回复": "1",
    }
    assert not [c for c in workbench.cards_for(world["manager1"]) if c.title == "下一场客户交流会"]


# --- pages -----------------------------------------------------------------------------------------------

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
MANAGE = {"director", "manager1"}
VIEW_ANY = {"director", "manager1", "consultant1", "researcher1", "b2manager1", "b2director"}


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _upload(name="议程.pdf", content=PDF_BYTES, content_type="application/pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def page_meeting(world, tiers):
    now = timezone.now()
    meeting = _meeting(world, starts_at=now + dt.timedelta(days=2), now=now)
    services.material_add(actor=world["director"], meeting=meeting, upload=_upload())
    return meeting


def _cases(meeting):
    inv = meeting.invitations.first()
    material = meeting.materials.first()
    pk = meeting.pk
    return {
        # key: (method, url, data, allowed roles (others 403 or 404))
        "meetings": ("get", reverse("onsite:meetings"), None, VIEW_ANY),
        "meeting_new": ("get", reverse("onsite:meeting_new"), None, MANAGE | {"b2manager1", "b2director"}),
        "meeting_detail": (
            "get",
            reverse("onsite:meeting_detail", args=[pk]),
            None,
            MANAGE | {"researcher1"},
        ),
        "meeting_ics": ("get", reverse("onsite:meeting_ics", args=[pk]), None, MANAGE | {"researcher1"}),
        "meeting_invitations": (
            "post",
            reverse("onsite:meeting_invitations", args=[pk]),
            {"action": "generate"},
            MANAGE,
        ),
        "meeting_rsvp": ("post", reverse("onsite:meeting_rsvp", args=[pk, inv.pk]), {"rsvp": "yes"}, MANAGE),
        "meeting_attendance": ("post", reverse("onsite:meeting_attendance", args=[pk]), {}, MANAGE),
        "meeting_minutes": ("post", reverse("onsite:meeting_minutes", args=[pk]), {"minutes": "x"}, MANAGE),
        "meeting_cancel": ("post", reverse("onsite:meeting_cancel", args=[pk]), {"reason": "x"}, MANAGE),
        "meeting_material_upload": (
            "post",
            reverse("onsite:meeting_material_upload", args=[pk]),
            {"file": _upload()},
            MANAGE,
        ),
        "meeting_material_download": (
            "get",
            reverse("onsite:meeting_material_download", args=[pk, material.pk]),
            None,
            MANAGE | {"researcher1"},
        ),
        "meeting_material_delete": (
            "post",
            reverse("onsite:meeting_material_delete", args=[pk, material.pk]),
            {},
            MANAGE,
        ),
    }


CASE_KEYS = [
    "meetings",
    "meeting_new",
    "meeting_detail",
    "meeting_ics",
    "meeting_invitations",
    "meeting_rsvp",
    "meeting_attendance",
    "meeting_minutes",
    "meeting_cancel",
    "meeting_material_upload",
    "meeting_material_download",
    "meeting_material_delete",
]


@pytest.mark.parametrize("username", ROLES)
@pytest.mark.parametrize("key", CASE_KEYS)
def test_meeting_pages_permission_matrix(world, client, page_meeting, key, username):
    method, url, data, allowed = _cases(page_meeting)[key]
    client.force_login(world[username])
    response = getattr(client, method)(url, data or {})
    may_view = username in VIEW_ANY
    may_manage = username in {"director", "manager1", "b2manager1", "b2director"}
    if username in allowed:
        assert response.status_code in (200, 302), f"{username} {key}"
    elif key in ("meeting_detail", "meeting_ics", "meeting_material_download") and may_view:
        assert response.status_code == 404, f"{username} {key}"  # another branch / not a speaker
    elif method == "post" and may_manage:
        assert response.status_code == 404, f"{username} {key}"  # another branch
    else:
        assert response.status_code == 403, f"{username} {key}"


@pytest.mark.parametrize("key", CASE_KEYS)
def test_meeting_pages_need_login(world, client, page_meeting, key):
    method, url, data, _allowed = _cases(page_meeting)[key]
    response = getattr(client, method)(url, data or {})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_researcher_sees_only_meetings_they_speak_at(world, tiers):
    now = timezone.now()
    spoken = _meeting(world, starts_at=now + dt.timedelta(days=2), now=now)
    _meeting(world, starts_at=now + dt.timedelta(days=9), now=now, speakers=[])
    assert list(meeting_list(viewer=world["researcher1"])) == [spoken]
    assert meeting_list(viewer=world["manager1"]).count() == 2
    assert meeting_list(viewer=world["b2director"]).count() == 0


def test_new_meeting_page_creates_meeting_with_invitations(world, tiers, login):
    client = login("director")
    page = client.get(reverse("onsite:meeting_new"))
    assert page.status_code == 200
    assert "2026" in page.content.decode() or page.context["form"].initial["starts_at"]
    starts = timezone.localtime(timezone.now() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    response = client.post(
        reverse("onsite:meeting_new"),
        {
            "branch": world.b1.pk,
            "topic": "年末行情展望",
            "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 90,
            "location": "三楼",
            "speakers": [world["researcher1"].pk],
            "guest_speakers": tiers["small"].client_no,
            "invite": "on",
        },
    )
    meeting = ExchangeMeeting.objects.get(topic="年末行情展望")
    assert response.status_code == 302 and response["Location"].endswith(f"/meetings/{meeting.pk}/")
    assert meeting.invitations.count() == 3
    assert list(meeting.guest_speakers.all()) == [tiers["small"]]


def test_new_meeting_page_shows_error_for_unknown_guest(world, tiers, login):
    client = login("director")
    starts = timezone.localtime(timezone.now() + dt.timedelta(days=3))
    response = client.post(
        reverse("onsite:meeting_new"),
        {
            "branch": world.b1.pk,
            "topic": "年末行情展望",
            "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 90,
            "location": "三楼",
            "guest_speakers": "99999999",
        },
    )
    assert response.status_code == 200
    assert "本营业部没有客户号 99999999" in response.content.decode()
    assert not ExchangeMeeting.objects.exists()


def test_htmx_invitation_add_remove_and_rsvp(world, tiers, page_meeting, login):
    client = login("manager1")
    url = reverse("onsite:meeting_invitations", args=[page_meeting.pk])
    response = client.post(
        url, {"action": "add", "client_no": tiers["small"].client_no}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="invitations"' in body and "<html" not in body and tiers["small"].name in body
    inv = page_meeting.invitations.get(client=tiers["small"])

    response = client.post(
        reverse("onsite:meeting_rsvp", args=[page_meeting.pk, inv.pk]),
        {"rsvp": "yes"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    inv.refresh_from_db()
    assert inv.rsvp == "yes"

    response = client.post(
        url, {"action": "add", "client_no": tiers["b2large"].client_no}, HTTP_HX_REQUEST="true"
    )
    assert "本营业部没有客户号" in response.content.decode()
    assert not page_meeting.invitations.filter(client=tiers["b2large"]).exists()

    response = client.post(url, {"action": "remove", "invitation": inv.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert not page_meeting.invitations.filter(pk=inv.pk).exists()


def test_attendance_and_minutes_pages(world, tiers, login):
    now = timezone.now()
    meeting = _meeting(world, starts_at=now + dt.timedelta(minutes=30), now=now)
    ExchangeMeeting.objects.filter(pk=meeting.pk).update(starts_at=now - dt.timedelta(hours=1))
    client = login("director")
    response = client.post(
        reverse("onsite:meeting_attendance", args=[meeting.pk]), {"attended": [tiers["medium"].pk]}
    )
    assert response.status_code == 302
    assert list(meeting.invitations.filter(attended=True).values_list("client_id", flat=True)) == [
        tiers["medium"].pk
    ]
    client.post(reverse("onsite:meeting_minutes", args=[meeting.pk]), {"minutes": "纪要内容"})
    meeting.refresh_from_db()
    assert meeting.state == "held" and meeting.minutes == "纪要内容"
    page = client.get(reverse("onsite:meetings"))
    assert "50.00%" in page.content.decode()  # 1 of 2 invited attended


def test_ics_download(world, tiers, page_meeting, login):
    response = login("researcher1").get(reverse("onsite:meeting_ics", args=[page_meeting.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT\r\n" in response.content
    assert "attachment" in response["Content-Disposition"]


def test_meeting_list_query_count_is_bounded(world, tiers, login, django_assert_max_num_queries):
    now = timezone.now()
    for days in range(1, 6):
        _meeting(world, starts_at=now + dt.timedelta(days=days), now=now)
    client = login("director")
    client.get(reverse("onsite:meetings"))  # warm caches
    with django_assert_max_num_queries(14):
        assert client.get(reverse("onsite:meetings")).status_code == 200


# --- materials ---------------------------------------------------------------------------------------------


def test_material_upload_download_and_delete(world, tiers, page_meeting, login):
    client = login("manager1")
    url = reverse("onsite:meeting_material_upload", args=[page_meeting.pk])
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    client.post(url, {"file": _upload("走势图.png", png, "image/png")})
    material = page_meeting.materials.get(original_name="走势图.png")
    assert material.content_type == "image/png" and material.size == len(png)
    page = client.get(reverse("onsite:meeting_detail", args=[page_meeting.pk])).content.decode()
    assert "走势图.png" in page and "议程.pdf" in page
    download = client.get(reverse("onsite:meeting_material_download", args=[page_meeting.pk, material.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == png
    assert download["Content-Type"] == "image/png"
    client.post(reverse("onsite:meeting_material_delete", args=[page_meeting.pk, material.pk]))
    assert not page_meeting.materials.filter(pk=material.pk).exists()
    assert AuditLog.objects.filter(action="meeting.material_delete").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("议程.pdf", b"\x89PNG\r\n\x1a\n0000", "不是 PDF"),  # extension says PDF, content is an image
        ("图.png", b"%PDF-1.4 xxxx", "不是 PNG"),
        ("脚本.exe", b"MZ\x90\x00", "只能是 PDF、Office 文档或图片"),
        ("空.pdf", b"", "空文件"),
        ("表.xlsx", b"PK\x03\x04not really a zip", "已损坏"),
        ("旧.doc", b"%PDF-1.4", "不是 Office 文档"),
    ],
)
def test_material_type_checked_by_content(world, tiers, name, content, message):
    meeting = _meeting(world)
    before = AuditLog.objects.count()
    with pytest.raises(DomainError, match=message):
        services.material_add(actor=world["director"], meeting=meeting, upload=_upload(name, content, "x/y"))
    assert not meeting.materials.exists() and AuditLog.objects.count() == before


def test_material_size_limit(world, tiers, settings):
    settings.BRANCHCARE = {**settings.BRANCHCARE, "MEETING_MATERIAL_MAX_MB": 1}
    meeting = _meeting(world)
    big = PDF_BYTES + b"0" * (1024 * 1024)
    with pytest.raises(DomainError, match="不能超过 1 MB"):
        services.material_add(actor=world["director"], meeting=meeting, upload=_upload("大.pdf", big))
    assert not meeting.materials.exists()


def test_material_of_cancelled_meeting_refused(world, tiers):
    meeting = _meeting(world)
    services.meeting_cancel(actor=world["director"], meeting=meeting, reason="台风")
    meeting.refresh_from_db()
    with pytest.raises(DomainError, match="已取消"):
        services.material_add(actor=world["director"], meeting=meeting, upload=_upload())


def test_office_document_accepted(world, tiers):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("ppt/presentation.xml", "<p/>")
    meeting = _meeting(world)
    material = services.material_add(
        actor=world["director"], meeting=meeting, upload=_upload("路演.pptx", buffer.getvalue())
    )
    assert material.content_type.endswith("presentationml.presentation")
