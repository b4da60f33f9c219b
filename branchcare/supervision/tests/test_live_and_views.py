"""The director dashboard (live counters, drill-down lists equal to the counts, company view, query
counts), the scorecard page's drill-down links, exports, alerts (idempotent) and the API payloads."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from branchcare.api.testing import api_client
from branchcare.core.models import AuditLog, Notification
from branchcare.org.capabilities import Cap, Scope
from branchcare.org.models import Role
from branchcare.supervision import live
from branchcare.supervision.alerts import send_daily_alerts
from branchcare.supervision.models import AlertLog
from branchcare.supervision.services import rollup_recompute
from branchcare.testing.factories import ClientFactory, UserFactory

from .fixtures import DAY, NOW, S, at, build, order


@pytest.fixture
def known(world):
    data = build(world)
    rollup_recompute(branch=world.b1, first=DAY, last=DAY, now=NOW)
    return data


def test_live_counts_per_person(world, known):
    dash = live.dashboard(branches=[world.b1], now=NOW)[0]
    rows = {r.employee.username: r for r in dash.rows}
    assert rows["consultant1"].live.counts["orders_overdue"] == 1  # held by the consultant while analysed
    assert rows["manager1"].live.counts["followups_overdue"] == 1
    assert rows["manager1"].uncovered == 1  # from the rollup of the 24th
    assert dash.overdue == 2
    assert dash.coverage_day == DAY


def test_live_drill_lists_exactly_the_counted_records(world, known):
    counts = live.live_counts([world.b1.pk], NOW)
    for source in live.sources().values():
        for c in source.counters:
            _s, _c, qs = live.live_items(key=c.key, branch_ids=[world.b1.pk], employee_ids=None, now=NOW)
            assert qs.count() == sum(p.counts.get(c.key, 0) for p in counts.values()), c.key


def test_sla_breaches_and_most_overdue(world, known):
    breaches = {c.key: n for _s, c, n in live.sla_breaches([world.b1.pk], NOW)}
    assert breaches["orders_overdue"] == 1 and sum(breaches.values()) == 1
    items = live.most_overdue([world.b1.pk], NOW)
    assert [i.title.split(" · ")[0] for i in items][:1] == [f"咨询单 #{known['orders']['late'].pk}"]


def test_expired_risk_assessments_from_the_rollup_and_its_list(world, login):
    from branchcare.clients.models import Client

    m1 = world["manager1"]
    ClientFactory(branch=world.b1, manager=m1, risk_assessed_on=None)
    ClientFactory(branch=world.b1, manager=m1, risk_assessed_on=dt.date(2026, 11, 1))
    rollup_recompute(branch=world.b1, first=DAY, last=DAY, now=NOW, codes=["risk_expired"])
    counts, days = live.expired_assessments([world.b1.pk])
    expected = sum(1 for c in Client.objects.filter(manager=m1, status="active") if c.risk_assessment_expired)
    assert expected >= 1 and counts[(world.b1.pk, m1.pk)] == expected and days[world.b1.pk] == DAY
    page = login("director").get(reverse("supervision:dashboard_items") + f"?key=expired&employee={m1.pk}")
    assert page.context["count"] == expected


def test_sla_from_the_dashboard_equals_the_direct_count(world, known):
    dash = live.dashboard(branches=[world.b1], now=NOW)
    assert [(c.key, n) for _s, c, n in live.sla_from(dash)] == [
        (c.key, n) for _s, c, n in live.sla_breaches([world.b1.pk], NOW)
    ]


@pytest.mark.parametrize("n", [3, 15])
def test_dashboard_query_count_is_constant(world, n, django_assert_max_num_queries):
    for i in range(n):
        m = UserFactory(username=f"dm{i}", branch=world.b1, roles=["manager"])
        c = ClientFactory(branch=world.b1, manager=m)
        order(
            m, c, S.ADVICE_READY, consultant=world["consultant1"], submitted_at=at(24, 9), due_at=at(24, 11)
        )
    with django_assert_max_num_queries(12):
        dash = live.dashboard(branches=[world.b1, world.b2], now=NOW)
    assert len(dash[0].rows) >= n


def test_dashboard_page_query_count_is_constant(world, login, django_assert_max_num_queries):
    for i in range(12):
        m = UserFactory(username=f"pm{i}", branch=world.b1, roles=["manager"])
        ClientFactory(branch=world.b1, manager=m, risk_assessed_on=None)
    client = login("director")
    client.get(reverse("supervision:dashboard"))
    with django_assert_max_num_queries(30):
        response = client.get(reverse("supervision:dashboard"))
    assert response.status_code == 200
    assert len(response.context["dash"][0].rows) >= 12


def test_dashboard_page_links_overdue_order_to_the_order(world, login):
    from django.utils import timezone

    now = timezone.now()
    o = order(world["manager1"], world.client_m1, S.IN_ANALYSIS, consultant=world["consultant1"],
              submitted_at=now - dt.timedelta(hours=6), due_at=now - dt.timedelta(hours=1))  # fmt: skip
    client = login("director")
    body = client.get(reverse("supervision:dashboard")).content.decode()
    assert 'id="breach-orders_overdue"' in body
    items = client.get(reverse("supervision:dashboard_items") + f"?key=orders_overdue&branch={world.b1.pk}")
    assert items.context["count"] == 1
    assert reverse("onsite:consultation_detail", args=[o.pk]) in items.content.decode()


def test_company_scope_sees_every_branch_and_drills_into_one(world, login):
    Role.objects.create(code="hq", name="总部督导", scope=Scope.COMPANY, capabilities=[Cap.SUPERVISE])
    hq1 = UserFactory(username="hq1", branch=world.b1, roles=["hq"])
    client = login("hq1")
    response = client.get(reverse("supervision:dashboard"))
    assert response.context["mode"] == "company"
    assert [bd.branch.code for bd in response.context["dash"]] == ["B001", "B002"]
    response = client.get(reverse("supervision:dashboard") + f"?branch={world.b2.pk}")
    assert response.context["mode"] == "branch" and response.context["branch"] == world.b2
    api = api_client(hq1)
    data = api.get("/api/v1/supervision/dashboard/").json()
    assert [b["branch"]["code"] for b in data["branches"]] == ["B001", "B002"]


def test_scorecard_numbers_link_to_exactly_that_many_records(world, known, login):
    client = login("director")
    response = client.get(reverse("supervision:scorecards") + "?role=consultant&period=month&date=2026-11-24")
    assert response.status_code == 200
    checked = 0
    for row in response.context["rows"]:
        for cell in row["cells"]:
            if cell["fig"] is None:
                continue
            for part, url in cell["urls"].items():
                shown = cell["fig"].numerator if part == "num" else cell["fig"].denominator
                drill = client.get(url)
                assert drill.status_code == 200
                assert drill.context["count"] == shown, (cell["item"].measure.code, part, row["line"].label)
                checked += 1
    assert checked >= 6
    body = response.content.decode()
    assert 'id="trend-data" type="application/json"' in body and "<script>" not in body


def test_scorecard_exports(world, known, login):
    client = login("director")
    xlsx = client.get(reverse("supervision:scorecards_xlsx") + "?role=consultant&date=2026-11-24")
    ws = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    rows = list(ws.values)
    assert rows[0][0] == "层级" and rows[0][-1] == "综合得分"
    assert rows[1][1] == str(world["consultant1"])
    pdf = client.get(reverse("supervision:scorecards_pdf") + "?role=consultant&date=2026-11-24")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_config_page_saves_a_version_for_next_month(world, login):
    from branchcare.supervision.models import Scorecard

    client = login("director")
    data = {"branch": world.b1.pk, "role": "consultant", "note": "重视准时"}
    for code, w in {"consult_ontime": 100}.items():
        data.update({f"weight_{code}": w, f"target_{code}": 100, f"threshold_{code}": 50})
    response = client.post(reverse("supervision:scorecard_config"), data)
    assert response.status_code == 302
    card = Scorecard.objects.get()
    assert card.effective_from.day == 1 and card.effective_from > dt.date.today()
    bad = client.post(reverse("supervision:scorecard_config"), {**data, "weight_consult_ontime": 50})
    assert bad.status_code == 200 and "权重合计必须为 100" in bad.content.decode()


def test_recompute_view_is_audited(world, known, login):
    response = login("director").post(
        reverse("supervision:recompute"), {"branch": world.b1.pk, "first": "2026-11-24", "last": "2026-11-24"}
    )
    assert response.status_code == 302
    assert AuditLog.objects.filter(action="supervision.rollup_recompute").exists()


def test_daily_alerts_go_to_each_person_and_the_director_once_a_day(world, known):
    sent = send_daily_alerts(now=NOW)
    recipients = set(Notification.objects.values_list("recipient__username", flat=True))
    assert recipients == {"consultant1", "manager1", "director"}
    m1 = Notification.objects.get(recipient=world["manager1"])
    assert "逾期跟进事项" in m1.body and "拜访" in m1.body and "未达标" in m1.body
    digest = Notification.objects.get(recipient=world["director"])
    assert str(world["consultant1"]) in digest.body
    assert sent == 3
    assert send_daily_alerts(now=NOW) == 0  # idempotent per day
    assert Notification.objects.count() == 3
    assert AlertLog.objects.count() == 3
    # the next day sends again
    assert send_daily_alerts(now=NOW + dt.timedelta(days=1)) > 0


def test_scorecard_api_payload(world, known):
    data = (
        api_client(world["director"])
        .get("/api/v1/supervision/scorecards/?role=consultant&date=2026-11-24")
        .json()
    )
    assert data["first"] == "2026-11-01" and data["version_effective_from"] is None
    person = next(line for line in data["lines"] if line["employee_id"] == world["consultant1"].pk)
    ontime = next(f for f in person["figures"] if f["measure"] == "consult_ontime")
    assert (ontime["numerator"], ontime["denominator"], ontime["value"]) == (2, 3, 66.67)


def test_workbench_card_for_the_director(world, known):
    from branchcare.core.workbench import cards_for

    titles = [c.title for c in cards_for(world["director"])]
    assert "督导：今日逾期事项" in titles
    assert "督导：今日逾期事项" not in [c.title for c in cards_for(world["manager1"])]


def test_demo_seed_is_idempotent(world, known):
    from branchcare.supervision.demo import seed_demo
    from branchcare.supervision.models import DailyMeasure, Scorecard

    today = dt.date(2026, 11, 25)
    first = seed_demo(users=world.users, today=today, seed=1)
    rows = DailyMeasure.objects.count()
    second = seed_demo(users=world.users, today=today, seed=1)
    assert first == second and DailyMeasure.objects.count() == rows > 0
    assert Scorecard.objects.get().effective_from == dt.date(2026, 12, 1)


def test_recompute_does_not_redirect_off_site(world, login):
    response = login("director").post(
        reverse("supervision:recompute"), {"branch": world.b1.pk, "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and "evil" not in response["Location"]


def test_scorecard_api_refuses_a_malformed_or_out_of_range_date(world):
    api = api_client(world["director"])
    for bad in ("9999-12-31", "0001-01-01", "2026-13-01", "昨天"):
        response = api.get(f"/api/v1/supervision/scorecards/?date={bad}")
        assert response.status_code == 400, bad
        assert "YYYY-MM-DD" in response.json()["date"][0]
    assert api.get("/api/v1/supervision/scorecards/?date=2999-12-31").status_code == 200


def test_page_ignores_an_out_of_range_date(world, client):
    client.force_login(world["director"])
    assert client.get(reverse("supervision:scorecards") + "?date=9999-12-31").status_code == 200


def test_unknown_compliance_check_is_a_json_404(world):
    response = api_client(world["compliance1"]).get("/api/v1/supervision/compliance/checks/无此项%20x/")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
