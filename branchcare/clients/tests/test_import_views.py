"""Import pages: wiring, inline and background runs, confirmation of a preview, and access control."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from branchcare.clients.models import Client, Holding
from branchcare.core.models import AuditLog, ImportJob

HEADER = "客户号,姓名,手机,证件号码,风险等级,资产,客户经理,开户日期\n"
GOOD = HEADER + '40000001,赵一,13900000001,310101199001010011,C3,"1,000",manager1,2020-01-02\n'
BAD = GOOD + "40000002,钱二,13900000002,,C3,很多,manager1,2020-01-02\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(client, world, content: str, *, action: str = "import", name: str = "客户.csv", **extra):
    data = {
        "kind": "clients",
        "branch": world.b1.pk,
        "file": SimpleUploadedFile(name, content.encode("utf-8"), content_type="text/csv"),
        "action": action,
        **extra,
    }
    return client.post(reverse("clients:import"), data)


def counts() -> tuple[int, int, int]:
    return Client.objects.count(), Holding.objects.count(), AuditLog.objects.count()


def test_manager_gets_403(world, login):
    c = login("manager1")
    assert c.get(reverse("clients:import")).status_code == 403
    assert c.get(reverse("clients:import_template", args=["clients"])).status_code == 403


def test_anonymous_is_sent_to_login(world, client):
    r = client.get(reverse("clients:import"))
    assert r.status_code == 302 and reverse("login") in r["Location"]


def test_upload_page_explains_columns_and_offers_templates(world, login):
    page = login("director").get(reverse("clients:import")).content.decode()
    assert "仅预检" in page and "跳过错误行，导入其余行" in page
    assert "客户号" in page and "client_no" in page and "证券代码" in page
    assert reverse("clients:import_template", args=["clients"]) in page
    assert "还没有导入记录" in page
    assert world.b2.name not in page  # the director imports into their own branch only


def test_admin_may_choose_any_branch_of_the_company(world, login):
    page = login("admin").get(reverse("clients:import")).content.decode()
    assert world.b1.name in page and world.b2.name in page


def test_template_download(world, login):
    r = login("director").get(reverse("clients:import_template", args=["holdings"]))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    assert [c.value for c in ws[1]] == ["客户号", "证券代码", "证券名称", "持仓数量", "成本价", "日期"]
    assert login("director").get(reverse("clients:import_template", args=["nope"])).status_code == 404


def test_dry_run_shows_row_error_and_writes_nothing(world, login):
    c = login("director")
    before = counts()
    r = upload(c, world, BAD, action="preview")
    assert counts() == before
    job = ImportJob.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("clients:import_job", args=[job.pk])
    assert job.dry_run and job.status == ImportJob.Status.PREVIEWED and job.error_count == 1
    page = c.get(r["Location"]).content.decode()
    assert "预检结果" in page and "不是有效的数字" in page and "资产" in page and ">3<" in page
    assert "确认导入" in page and reverse("clients:import_errors", args=[job.pk]) in page


def test_error_report_download(world, login):
    c = login("director")
    upload(c, world, BAD + "=cmd|' /C calc'!A0,x,,,C3,1,,\n", action="preview")
    job = ImportJob.objects.get()
    r = c.get(reverse("clients:import_errors", args=[job.pk]))
    assert r.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("行号", "列", "值", "原因")
    assert rows[1] == (3, "资产", "很多", "不是有效的数字")
    assert rows[2][2] == "'=cmd|' /C calc'!A0"  # neutralised


def test_import_commits_and_removes_the_upload(world, login, media):
    c = login("director")
    r = upload(c, world, GOOD)
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.DONE and job.created_count == 1
    assert Client.objects.filter(client_no="40000001", branch=world.b1).exists()
    assert not Path(job.file_path).exists()
    page = c.get(r["Location"]).content.decode()
    assert "导入完成" in page and 'id="count-created">1<' in page and "确认导入" not in page


def test_commit_with_bad_row_writes_nothing_then_skip_invalid(world, login):
    c = login("director")
    before = counts()
    upload(c, world, BAD)
    assert counts() == before
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED and job.error_count == 1
    page = c.get(reverse("clients:import_job", args=[job.pk])).content.decode()
    assert "未写入任何数据" in page and "跳过 1 行错误行" in page
    # The user ticks "skip bad rows" on the result page: the same file, no new upload.
    r = c.post(reverse("clients:import_job", args=[job.pk]), {"skip_invalid": "on"})
    new = ImportJob.objects.latest("pk")
    assert r["Location"] == reverse("clients:import_job", args=[new.pk])
    assert new.status == ImportJob.Status.DONE and new.skip_invalid and new.created_count == 1
    assert Client.objects.filter(client_no="40000001").exists()
    assert not Client.objects.filter(client_no="40000002").exists()


def test_preview_then_confirm_once(world, login):
    c = login("director")
    upload(c, world, GOOD, action="preview")
    preview = ImportJob.objects.get()
    assert not Client.objects.filter(client_no="40000001").exists()
    c.post(reverse("clients:import_job", args=[preview.pk]))
    assert Client.objects.filter(client_no="40000001").exists()
    # The file was consumed: confirming again is refused, nothing is imported twice.
    r = c.post(reverse("clients:import_job", args=[preview.pk]))
    assert r.status_code == 400 and "已导入或已失效" in r.content.decode()
    assert ImportJob.objects.count() == 2


def test_skip_invalid_on_upload(world, login):
    c = login("director")
    upload(c, world, BAD, skip_invalid="on")
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.DONE and job.error_count == 1 and job.created_count == 1


def test_hostile_file_is_a_form_error_and_creates_no_job(world, login, media):
    c = login("director")
    before = counts()
    r = upload(c, world, "", name="empty.csv")
    assert r.status_code == 400 and "空文件" in r.content.decode()  # Django's own check, in Chinese
    r = c.post(
        reverse("clients:import"),
        {
            "kind": "clients",
            "branch": world.b1.pk,
            "action": "import",
            "file": SimpleUploadedFile("x.xlsx", bytes(range(256)) * 10),
        },
    )
    assert r.status_code == 400 and "不是 Excel 工作簿" in r.content.decode()
    r = upload(c, world, "姓名\n张三\n")
    assert "缺少必需的列" in r.content.decode() and "客户号（client_no）" in r.content.decode()
    assert counts() == before and not ImportJob.objects.exists()
    assert not any((media / "imports").iterdir())


def test_big_file_runs_in_background_with_progress(world, login, django_capture_on_commit_callbacks):
    c = login("director")
    with (
        override_settings(BRANCHCARE={**settings.BRANCHCARE, "IMPORT_BACKGROUND_BYTES": 10}),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        upload(c, world, GOOD)
    assert len(callbacks) == 1  # the Huey task, enqueued once the job row is committed
    job = ImportJob.objects.get()
    # Huey runs immediately in tests: by the time the redirect is followed the job has finished.
    assert job.status == ImportJob.Status.DONE and job.created_count == 1 and job.processed_rows == 1
    assert Client.objects.filter(client_no="40000001").exists()
    progress = reverse("clients:import_job_progress", args=[job.pk])
    r = c.get(progress, HTTP_HX_REQUEST="true")
    assert r["HX-Refresh"] == "true" and 'hx-trigger="every 1s"' not in r.content.decode()


def test_running_job_page_polls_progress(world, login):
    job = ImportJob.objects.create(
        kind="clients",
        branch=world.b1,
        created_by=world["director"],
        file_name="big.csv",
        file_path="/nonexistent",
        status=ImportJob.Status.RUNNING,
        total_rows=1000,
        processed_rows=250,
        message="正在校验第 251 行",
    )
    c = login("director")
    page = c.get(reverse("clients:import_job", args=[job.pk])).content.decode()
    progress = reverse("clients:import_job_progress", args=[job.pk])
    assert f'hx-get="{progress}"' in page and 'hx-trigger="every 1s"' in page and 'value="25"' in page
    r = c.get(progress, HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert "HX-Refresh" not in r and 'hx-trigger="every 1s"' in body and "正在校验第 251 行" in body


@pytest.mark.parametrize("name", ["import_job", "import_job_progress", "import_errors"])
def test_job_of_another_branch_is_404(world, login, name):
    job = ImportJob.objects.create(
        kind="clients",
        branch=world.b1,
        created_by=world["director"],
        file_name="a.csv",
        file_path="/x",
        status=ImportJob.Status.PREVIEWED,
    )
    c = login("b2director")
    assert c.get(reverse(f"clients:{name}", args=[job.pk])).status_code == 404
    assert c.post(reverse("clients:import_job", args=[job.pk])).status_code == 404
    assert login("admin").get(reverse(f"clients:{name}", args=[job.pk])).status_code == 200


def test_cannot_upload_into_a_branch_outside_scope(world, login):
    c = login("b2director")
    before = counts()
    r = upload(c, world, GOOD)  # posts branch = B001
    assert r.status_code == 400 and not ImportJob.objects.exists() and counts() == before


def test_progress_without_estimate_is_indeterminate(world, login):
    job = ImportJob.objects.create(
        kind="clients",
        branch=world.b1,
        created_by=world["director"],
        file_name="big.xlsx",
        file_path="/x",
        status=ImportJob.Status.RUNNING,
        total_rows=0,
        processed_rows=4000,
        message="正在校验第 4001 行",
    )
    body = login("director").get(reverse("clients:import_job_progress", args=[job.pk])).content.decode()
    assert '<progress class="flex-grow-1" aria-label' in body and "已校验 4000 行" in body
