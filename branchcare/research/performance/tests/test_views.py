"""Pages and API: the role × URL permission matrix, query counts, and the import flow in the UI."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from branchcare.clients.models import Price
from branchcare.core import imports
from branchcare.core.models import ImportJob
from branchcare.research.performance import import_specs
from branchcare.research.performance.models import RecommendationOutcome
from branchcare.research.performance.services import outcomes_refresh

from .helpers import days_from, linear, market, prices, recommendation, security, source

pytestmark = pytest.mark.django_db
CSV = "security_code,date,close\n600519,2026-06-01,1500\n"


def upload(text: str = CSV, name: str = "prices.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


@pytest.fixture
def perf(world):
    sec = security()
    market(sec)
    b1 = recommendation(
        src=source("上海研究小组", branch=world.b1), sec=sec, author=world["researcher1"], title="B1"
    )
    b2 = recommendation(src=source("杭州研究小组", branch=world.b2), sec=sec, title="B2")
    ho = recommendation(src=source("总部研究所"), sec=sec, title="HO", target="120", stop="90")
    outcomes_refresh()
    job_b1 = imports.import_job_start(
        actor=world["director"], branch=world.b1, kind=import_specs.KIND, upload=upload(), file_name="a.csv",
        dry_run=True,
    )  # fmt: skip
    job_b2 = imports.import_job_start(
        actor=world["b2director"], branch=world.b2, kind=import_specs.KIND, upload=upload(), file_name="b.csv",
        dry_run=True,
    )  # fmt: skip
    return {"b1": b1, "b2": b2, "ho": ho, "job_b1": job_b1, "job_b2": job_b2}


def _urls(p):
    r = lambda name, *args: reverse(f"research_performance:{name}", args=args)  # noqa: E731
    return {
        "league": ("get", r("league")),
        "rec_b1": ("get", r("recommendation", p["b1"].pk)),
        "rec_b2": ("get", r("recommendation", p["b2"].pk)),
        "rec_ho": ("get", r("recommendation", p["ho"].pk)),
        "import": ("get", r("price_import")),
        "job_b1": ("get", r("price_import_job", p["job_b1"].pk)),
        "job_b2": ("get", r("price_import_job", p["job_b2"].pk)),
        "progress_b1": ("get", r("price_import_progress", p["job_b1"].pk)),
        "errors_b1": ("get", r("price_import_errors", p["job_b1"].pk)),
        "template": ("get", r("price_template")),
        "api_league": ("get", "/api/v1/research/performance/league/"),
        "api_list": ("get", "/api/v1/research/performance/recommendations/"),
        "api_rec_b1": ("get", f"/api/v1/research/performance/recommendations/{p['b1'].pk}/"),
        "api_rec_b2": ("get", f"/api/v1/research/performance/recommendations/{p['b2'].pk}/"),
        "api_rec_ho": ("get", f"/api/v1/research/performance/recommendations/{p['ho'].pk}/"),
        "api_import": ("post", "/api/v1/research/performance/prices/import/"),
    }


READER_B1 = {
    "league": 200, "rec_b1": 200, "rec_b2": 404, "rec_ho": 200, "import": 403, "job_b1": 403, "job_b2": 403,
    "progress_b1": 403, "errors_b1": 403, "template": 403, "api_league": 200, "api_list": 200,
    "api_rec_b1": 200, "api_rec_b2": 404, "api_rec_ho": 200, "api_import": 403,
}  # fmt: skip
READER_B2 = {**READER_B1, "rec_b1": 404, "rec_b2": 200, "api_rec_b1": 404, "api_rec_b2": 200}
NO_READ = {
    "league": 403, "rec_b1": 403, "rec_b2": 403, "rec_ho": 403, "api_league": 403, "api_list": 403,
    "api_rec_b1": 403, "api_rec_b2": 403, "api_rec_ho": 403,
}  # fmt: skip
IMPORTS_B1 = {"import": 200, "job_b1": 200, "job_b2": 404, "progress_b1": 200, "errors_b1": 200, "template": 200,
              "api_import": 201}  # fmt: skip
MATRIX = {
    "admin": {**READER_B1, **NO_READ, **IMPORTS_B1, "job_b2": 200},
    "director": {**READER_B1, **IMPORTS_B1},
    "manager1": READER_B1,
    "manager2": READER_B1,
    "consultant1": READER_B1,
    "researcher1": READER_B1,
    "broker1": READER_B1,
    "compliance1": READER_B1,
    "agent1": {**READER_B1, **NO_READ},
    "b2manager1": READER_B2,
    "b2director": {
        **READER_B2,
        **IMPORTS_B1,
        "job_b1": 404,
        "job_b2": 200,
        "progress_b1": 404,
        "errors_b1": 404,
    },  # fmt: skip
}
CASES = [(role, key, code) for role, row in MATRIX.items() for key, code in row.items()]


@pytest.mark.parametrize(("role", "key", "expected"), CASES)
def test_permission_matrix(perf, login, role, key, expected):
    method, url = _urls(perf)[key]
    client = login(role)
    if method == "post":
        response = client.post(url, {"file": upload(), "dry_run": "true"})
    else:
        response = client.get(url)
    assert response.status_code == expected, (role, key, response.status_code)


@pytest.mark.parametrize(
    "key", ["league", "rec_b1", "rec_ho", "import", "job_b1", "progress_b1", "errors_b1", "template"]
)
def test_anonymous_is_sent_to_login(perf, client, key):
    _method, url = _urls(perf)[key]
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("key", ["api_league", "api_list", "api_rec_b1", "api_import"])
def test_anonymous_api_is_refused(perf, client, key):
    method, url = _urls(perf)[key]
    response = client.post(url) if method == "post" else client.get(url)
    assert response.status_code in (401, 403)
    assert response.status_code == 401 or "detail" in response.json()


def _grow(world, n: int) -> None:
    """``n`` more recommendations by different authors and sources, each with its own security."""
    days = days_from(dt.date(2026, 5, 28), 90)
    for i in range(n):
        sec = security(f"6010{i:02d}", f"测试{i}")
        prices(sec, linear(days, 10 + i, 0.05))
        author = world["consultant1"] if i % 2 else world["researcher1"]
        recommendation(src=source(f"来源{i}", branch=world.b1), sec=sec, author=author, title=f"G{i}",
                       target="12", stop="9")  # fmt: skip
    outcomes_refresh()


def test_league_query_count_does_not_grow(perf, world, login, django_assert_max_num_queries):
    client = login("director")
    url = reverse("research_performance:league")
    with django_assert_max_num_queries(14):
        assert client.get(url).status_code == 200
    _grow(world, 12)
    with django_assert_max_num_queries(14):
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["sources"]) == 14


def test_recommendation_and_api_query_counts(perf, world, login, django_assert_max_num_queries):
    client = login("researcher1")
    with django_assert_max_num_queries(14):
        assert (
            client.get(reverse("research_performance:recommendation", args=[perf["b1"].pk])).status_code
            == 200
        )
    _grow(world, 6)
    with django_assert_max_num_queries(10):
        assert client.get("/api/v1/research/performance/league/").status_code == 200
    with django_assert_max_num_queries(10):
        body = client.get("/api/v1/research/performance/recommendations/").json()
    assert body["count"] == 8


def test_league_page_shows_tables_colours_and_chart_data(perf, world, login):
    response = login("director").get(reverse("research_performance:league"))
    html = response.content.decode()
    assert 'id="league-authors"' in html and 'id="league-sources"' in html
    assert 'id="performance-data"' in html and "echarts.min.js" in html
    assert "上海研究小组" in html and "杭州研究小组" not in html
    rows = {r.name: r for r in response.context["sources"]}
    assert rows["总部研究所"].avg_excess_20 > 0
    assert 'class="num up"' in html  # positive excess in red


def test_league_filters_by_analyst(perf, world, login):
    response = login("director").get(
        reverse("research_performance:league") + f"?author={world['researcher1'].pk}"
    )
    assert [o.item_id for o in response.context["rows"]] == [perf["b1"].pk]
    assert response.context["filter_name"]


def test_recommendation_page_has_the_price_path(perf, login):
    response = login("researcher1").get(reverse("research_performance:recommendation", args=[perf["ho"].pk]))
    data = response.context["chart_data"]
    assert data["dates"][0] == perf["ho"].published_on.isoformat()
    assert data["security"][0] == 0.0 and len(data["security"]) == 61
    assert data["lines"]["target"] > 0 > data["lines"]["stop"]
    assert 'id="chart-path"' in response.content.decode()


def test_empty_league_tells_what_to_do(world, login):
    response = login("director").get(reverse("research_performance:league"))
    assert "还没有可评估的个股推荐" in response.content.decode()


def test_ui_import_preview_then_confirm(world, login, django_capture_on_commit_callbacks):
    sec = security()
    item = recommendation(src=source(branch=world.b1), sec=sec)
    days = days_from(dt.date(2026, 5, 29), 8)
    text = "证券代码,日期,收盘价\n" + "".join(
        f"600519,{d},{100 + i}\n000300,{d},4000\n" for i, d in enumerate(days)
    )
    client = login("director")
    response = client.post(
        reverse("research_performance:price_import"), {"file": upload(text), "action": "preview"}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/prices/import/{job.pk}/")
    assert job.status == ImportJob.Status.PREVIEWED and not Price.objects.filter(security=sec).exists()
    page = client.get(response["Location"])
    assert page.context["can_confirm"] and "确认导入" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("research_performance:price_import_job", args=[job.pk]))
    new = ImportJob.objects.exclude(pk=job.pk).get()
    assert new.status == ImportJob.Status.DONE and new.created_count == 16
    assert Price.objects.filter(security=sec).count() == 8
    assert RecommendationOutcome.objects.get(item=item).return_5 is not None


def test_ui_import_with_bad_rows_shows_errors_and_cannot_be_confirmed(world, login):
    security()
    client = login("director")
    text = "证券代码,日期,收盘价\n600519,2026-06-01,1500\n888888,2026-06-01,abc\n"
    response = client.post(
        reverse("research_performance:price_import"), {"file": upload(text), "action": "import"}
    )
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED and job.error_count == 1
    page = client.get(response["Location"]).content.decode()
    assert "不是有效的数字" in page and "未写入任何数据" in page
    assert not Price.objects.exists()
    refused = client.post(reverse("research_performance:price_import_job", args=[job.pk]))
    assert refused.status_code == 400 and not Price.objects.exists()


def test_ui_import_refuses_a_wrong_file(world, login):
    client = login("director")
    response = client.post(
        reverse("research_performance:price_import"), {"file": upload("x", name="p.pdf"), "action": "preview"}
    )
    assert response.status_code == 400 and "不支持的文件类型" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_api_league_and_detail_bodies(perf, world, login):
    client = login("director")
    body = client.get("/api/v1/research/performance/league/").json()
    assert body["benchmark"].startswith("000300") and body["totals"]["count"] == 2
    assert {r["name"] for r in body["sources"]} == {"上海研究小组", "总部研究所"}
    detail = client.get(f"/api/v1/research/performance/recommendations/{perf['ho'].pk}/").json()
    assert detail["status"] == "complete" and Decimal(detail["return_5"]) > 0
    assert detail["path"][0]["security"] == 0.0 and len(detail["path"]) == 61
    assert client.get("/api/v1/research/performance/recommendations/abc/").status_code == 404


def test_api_import_dry_run_and_import(world, login):
    sec = security()
    client = login("director")
    body = client.post(
        "/api/v1/research/performance/prices/import/", {"file": upload(), "dry_run": "true"}
    ).json()
    assert body["status"] == "previewed" and body["created_count"] == 1 and not Price.objects.exists()
    bad = client.post(
        "/api/v1/research/performance/prices/import/",
        {"file": upload(CSV + "777777,2026-06-01,1\n"), "dry_run": "false"},
    ).json()
    assert bad["status"] == "failed" and bad["row_errors"][0]["line"] == 3 and not Price.objects.exists()
    ok = client.post(
        "/api/v1/research/performance/prices/import/", {"file": upload(), "dry_run": "false"}
    ).json()
    assert ok["status"] == "done" and Price.objects.get(security=sec).close == Decimal("1500")


def test_openapi_schema_lists_the_routes(world, login):
    schema = login("director").get("/api/schema/?format=json").json()
    for route in ("league/", "recommendations/", "recommendations/{id}/", "prices/import/"):
        assert f"/api/v1/research/performance/{route}" in schema["paths"], route


def test_workbench_card_for_the_analyst(perf, world, login):
    from branchcare.core.workbench import cards_for

    cards = [c for c in cards_for(world["researcher1"]) if c.title == "我的推荐命中率"]
    assert len(cards) == 1 and cards[0].rows[0][1] == "1"
    assert not [c for c in cards_for(world["director"]) if c.title == "我的推荐命中率"]
    assert "我的推荐命中率" in login("researcher1").get("/").content.decode()
