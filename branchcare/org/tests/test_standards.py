"""Service standards: versioning, validation, audit; the 服务标准 and 交易日历 pages (wiring and the
role × URL matrix) and the read-only API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse
from django.utils import timezone

from branchcare.api.testing import api_client
from branchcare.core.errors import DomainError
from branchcare.core.models import AuditLog
from branchcare.org.apis_standards import ServiceStandardViewSet, TradingCalendarView
from branchcare.org.calendar import library_days, library_range, standard_for
from branchcare.org.models import CalendarCoverage, CalendarOverride, ServiceStandard
from branchcare.org.services_standards import service_standard_save

D = dt.date
TODAY = D(2026, 11, 25)

# The API routes are wired in branchcare/api/urls.py by the lead; until then the API tests run against
# this module's URLconf (the project's URLs plus the two routes; the first match wins either way).
urlpatterns = [
    path("api/v1/service-standards/", ServiceStandardViewSet.as_view({"get": "list"})),
    path("api/v1/trading-calendar/", TradingCalendarView.as_view()),
    path("", include("config.urls")),
]


def save(world, *, actor="director", branch=None, when, today=TODAY, **data):
    return service_standard_save(
        actor=world[actor], branch=branch or world.b1, data=data, effective_from=when, today=today
    )


# --- reading ---------------------------------------------------------------------------------------------


def test_standard_for_gives_the_defaults_when_none_is_set(world):
    standard = standard_for(world.b1, TODAY)

    assert standard.pk is None
    assert (standard.visits_per_day, standard.patrols_per_day) == (8, 2)
    assert standard.contact_interval_days("large") == 7
    assert standard.contact_interval_days("medium") == 14
    assert standard.contact_interval_days("small") == 30
    assert standard.consultation_deadline_hours == Decimal("4")
    assert standard.service_hours == [["09:30", "11:30"], ["13:00", "15:00"]]
    assert standard.windows == ((dt.time(9, 30), dt.time(11, 30)), (dt.time(13, 0), dt.time(15, 0)))
    assert (standard.meeting_weekday, standard.meeting_time) == (4, dt.time(15, 30))
    assert standard.meeting_tiers == ["large", "medium"]
    assert standard.holding_drop_alert_pct == Decimal("10")


def test_standard_for_picks_the_version_in_force_on_the_date(world):
    save(world, when=D(2026, 11, 30), visits_per_day=10)
    save(world, when=D(2026, 12, 14), visits_per_day=12)
    save(world, actor="b2director", branch=world.b2, when=D(2026, 11, 26), visits_per_day=5)

    assert standard_for(world.b1, D(2026, 11, 29)).pk is None
    assert standard_for(world.b1, D(2026, 11, 30)).visits_per_day == 10
    assert standard_for(world.b1, D(2026, 12, 13)).visits_per_day == 10
    assert standard_for(world.b1, D(2026, 12, 14)).visits_per_day == 12
    assert standard_for(world.b1, D(2027, 6, 1)).visits_per_day == 12
    assert standard_for(world.b2, D(2026, 12, 14)).visits_per_day == 5


# --- versioning ------------------------------------------------------------------------------------------


def test_a_new_version_carries_over_the_fields_not_given_and_is_audited(world):
    first = save(world, when=D(2026, 11, 30), visits_per_day=10, contact_interval_large_days=5)
    second = save(world, when=D(2026, 12, 14), patrols_per_day=3, note="年底加强巡视")

    assert second.pk != first.pk
    assert (second.visits_per_day, second.contact_interval_large_days, second.patrols_per_day) == (10, 5, 3)
    assert second.created_by == world["director"]
    log = AuditLog.objects.filter(action="service_standard.create", object_id=str(second.pk)).get()
    assert log.branch_id == world.b1.pk
    assert log.changes["effective_from"] == [None, "2026-12-14"]
    assert log.changes["patrols_per_day"] == [2, 3]
    assert "visits_per_day" not in log.changes


def test_a_future_version_is_edited_in_place(world):
    version = save(world, when=D(2026, 12, 14), visits_per_day=10)

    edited = save(world, when=D(2026, 12, 14), visits_per_day=11, today=D(2026, 12, 1))

    assert edited.pk == version.pk
    assert ServiceStandard.objects.filter(branch=world.b1).count() == 1
    assert ServiceStandard.objects.get().visits_per_day == 11
    log = AuditLog.objects.get(action="service_standard.update")
    assert log.changes == {"visits_per_day": [10, 11]}


def test_a_version_in_force_is_never_changed(world):
    version = save(world, when=D(2026, 11, 30), visits_per_day=10)

    with pytest.raises(DomainError, match="已经生效，不能修改") as exc:
        save(world, when=D(2026, 11, 30), visits_per_day=20, today=D(2026, 11, 30))

    assert exc.value.field == "effective_from"
    version.refresh_from_db()
    assert version.visits_per_day == 10
    assert not AuditLog.objects.filter(action="service_standard.update").exists()


def test_a_version_cannot_start_in_the_past(world):
    with pytest.raises(DomainError, match="生效日期不能早于今天") as exc:
        save(world, when=D(2026, 11, 24), visits_per_day=10)

    assert exc.value.field == "effective_from"
    assert not ServiceStandard.objects.exists()


def test_a_version_may_start_today(world):
    version = save(world, when=TODAY, visits_per_day=9)

    assert standard_for(world.b1, TODAY) == version


def test_a_version_equal_to_the_one_in_force_is_refused(world):
    save(world, when=D(2026, 11, 30), visits_per_day=10)

    with pytest.raises(DomainError, match="无需新建版本"):
        save(world, when=D(2026, 12, 14), visits_per_day=10, note="只改说明")
    assert ServiceStandard.objects.count() == 1


def test_a_director_saves_only_for_their_own_branch(world):
    with pytest.raises(DomainError, match="只能设置您管理的营业部") as exc:
        save(world, actor="b2director", branch=world.b1, when=D(2026, 12, 14), visits_per_day=10)

    assert exc.value.field == "branch"
    assert not ServiceStandard.objects.exists()
    assert not AuditLog.objects.filter(action__startswith="service_standard.").exists()


@pytest.mark.parametrize("username", ["manager1", "consultant1", "compliance1"])
def test_staff_without_org_configure_cannot_save(world, username):
    with pytest.raises(DomainError):
        save(world, actor=username, when=D(2026, 12, 14), visits_per_day=10)
    assert not ServiceStandard.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"visits_per_day": 0}, "visits_per_day", "1 到 50 之间的整数"),
        ({"visits_per_day": "八"}, "visits_per_day", "1 到 50 之间的整数"),
        ({"patrols_per_day": -1}, "patrols_per_day", "1 到 20 之间的整数"),
        ({"contact_interval_small_days": 400}, "contact_interval_small_days", "小户最长联系间隔须是"),
        ({"contact_interval_large_days": 20}, "contact_interval_large_days", "大户的联系间隔不能长于中户"),
        ({"contact_interval_medium_days": 40}, "contact_interval_medium_days", "中户的联系间隔不能长于小户"),
        ({"consultation_deadline_hours": 0}, "consultation_deadline_hours", "须大于 0"),
        ({"consultation_deadline_hours": "1.234"}, "consultation_deadline_hours", "最多两位小数"),
        ({"service_hours": []}, "service_hours", "请至少设置一个服务时段"),
        ({"service_hours": [["9:30", "25:00"]]}, "service_hours", "格式不对"),
        ({"service_hours": [["11:30", "09:30"]]}, "service_hours", "结束时间须晚于开始时间"),
        ({"service_hours": [["09:30", "11:30"], ["11:00", "15:00"]]}, "service_hours", "重叠"),
        ({"service_hours": [["09:30"]]}, "service_hours", "须有开始和结束时间"),
        ({"meeting_weekday": 7}, "meeting_weekday", "星期几"),
        ({"meeting_tiers": []}, "meeting_tiers", "至少选择一个受邀的客户层级"),
        ({"meeting_tiers": ["vip"]}, "meeting_tiers", "至少选择一个受邀的客户层级"),
        ({"holding_drop_alert_pct": 150}, "holding_drop_alert_pct", "不超过 100"),
        ({"note": "长" * 201}, "note", "最多 200 字"),
    ],
)
def test_validation_messages(world, data, field, message):
    with pytest.raises(DomainError) as exc:
        save(world, when=D(2026, 12, 14), **data)

    assert exc.value.field == field
    assert message in exc.value.message
    assert not ServiceStandard.objects.exists()


def test_service_hours_are_normalised_and_sorted(world):
    version = save(
        world,
        when=D(2026, 12, 14),
        service_hours=[["13:00", "17:00"], ["9:00", "12:00"]],
        meeting_tiers=["medium", "large", "small"],
    )

    assert version.service_hours == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert version.meeting_tiers == ["large", "medium", "small"]


# --- pages -----------------------------------------------------------------------------------------------


def _form_data(branch, **overrides):
    data = {
        "branch": branch.pk,
        "effective_from": (timezone.localdate() + dt.timedelta(days=7)).isoformat(),
        "visits_per_day": "10",
        "patrols_per_day": "3",
        "contact_interval_large_days": "7",
        "contact_interval_medium_days": "14",
        "contact_interval_small_days": "30",
        "consultation_deadline_hours": "4",
        "service_hours": "09:30-11:30，13:00-15:00",
        "meeting_weekday": "4",
        "meeting_time": "15:30",
        "meeting_tiers": ["large", "medium"],
        "holding_drop_alert_pct": "10",
        "note": "",
    }
    return {**data, **overrides}


def _future_weekday(after: dt.date | None = None) -> dt.date:
    """A weekday after today (or ``after``) that is a trading day as far as the library knows (or past
    its range), so that a holiday may be entered on it."""
    day = (after or timezone.localdate()) + dt.timedelta(days=3)
    last = library_range()[1]
    while day.weekday() >= 5 or (day <= last and day not in library_days()):
        day += dt.timedelta(days=1)
    return day


def test_director_creates_a_version_from_the_page(world, login):
    client = login("director")

    response = client.post(reverse("standards:standards"), _form_data(world.b1))

    assert response.status_code == 302
    version = ServiceStandard.objects.get()
    assert (version.branch, version.visits_per_day, version.patrols_per_day) == (world.b1, 10, 3)
    assert version.service_hours == [["09:30", "11:30"], ["13:00", "15:00"]]
    page = client.get(response["Location"]).content.decode()
    assert "待生效" in page
    assert reverse("standards:standard_edit", args=[version.pk]) in page


def test_page_shows_the_service_error_next_to_the_field(world, login):
    response = login("director").post(
        reverse("standards:standards"), _form_data(world.b1, contact_interval_large_days="30")
    )

    assert response.status_code == 200
    assert "大户的联系间隔不能长于中户" in response.content.decode()
    assert 'data-field-error="contact_interval_large_days"' in response.content.decode()
    assert not ServiceStandard.objects.exists()


def test_page_refuses_a_malformed_service_hours_text(world, login):
    response = login("director").post(
        reverse("standards:standards"), _form_data(world.b1, service_hours="上午")
    )

    assert response.status_code == 200
    assert "不是一个时段" in response.content.decode()
    assert not ServiceStandard.objects.exists()


def test_b2_director_cannot_post_for_b001(world, login):
    response = login("b2director").post(reverse("standards:standards"), _form_data(world.b1))

    assert response.status_code == 404
    assert not ServiceStandard.objects.exists()


def test_standards_page_query_count_does_not_grow_with_versions(world, login):
    client = login("director")
    ServiceStandard.objects.create(
        branch=world.b1, effective_from=D(2020, 1, 1), created_by=world["director"]
    )
    client.get(reverse("standards:standards"))  # warm the calendar cache and the session
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("standards:standards")).status_code == 200
    for year in range(2021, 2026):
        ServiceStandard.objects.create(
            branch=world.b1,
            effective_from=D(year, 1, 1),
            visits_per_day=year - 2010,
            created_by=world["director"],
        )
    with CaptureQueriesContext(connection) as six:
        assert client.get(reverse("standards:standards")).status_code == 200

    assert len(six) == len(one)


def test_calendar_page_shows_60_days_and_the_overrides(world, login):
    override = CalendarOverride.objects.create(date=_future_weekday(), kind="holiday", name="测试休市")

    admin_page = login("admin").get(reverse("standards:calendar")).content.decode()

    assert admin_page.count('data-date="') == 60
    assert "测试休市" in admin_page
    assert reverse("standards:override_remove", args=[override.pk]) in admin_page
    assert "data-confirm=" in admin_page
    assert reverse("standards:override_add") in admin_page


def test_director_reads_the_calendar_without_the_admin_forms(world, login):
    CalendarOverride.objects.create(date=_future_weekday(), kind="holiday", name="测试休市")

    page = login("director").get(reverse("standards:calendar")).content.decode()

    assert "测试休市" in page
    assert reverse("standards:override_add") not in page
    assert "/remove/" not in page
    assert "由公司系统管理员统一维护" in page


def test_admin_adds_an_override_from_the_page(world, login):
    day = _future_weekday()

    response = login("admin").post(
        reverse("standards:override_add"), {"date": day.isoformat(), "kind": "holiday", "name": "测试休市"}
    )

    assert response.status_code == 302
    assert CalendarOverride.objects.get().date == day


def test_override_form_shows_the_refusal(world, login):
    saturday = timezone.localdate() + dt.timedelta(days=(5 - timezone.localdate().weekday()) % 7 or 7)

    response = login("admin").post(
        reverse("standards:override_add"),
        {"date": saturday.isoformat(), "kind": "trading_day", "name": "调休"},
    )

    assert response.status_code == 200
    assert "不能录入为交易日" in response.content.decode()
    assert not CalendarOverride.objects.exists()


# The director's pages carry a warning banner when fewer than 30 days remain; here the state of the
# calendar is set so that the warning shows whatever the real date is.
def test_warning_banner_when_the_calendar_runs_short(world, login, monkeypatch):
    from branchcare.org import views_standards

    real = views_standards.calendar_status
    monkeypatch.setattr(views_standards, "calendar_status", lambda today=None: real(D(2026, 12, 10)))

    for name in ("standards:standards", "standards:calendar"):
        page = login("director").get(reverse(name)).content.decode()
        assert "data-calendar-warning" in page, name
        assert "交易日历只剩 21 天" in page


def test_no_warning_banner_with_36_days_left(world, login, monkeypatch):
    from branchcare.org import views_standards

    real = views_standards.calendar_status
    monkeypatch.setattr(views_standards, "calendar_status", lambda today=None: real(TODAY))

    page = login("director").get(reverse("standards:standards")).content.decode()
    assert "data-calendar-warning" not in page


# --- role × URL matrix -----------------------------------------------------------------------------------

ROLES = ["admin", "director", "manager1", "consultant1", "compliance1", "b2director"]


@pytest.fixture
def objects(world):
    return {
        "b1_version": ServiceStandard.objects.create(branch=world.b1, effective_from=D(2026, 1, 1)),
        "override": CalendarOverride.objects.create(date=_future_weekday(), kind="holiday", name="矩阵"),
    }


def _request(key, world, client, objects):
    b1_version, override = objects["b1_version"], objects["override"]
    url = reverse("standards:standards")
    return {
        "standards": lambda: client.get(url),
        "standards-b1": lambda: client.get(f"{url}?branch={world.b1.pk}"),
        "standards-b2": lambda: client.get(f"{url}?branch={world.b2.pk}"),
        "standard-edit-b1": lambda: client.get(reverse("standards:standard_edit", args=[b1_version.pk])),
        "calendar": lambda: client.get(reverse("standards:calendar")),
        "override-add": lambda: client.post(
            reverse("standards:override_add"),
            {"date": _future_weekday(after=override.date).isoformat(), "kind": "holiday", "name": "矩阵"},
        ),
        "override-remove": lambda: client.post(reverse("standards:override_remove", args=[override.pk])),
        "coverage-declare": lambda: client.post(
            reverse("standards:coverage_declare"), {"known_until": library_range()[1].isoformat()}
        ),
    }[key]()


#                       admin dir  m1   cons comp b2d
MATRIX = {
    "standards":        [200, 200, 403, 403, 403, 200],
    "standards-b1":     [200, 200, 403, 403, 403, 404],
    "standards-b2":     [200, 404, 403, 403, 403, 200],
    "standard-edit-b1": [200, 200, 403, 403, 403, 404],
    "calendar":         [200, 200, 403, 403, 403, 200],
    "override-add":     [302, 403, 403, 403, 403, 403],
    "override-remove":  [302, 403, 403, 403, 403, 403],
    "coverage-declare": [302, 403, 403, 403, 403, 403],
}  # fmt: skip


@pytest.mark.parametrize(("key", "username", "expected"), [
    pytest.param(key, role, row[i], id=f"{key}-{role}") for key, row in MATRIX.items() for i, role in enumerate(ROLES)
])  # fmt: skip
def test_pages_permission_matrix(world, client, objects, key, username, expected):
    client.force_login(world[username])
    before = (CalendarOverride.objects.count(), CalendarCoverage.objects.count())

    response = _request(key, world, client, objects)

    assert response.status_code == expected, f"{username} {key}"
    if expected != 302:  # a refusal writes nothing
        assert (CalendarOverride.objects.count(), CalendarCoverage.objects.count()) == before


@pytest.mark.parametrize("key", list(MATRIX))
def test_pages_need_login(world, client, objects, key):
    response = _request(key, world, client, objects)

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_get_on_a_calendar_write_url_is_refused(world, login):
    assert login("admin").get(reverse("standards:override_add")).status_code == 405


# --- API -------------------------------------------------------------------------------------------------

API_ROLES = [
    "anonymous", "admin", "director", "manager1", "consultant1", "researcher1", "broker1", "agent1",
    "compliance1", "b2manager1", "b2director",
]  # fmt: skip
STANDARDS_API = "/api/v1/service-standards/"
CALENDAR_API = "/api/v1/trading-calendar/"
#                       anon admin dir  m1   cons res  brok agent comp b2m  b2d
API_MATRIX = {
    STANDARDS_API:          [401, 200, 200, 403, 403, 403, 403, 403, 403, 403, 200],
    f"{CALENDAR_API}?start=2026-09-28&end=2026-10-09":
                            [401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
}  # fmt: skip


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(("url", "role", "expected"), [
    pytest.param(url, role, row[i], id=f"{url}-{role}") for url, row in API_MATRIX.items() for i, role in enumerate(API_ROLES)
])  # fmt: skip
def test_api_permission_matrix(world, url, role, expected):
    response = api_client(None if role == "anonymous" else world[role]).get(url)

    assert response.status_code == expected


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    ("username", "codes"), [("admin", ["B001", "B002"]), ("director", ["B001"]), ("b2director", ["B002"])]
)
def test_api_standards_are_scoped_to_the_callers_branches(world, username, codes):
    save(world, when=D(2026, 11, 25), visits_per_day=10)
    save(world, when=D(2026, 11, 30), visits_per_day=12, today=D(2026, 11, 25))

    body = api_client(world[username]).get(STANDARDS_API).json()

    assert [row["branch"]["code"] for row in body["results"]] == codes
    b1 = next((row for row in body["results"] if row["branch"]["code"] == "B001"), None)
    if b1:
        assert [v["effective_from"] for v in b1["versions"]] == ["2026-11-30", "2026-11-25"]
        assert b1["current"]["service_hours"] == [["09:30", "11:30"], ["13:00", "15:00"]]
        assert b1["current"]["meeting_time"] == "15:30"
        assert b1["current"]["consultation_deadline_hours"] == "4.00"
        assert b1["is_default"] is False
    b2 = next((row for row in body["results"] if row["branch"]["code"] == "B002"), None)
    if b2:
        assert b2["is_default"] is True
        assert b2["current"]["id"] is None
        assert b2["current"]["visits_per_day"] == 8
        assert b2["versions"] == []


@pytest.mark.urls(__name__)
def test_api_standards_query_count_is_constant(world, django_assert_max_num_queries):
    for branch in (world.b1, world.b2):
        for year in range(2020, 2026):
            ServiceStandard.objects.create(branch=branch, effective_from=D(year, 1, 1))
    client = api_client(world["admin"])

    with django_assert_max_num_queries(8):
        assert client.get(STANDARDS_API).status_code == 200


@pytest.mark.urls(__name__)
def test_api_trading_calendar_lists_days(world):
    CalendarOverride.objects.create(date=D(2026, 12, 30), kind="holiday", name="临时休市")

    body = api_client(world["manager1"]).get(f"{CALENDAR_API}?start=2026-12-29&end=2026-12-31").json()

    assert body["known_until"] == "2026-12-31"
    assert body["days"] == [
        {"date": "2026-12-29", "is_trading_day": True, "name": ""},
        {"date": "2026-12-30", "is_trading_day": False, "name": "临时休市"},
        {"date": "2026-12-31", "is_trading_day": True, "name": ""},
    ]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-12-28&end=2027-01-08", "服务日历只覆盖到 2026-12-31"),
        ("start=2026-13-01", "日期格式"),
        ("start=2026-10-09&end=2026-10-01", "结束日期不能早于开始日期"),
        ("start=2025-01-01&end=2026-06-30", "一次最多查询 366 天"),
        ("start=2000-01-03&end=2000-01-07", "交易日历从 2006-11-27 开始"),
        ("start=9999-12-31", "服务日历只覆盖到"),
    ],
)
def test_api_trading_calendar_refuses_with_a_chinese_message(world, query, message):
    response = api_client(world["manager1"]).get(f"{CALENDAR_API}?{query}")

    assert response.status_code == 400
    assert message in str(response.json())
