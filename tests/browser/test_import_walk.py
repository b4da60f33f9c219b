"""Browser walk through 数据导入: a client CSV with one bad row is refused as a whole and the row error is
shown in Chinese; the corrected file is imported and the new clients appear in the list."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from branchcare.clients.models import Client

from .conftest import login_as, shot

pytestmark = pytest.mark.browser

HEADER = "客户号,姓名,手机,证件号码,风险等级,资产,客户经理,开户日期"


def _csv(*rows: str) -> bytes:
    # Excel's "CSV UTF-8" adds a BOM; the importer must cope with it.
    return "\r\n".join((HEADER, *rows)).encode("utf-8-sig") + b"\r\n"


def _upload(page, name: str, data: bytes) -> None:
    page.locator("#id_file").set_input_files(files=[{"name": name, "mimeType": "text/csv", "buffer": data}])
    page.locator("#import-form button[name=action][value=import]").click()
    page.wait_for_url(re.compile(r"/clients/import/jobs/\d+/$"))


def test_director_imports_clients_csv(page, live_server, browser_world):
    w = browser_world
    zhang = w.client_m1
    good_new = '32000001,钱七,139 0000 1111,330101198805050011,C4,"1,250,000.00",manager1,2021-03-15'
    bad_new = "32000002,孙八,13900002222,330101199106060022,C9,50000,manager2,2022-07-01"
    fixed_new = bad_new.replace(",C9,", ",积极型,")
    zhang_update = f'{zhang.client_no},张三,13812345678,{zhang.id_number},C3,"2,000,000",manager1,2020-01-02'
    before = Client.objects.count()

    login_as(page, live_server, "director")
    page.locator(".sidebar").get_by_role("link", name="数据导入").click()
    page.wait_for_url(re.compile(r"/clients/import/$"))
    expect(page.get_by_role("heading", name="数据导入")).to_be_visible()
    expect(page.get_by_text("可识别的列")).to_be_visible()
    expect(page.get_by_label("导入内容")).to_have_value("clients")
    shot(page, "03-import-upload")

    # One bad row: nothing is written (all or nothing).
    _upload(page, "客户资料.csv", _csv(good_new, bad_new, zhang_update))
    expect(page.get_by_role("heading", name=re.compile("导入结果"))).to_be_visible()
    expect(page.locator("main")).to_contain_text("有错误，未写入")
    expect(page.locator(".alert-danger")).to_contain_text("发现 1 行错误，未写入任何数据")
    errors = page.locator("#import-errors tbody tr")
    expect(errors).to_have_count(1)
    cells = errors.first.locator("td")
    expect(cells.nth(0)).to_have_text("3")  # the header is line 1, as Excel numbers rows
    expect(cells.nth(1)).to_have_text("风险等级")
    expect(cells.nth(2)).to_have_text("C9")
    expect(cells.nth(3)).to_contain_text("风险等级应为 C1–C5")
    expect(page.locator("#count-errors")).to_have_text("1")
    shot(page, "03-import-row-error")
    assert Client.objects.count() == before
    assert not Client.objects.filter(client_no__in=["32000001", "32000002"]).exists()
    zhang.refresh_from_db()
    assert zhang.total_assets == Decimal("100000")
    page.goto(f"{live_server.url}/clients/")
    expect(page.locator("#result-count")).to_have_text("共 2 位客户")

    # The corrected file goes in: two new clients, 张三 updated.
    page.locator(".sidebar").get_by_role("link", name="数据导入").click()
    _upload(page, "客户资料-修正.csv", _csv(good_new, fixed_new, zhang_update))
    expect(page.locator("main")).to_contain_text("已完成")
    expect(page.locator(".alert-success")).to_contain_text("导入完成：共 3 行，新增 2，更新 1")
    expect(page.locator("#count-created")).to_have_text("2")
    expect(page.locator("#count-updated")).to_have_text("1")
    expect(page.locator("#count-errors")).to_have_text("0")
    expect(page.locator("#import-errors")).to_have_count(0)
    shot(page, "03-import-done")
    assert Client.objects.count() == before + 2

    page.locator(".sidebar").get_by_role("link", name="客户列表").click()
    table = page.locator("#client-list")
    expect(page.locator("#result-count")).to_have_text("共 4 位客户")
    qian = table.locator("tr", has_text="钱七")
    expect(qian).to_contain_text("32000001")
    expect(qian).to_contain_text("13900001111")  # spaces removed from the phone
    expect(qian).to_contain_text("1,250,000.00")
    expect(qian).to_contain_text("C4")
    expect(qian).to_contain_text(str(w["manager1"]))
    expect(table.locator("tr", has_text="孙八")).to_contain_text("C4")
    expect(table.locator("tr", has_text="张三")).to_contain_text("2,000,000.00")
    shot(page, "03-client-list-after-import")

    # The import history lists both attempts.
    page.locator(".sidebar").get_by_role("link", name="数据导入").click()
    history = page.locator("main table").last
    expect(history).to_contain_text("客户资料-修正.csv")
    expect(history).to_contain_text("有错误，未写入")
