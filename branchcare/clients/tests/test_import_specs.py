"""Client and holdings imports: validation against the branch, upsert, audit, replacement, the CLI."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import cast

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from branchcare.clients import import_specs
from branchcare.clients.models import Client, Holding, Security
from branchcare.core import imports, timeline
from branchcare.core.audit import audit_chain_verify
from branchcare.core.imports import CellError, ImportFileError, RowError
from branchcare.core.models import AuditLog
from branchcare.testing.factories import HoldingFactory, SecurityFactory, UserFactory


def security(**kw) -> Security:
    return cast(Security, SecurityFactory(**kw))


def holding(**kw) -> Holding:
    return cast(Holding, HoldingFactory(**kw))


CLIENT_HEADER = "客户号,姓名,手机,证件号码,风险等级,资产,客户经理,开户日期"


def csv_file(tmp_path: Path, body: str, name: str = "clients.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(body.encode(encoding))
    return path


def run_clients(world, path: Path, **kw):
    return imports.run_import(
        imports.get_spec("clients"), path, file_name=path.name, branch=world.b1, actor=world["director"], **kw
    )


def run_holdings(world, path: Path, **kw):
    return imports.run_import(
        imports.get_spec("holdings"),
        path,
        file_name=path.name,
        branch=world.b1,
        actor=world["director"],
        **kw,
    )


def state() -> tuple[int, int, int, int]:
    return Client.objects.count(), Holding.objects.count(), AuditLog.objects.count(), Security.objects.count()


# --- field parsers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("C3", "C3"),
        ("c3", "C3"),
        ("3", "C3"),
        (3, "C3"),
        (3.0, "C3"),
        ("稳健型", "C3"),
        ("稳健", "C3"),
        ("C5 激进型", "C5"),
        ("C1-保守型", "C1"),
        ("Ｃ２", "C2"),
        ("谨慎型", "C2"),
        ("积极型", "C4"),
    ],
)
def test_risk_level_spellings(raw, expected):
    assert import_specs.parse_risk_level(raw) == expected


@pytest.mark.parametrize("raw", ["C6", "0", "高风险", "C"])
def test_risk_level_refused(raw):
    with pytest.raises(CellError, match="C1–C5"):
        import_specs.parse_risk_level(raw)


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        (13812345678, "13812345678"),
        ("021-61234567", "02161234567"),
        ("１３８１２３４５６７８", "13812345678"),
    ],
)
def test_phone_normalised(raw, expected):
    assert import_specs.parse_phone(raw) == expected


@pytest.mark.parametrize("raw", ["1381234567", "abc", "12"])
def test_phone_refused(raw):
    with pytest.raises(CellError):
        import_specs.parse_phone(raw)


def test_id_number_stored_as_number_by_excel_is_refused():
    assert import_specs.parse_id_number("31010119900101123x") == "31010119900101123X"
    with pytest.raises(CellError, match="文本格式"):
        import_specs.parse_id_number(3.10101199001011e17)


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("0.25", Decimal("0.2500")),
        ("0.25‰", Decimal("0.2500")),
        ("0.025%", Decimal("0.2500")),
        ("万2.5", Decimal("0.2500")),
        (0.3, Decimal("0.3000")),
    ],
)
def test_commission_rate(raw, expected):
    assert import_specs.parse_commission_rate(raw) == expected


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("600519", ("600519", "SH")),
        (1, ("000001", "SZ")),
        (1.0, ("000001", "SZ")),
        ("300750", ("300750", "SZ")),
        ("830799", ("830799", "BJ")),
        ("920001", ("920001", "BJ")),
        ("430047", ("430047", "BJ")),
        ("510300", ("510300", "SH")),
        ("159915", ("159915", "SZ")),
        ("600519.SH", ("600519", "SH")),
        ("SZ000001", ("000001", "SZ")),
        ("000300.SH", ("000300", "SH")),
        ("600519.ss", ("600519", "SH")),
    ],
)
def test_security_code_and_exchange(raw, expected):
    assert import_specs.parse_security_code(raw) == expected


def test_security_code_refused():
    with pytest.raises(CellError):
        import_specs.parse_security_code("ABCDEF")
    with pytest.raises(CellError):
        import_specs.parse_security_code("7000001")


# --- clients -----------------------------------------------------------------------------------------------


def test_bad_row_writes_nothing_and_names_line_column_reason(world, tmp_path):
    path = csv_file(
        tmp_path,
        f"{CLIENT_HEADER}\n"
        "40000001,赵一,13900000001,310101199001010011,C3,100000,manager1,2020-01-02\n"
        "40000002,钱二,13900000002,310101199001010022,C9,200000,manager1,2020-01-02\n",
    )
    before = state()
    result = run_clients(world, path)
    assert state() == before
    assert not result.committed
    assert result.errors == [
        RowError(3, "风险等级", "C9", "风险等级应为 C1–C5、1–5 或 保守型/谨慎型/稳健型/积极型/激进型")
    ]


def test_import_creates_updates_recomputes_tier_and_audits(world, tmp_path):
    existing = world.client_m1  # 张三, assets 100000 (小户), phone 13812345678
    path = csv_file(
        tmp_path,
        "客户号,姓名,手机,证件号码,风险等级,资产,客户经理,开户日期,高端客户,状态,佣金率\n"
        f'{existing.client_no},张三,13912345678,310101199001011234,稳健型,"6,000,000.00",manager1,2020-01-02,是,正常,0.25\n'
        '40000001,赵一,13900000001,310101199001010011,4,"600,000",broker1,2021/3/4,否,休眠,\n',
    )
    result = run_clients(world, path)
    assert result.committed and result.errors == []
    assert (result.counts.created, result.counts.updated, result.counts.unchanged) == (1, 1, 0)

    existing.refresh_from_db()
    assert existing.total_assets == Decimal("6000000.00") and existing.tier == Client.Tier.LARGE
    assert existing.phone == "13912345678" and existing.phone_tail == "5678"
    assert existing.is_premium and existing.commission_rate == Decimal("0.2500") and existing.version == 2
    new = Client.objects.get(branch=world.b1, client_no="40000001")
    assert new.name_pinyin == "zhaoyi" and new.name_initials == "zy" and new.phone_tail == "0001"
    assert new.tier == Client.Tier.MEDIUM and new.risk_level == "C4" and new.status == Client.Status.DORMANT
    assert new.manager == world["broker1"] and new.opened_on == dt.date(2021, 3, 4)

    update_log = AuditLog.objects.get(action="client.import", object_type="clients.client")
    assert update_log.object_id == str(existing.pk) and update_log.branch_id == world.b1.pk
    assert update_log.actor_username == "director"
    assert update_log.changes["phone"] == ["138****5678", "139****5678"]  # personal data masked
    assert update_log.changes["tier"] == ["small", "large"]
    assert "id_number" not in update_log.changes  # unchanged
    create_log = AuditLog.objects.get(action="client.create", object_id=str(new.pk))
    assert create_log.changes["id_number"] == ["", "3101**********0011"]
    summary = AuditLog.objects.get(action="client.import", object_type="file")
    assert summary.changes["created"] == 1 and summary.changes["updated"] == 1
    assert summary.changes["file"] == "clients.csv" and summary.branch_id == world.b1.pk

    assert audit_chain_verify().ok  # the bulk audit rows are chained like any other

    now = timezone.now()
    events = timeline.events_for_client(
        client=existing,
        viewer=world["director"],
        start=now - dt.timedelta(hours=1),
        end=now + dt.timedelta(hours=1),
    )
    assert any(e.title == "导入更新客户资料" for e in events)


def test_reimport_of_same_file_changes_nothing(world, tmp_path):
    path = csv_file(
        tmp_path,
        f'{CLIENT_HEADER},备注\n40000001,赵一,13900000001,310101199001010011,C3,"1,000",manager1,20200102,老客户\n',
    )
    run_clients(world, path)
    before = state()
    result = run_clients(world, path)
    assert (result.counts.created, result.counts.updated, result.counts.unchanged) == (0, 0, 1)
    assert state()[:2] == before[:2]
    assert AuditLog.objects.filter(object_type="clients.client").count() == 1  # only the create
    assert Client.objects.get(client_no="40000001").version == 1


def test_columns_absent_from_the_file_are_not_overwritten(world, tmp_path):
    client = world.client_m1
    Client.objects.filter(pk=client.pk).update(notes="重要客户", is_premium=True)
    path = csv_file(
        tmp_path,
        f"{CLIENT_HEADER}\n{client.client_no},张三,13812345678,310101199001011234,C3,200000,manager1,2020-01-02\n",
    )
    result = run_clients(world, path)
    assert result.counts.updated == 1
    client.refresh_from_db()
    assert client.notes == "重要客户" and client.is_premium and client.total_assets == Decimal("200000.00")


@pytest.mark.parametrize(
    "manager,reason",
    [
        ("b2manager1", "b2manager1 不是本营业部在职的客户经理或经纪人"),
        ("consultant1", "consultant1 不是本营业部在职的客户经理或经纪人"),
        ("nobody", "客户经理账号 nobody 不存在"),
    ],
)
def test_manager_must_be_active_manager_or_broker_of_the_branch(world, tmp_path, manager, reason):
    path = csv_file(tmp_path, f"{CLIENT_HEADER}\n40000001,赵一,13900000001,,C3,1,{manager},2020-01-02\n")
    before = state()
    result = run_clients(world, path)
    assert state() == before
    assert result.errors == [RowError(2, "客户经理", manager, reason)]


def test_inactive_manager_refused_and_manager_by_name_or_case(world, tmp_path):
    UserFactory(username="gone", branch=world.b1, roles=["manager"], is_active=False)
    path = csv_file(
        tmp_path,
        f"{CLIENT_HEADER}\n40000001,赵一,,,C3,1,gone,\n40000002,钱二,,,C3,1,MANAGER1,\n"
        f"40000003,孙三,,,C3,1,{world['manager2'].name},\n40000004,李四,,,,1,,\n",
    )
    result = run_clients(world, path, skip_invalid=True)
    assert [(e.line, e.column) for e in result.errors] == [(2, "客户经理")]
    assert Client.objects.get(client_no="40000002").manager == world["manager1"]
    assert Client.objects.get(client_no="40000003").manager == world["manager2"]
    assert Client.objects.get(client_no="40000004").manager is None


def test_duplicate_client_no_names_the_first_line(world, tmp_path):
    path = csv_file(
        tmp_path,
        f"{CLIENT_HEADER}\n40000001,赵一,,,C3,1,,\n40000002,钱二,,,C3,1,,\n40000001,赵一,,,C3,1,,\n",
    )
    result = run_clients(world, path)
    assert result.errors == [RowError(4, "客户号", "40000001", "与第 2 行重复")]
    assert not Client.objects.filter(client_no__startswith="4000").exists()


def test_future_dates_refused(world, tmp_path):
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    path = csv_file(tmp_path, f"{CLIENT_HEADER}\n40000001,赵一,,,C3,1,,{future}\n")
    assert run_clients(world, path).errors[0].message == "日期不能晚于今天"


def test_missing_required_column_names_it(world, tmp_path):
    path = csv_file(tmp_path, "客户号,姓名,手机,证件号码,风险等级,客户经理,开户日期\n1,a,,,,,\n")
    with pytest.raises(ImportFileError, match=r"缺少必需的列：资产（assets）"):
        run_clients(world, path)


def test_english_headers_gbk_and_fullwidth(world, tmp_path):
    path = csv_file(
        tmp_path,
        "client_no,name,phone,id_number,risk_level,assets,manager,opened_on\n"
        '４０００００１,　王　五　,１３９０００００００１,,Ｃ２,"１，０００",manager1,２０２０年１月２日\n',
        encoding="gbk",
    )
    result = run_clients(world, path)
    assert result.errors == []
    client = Client.objects.get(client_no="4000001")
    assert client.name == "王 五" and client.phone == "13900000001" and client.risk_level == "C2"
    assert client.total_assets == Decimal("1000.00") and client.opened_on == dt.date(2020, 1, 2)


def test_xlsx_client_numbers_as_numbers_and_serial_dates(world, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(CLIENT_HEADER.split(","))
    ws.append([40000001, "赵一", 13900000001, "310101199001010011", 3, 1234567.891, "manager1", 43832])
    path = tmp_path / "c.xlsx"
    wb.save(path)
    result = run_clients(world, path)
    assert result.errors == []
    client = Client.objects.get(client_no="40000001")
    assert client.opened_on == dt.date(2020, 1, 2) and client.total_assets == Decimal("1234567.89")


def test_skip_invalid_imports_the_rest(world, tmp_path):
    path = csv_file(tmp_path, f"{CLIENT_HEADER}\n40000001,赵一,,,C3,1,,\n40000002,,,,C3,1,,\n")
    result = run_clients(world, path, skip_invalid=True)
    assert result.committed and result.bad_rows == 1 and result.counts.created == 1
    assert result.errors == [RowError(3, "姓名", "", "不能为空")]


def test_dry_run_counts_but_writes_nothing(world, tmp_path):
    path = csv_file(
        tmp_path, f"{CLIENT_HEADER}\n{world.client_m1.client_no},张三,,,C3,1,,\n40000001,赵一,,,C3,1,,\n"
    )
    before = state()
    result = run_clients(world, path, dry_run=True)
    assert state() == before
    assert (result.counts.created, result.counts.updated) == (1, 1)


# --- holdings ----------------------------------------------------------------------------------------------

HOLDING_HEADER = "客户号,证券代码,证券名称,持仓数量,成本价,日期"


def test_holdings_replace_positions_and_audit(world, tmp_path):
    client = world.client_m1
    maotai = security(code="600519", exchange="SH", name="贵州茅台")
    pingan = security(code="000001", exchange="SZ", name="平安银行")
    index = security(code="000001", exchange="SH", name="上证指数", kind="index")
    old = security(code="601318", exchange="SH", name="中国平安")
    holding(client=client, security=old, quantity=500)
    holding(client=client, security=maotai, quantity=100)
    other = holding(client=world.client_m2, security=old, quantity=700)
    path = csv_file(
        tmp_path,
        f"{HOLDING_HEADER}\n"
        f'{client.client_no},600519,,"1,200",1650.5,2026-11-20\n'
        f"{client.client_no},1,,3000,10.2,2026-11-20\n"
        f"{client.client_no},830799,艾融软件,100,20,2026-11-20\n",
        name="holdings.csv",
    )
    result = run_holdings(world, path)
    assert result.committed and result.errors == []
    assert (result.counts.created, result.counts.updated) == (3, 1)
    positions = {
        h.security.code + h.security.exchange: (h.quantity, h.cost_price) for h in client.holdings.all()
    }
    assert positions == {
        "600519SH": (1200, Decimal("1650.5000")),
        "000001SZ": (3000, Decimal("10.2000")),
        "830799BJ": (100, Decimal("20.0000")),
    }
    assert not Holding.objects.filter(security=index).exists()
    new_sec = Security.objects.get(code="830799")
    assert new_sec.exchange == "BJ" and new_sec.name == "艾融软件" and new_sec.risk_rating == "R3"
    other.refresh_from_db()
    assert other.quantity == 700  # clients not in the file keep their positions
    log = AuditLog.objects.get(action="holdings.import", object_type="clients.client")
    assert log.object_id == str(client.pk)
    assert log.changes["holdings"][0] == {"601318": [500, "10.0000"], "600519": [100, "10.0000"]}
    assert log.changes["holdings"][1]["600519"] == [1200, "1650.5000"]
    assert AuditLog.objects.filter(action="holdings.import", object_type="file").count() == 1
    assert audit_chain_verify().ok
    assert pingan.holdings.count() == 1


def test_holdings_quantity_zero_removes_position(world, tmp_path):
    sec = security(code="600519", exchange="SH")
    holding(client=world.client_m1, security=sec, quantity=100)
    path = csv_file(tmp_path, f"{HOLDING_HEADER}\n{world.client_m1.client_no},600519,,0,0,2026-11-20\n")
    result = run_holdings(world, path)
    assert result.committed and not world.client_m1.holdings.exists()


def test_holdings_unknown_client_or_security_refused(world, tmp_path):
    security(code="600519", exchange="SH")
    holding(client=world.client_m1)
    path = csv_file(
        tmp_path,
        f"{HOLDING_HEADER}\n"
        f"{world.client_m1.client_no},600519,,100,10,2026-11-20\n"
        f"{world.client_b2.client_no},600519,,100,10,2026-11-20\n"
        f"{world.client_m1.client_no},688999,,100,10,2026-11-20\n"
        f"{world.client_m1.client_no},600519.SH,,100,10,2026-11-20\n",
    )
    before = state()
    result = run_holdings(world, path)
    assert state() == before
    assert result.errors == [
        RowError(3, "客户号", world.client_b2.client_no, "客户号在本营业部不存在，请先导入客户资料"),
        RowError(4, "证券代码", "688999", "证券代码 688999 不存在；如为新证券请填写证券名称"),
        RowError(5, "证券代码", "600519.SH", "与第 2 行重复"),
    ]


def test_holdings_xlsx_numeric_code_padded(world, tmp_path):
    security(code="000002", exchange="SZ", name="万科A")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HOLDING_HEADER.split(","))
    ws.append([int(world.client_m1.client_no), 2, None, 1000, 8.5, dt.datetime(2026, 11, 20)])
    path = tmp_path / "h.xlsx"
    wb.save(path)
    result = run_holdings(world, path)
    assert result.errors == [] and world.client_m1.holdings.get().security.code == "000002"


# --- the CLI -----------------------------------------------------------------------------------------------


def test_cli_import_clients_success(world, tmp_path, capsys):
    path = csv_file(tmp_path, f"{CLIENT_HEADER}\n40000001,赵一,13900000001,,C3,1000,manager1,2020-01-02\n")
    call_command("import_clients", str(path), branch="B001", actor="director")
    out = capsys.readouterr().out
    assert "新增 1" in out and "更新 0" in out and "错误 0 行" in out and "行/秒" in out
    assert Client.objects.filter(client_no="40000001", branch=world.b1).exists()
    assert (
        AuditLog.objects.get(action="client.create", object_type="clients.client").actor_username
        == "director"
    )


def test_cli_bad_row_exits_nonzero_prints_errors_writes_nothing(world, tmp_path, capsys):
    path = csv_file(tmp_path, f"{CLIENT_HEADER}\n40000001,赵一,,,C3,1000,,\n40000002,钱二,,,C3,很多,,\n")
    before = state()
    with pytest.raises(CommandError, match="发现 1 行错误，未写入任何数据"):
        call_command("import_clients", str(path), branch="B001")
    assert state() == before
    err = capsys.readouterr().err
    assert "第 3 行「资产」：不是有效的数字（值：很多）" in err


def test_cli_exit_code_is_one(world, tmp_path):
    from django.core.management import ManagementUtility

    path = csv_file(tmp_path, f"{CLIENT_HEADER}\n40000002,钱二,,,C3,很多,,\n")
    with pytest.raises(SystemExit) as exc:
        ManagementUtility(["branchcare", "import_clients", str(path), "--branch", "B001"]).execute()
    assert exc.value.code == 1


def test_cli_dry_run_writes_nothing(world, tmp_path, capsys):
    path = csv_file(tmp_path, f"{CLIENT_HEADER}\n40000001,赵一,,,C3,1000,,\n")
    before = state()
    call_command("import_clients", str(path), branch="B001", dry_run=True)
    assert state() == before
    assert "预检完成" in capsys.readouterr().out


def test_cli_refuses_bad_file_branch_and_actor(world, tmp_path):
    path = csv_file(tmp_path, "")
    with pytest.raises(CommandError, match="文件为空"):
        call_command("import_clients", str(path), branch="B001")
    with pytest.raises(CommandError, match="营业部 B999 不存在"):
        call_command("import_clients", str(path), branch="B999")
    with pytest.raises(CommandError, match="操作人账号 ghost 不存在"):
        call_command("import_clients", str(path), branch="B001", actor="ghost")
    with pytest.raises(CommandError, match="文件不存在"):
        call_command("import_clients", str(tmp_path / "missing.csv"), branch="B001")


def test_cli_import_holdings(world, tmp_path, capsys):
    security(code="600519", exchange="SH")
    path = csv_file(tmp_path, f"{HOLDING_HEADER}\n{world.client_m1.client_no},600519,,100,10,2026-11-20\n")
    call_command("import_holdings", str(path), branch="B001")
    assert "写入持仓 1" in capsys.readouterr().out
    assert world.client_m1.holdings.count() == 1
    bad = csv_file(tmp_path, f"{HOLDING_HEADER}\n99999999,600519,,100,10,2026-11-20\n", name="bad.csv")
    with pytest.raises(CommandError):
        call_command("import_holdings", str(bad), branch="B001")
    assert world.client_m1.holdings.count() == 1
