"""Imports of clients and holdings from counter-system exports: the declarations and the commit services.

Both are :class:`~branchcare.core.imports.ImportSpec` s registered with the core import framework, which
reads and validates the file; the ``commit`` methods here are the service functions that write, called by
:func:`branchcare.core.imports.run_import` inside one transaction.

*Clients* are upserted by ``client_no`` within the branch. Only the columns present in the file are
written (an export without 备注 does not wipe notes); pinyin, phone tail and tier are derived; a row equal
to what is stored is not written at all. Every created client gets a ``client.create`` audit record and
every changed client a ``client.import`` record with its masked field diff, so both show on the client's
timeline.

*Holdings* replace the positions of every client listed in the file (a quantity of 0 removes one); an
unknown security code is accepted only with its name, and is then created with the exchange inferred from
the code. Each client gets a ``holdings.import`` audit record with its positions before and after.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branchcare.core import events, imports
from branchcare.core.audit import PERSONAL_FIELDS, audit_bulk_append, diff
from branchcare.core.imports import (
    CellError,
    Column,
    Counts,
    ImportSpec,
    Row,
    clean_text,
    parse_bool,
    parse_choice,
    parse_date,
    parse_decimal,
    parse_int,
    parse_text,
)
from branchcare.org.models import Branch, User

from .models import Client, Holding, Security
from .pinyin import name_pinyin
from .services import AUDITED_FIELDS
from .tiers import tier_for

#: Staff roles that may own clients (客户经理, 经纪人).
MANAGER_ROLES = ("manager", "broker")


def _lookup_batch() -> int:
    """Keys per ``IN (...)`` lookup: SQLite builds may cap bound variables lower than PostgreSQL."""
    return 900 if connection.vendor == "sqlite" else 5000


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# ---------------------------------------------------------------------------------------------------------
# Parsers of client fields
# ---------------------------------------------------------------------------------------------------------

_CLIENT_NO = re.compile(r"[0-9A-Za-z]{1,20}")
_ID_NUMBER = re.compile(r"[0-9A-Z]{5,32}")
_PHONE_JUNK = re.compile(r"[\s\-()（）]")
_ID_JUNK = re.compile(r"[\s\-]")
_MOBILE = re.compile(r"1[3-9]\d{9}")


def parse_client_no(value: Any) -> str:
    """A client number: letters and digits, at most 20 (``31000001.0`` from Excel becomes ``31000001``)."""
    text = clean_text(value).replace(" ", "").upper()
    if not _CLIENT_NO.fullmatch(text):
        raise CellError(_("客户号只能包含数字和字母，最长 20 位"))
    return text


def parse_phone(value: Any) -> str:
    """Phone digits only: spaces, dashes and brackets removed, a +86/0086 prefix dropped; 5–20 digits;
    a number starting with 1 must be an 11-digit mainland mobile number."""
    text = clean_text(value)
    digits = _PHONE_JUNK.sub("", text)
    if digits.startswith("+"):
        digits = digits[1:]
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not digits.isdigit() or not 5 <= len(digits) <= 20:
        raise CellError(_("手机号码格式不正确"))
    if digits.startswith("1") and not _MOBILE.fullmatch(digits):
        raise CellError(_("手机号码应为 11 位"))
    return digits


def parse_id_number(value: Any) -> str:
    """An ID, passport or permit number: letters and digits, 5–32. A number Excel turned into a float has
    already lost its last digits and is refused."""
    if isinstance(value, float) or (isinstance(value, int) and len(str(value)) > 15):
        raise CellError(_("证件号码被 Excel 存成了数字，末几位可能已丢失：请把该列设为文本格式后重新导出"))
    text = _ID_JUNK.sub("", clean_text(value)).upper()
    if not _ID_NUMBER.fullmatch(text):
        raise CellError(_("证件号码格式不正确"))
    return text


_RISK_WORDS = {"保守": "C1", "谨慎": "C2", "稳健": "C3", "积极": "C4", "激进": "C5"}


def parse_risk_level(value: Any) -> str:
    """C1..C5, 1..5 or 保守型/谨慎型/稳健型/积极型/激进型 (also ``C3 稳健型``)."""
    text = clean_text(value).upper().replace(" ", "")
    if m := re.fullmatch(r"C?([1-5])(?:级)?[-_()（）]?(?:保守|谨慎|稳健|积极|激进)?型?\)?", text):
        return f"C{m[1]}"
    word = text.removesuffix("型")
    if word in _RISK_WORDS:
        return _RISK_WORDS[word]
    raise CellError(_("风险等级应为 C1–C5、1–5 或 保守型/谨慎型/稳健型/积极型/激进型"))


def parse_commission_rate(value: Any) -> Decimal:
    """Commission rate in ‰ (``0.25`` = 万分之二点五); ``0.25‰``, ``0.025%`` and ``万2.5`` also accepted."""
    text = clean_text(value).replace(" ", "")
    scale = Decimal(1)
    if text.endswith("‰"):
        text = text[:-1]
    elif text.endswith("%"):
        text, scale = text[:-1], Decimal(10)
    elif text.startswith("万分之") or text.startswith("万"):
        text, scale = text.removeprefix("万分之").removeprefix("万"), Decimal("0.1")
    number = parse_decimal(max_digits=12, places=8, min_value=0)(text)
    rate = (number * scale).quantize(Decimal("0.0001"))
    if rate >= 100:
        raise CellError(_("佣金率过大（以 ‰ 计）"))
    return rate


# ---------------------------------------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------------------------------------

#: Import keys that are not model field names.
_CLIENT_FIELD = {"manager": "manager_id"}
_DERIVED = ("name_pinyin", "name_initials", "phone_tail", "tier")
#: Dates that cannot lie in the future.
_PAST_DATES = ("opened_on", "birthday", "risk_assessed_on")


@dataclass
class ClientImportContext:
    branch: Branch
    actor: Any
    present: frozenset[str]
    managers: dict[str, int]  # username -> pk of eligible staff
    managers_ci: dict[str, int | None]  # lower-cased username -> pk (None when ambiguous)
    managers_by_name: dict[str, int | None]  # staff name -> pk (None when two share it)
    manager_errors: dict[str, str] = field(default_factory=dict)


class ClientImportSpec(ImportSpec):
    """客户资料导入: upsert clients of one branch by 客户号."""

    kind = "clients"
    label = gettext_lazy("客户资料")
    audit_action = "client.import"
    unique_together = ("client_no",)
    columns = (
        Column(
            "client_no",
            gettext_lazy("客户号"),
            english="client_no",
            aliases=("客户编号", "客户代码"),
            required=True,
            allow_blank=False,
            parse=parse_client_no,
            example="31000001",
            text_format=True,
            help=gettext_lazy("本营业部内唯一；已存在则更新，否则新建"),
        ),
        Column(
            "name",
            gettext_lazy("姓名"),
            english="name",
            aliases=("客户姓名", "客户名称"),
            required=True,
            allow_blank=False,
            parse=parse_text(max_length=50),
            example="张三",
        ),
        Column(
            "phone",
            gettext_lazy("手机"),
            english="phone",
            aliases=("手机号", "手机号码", "mobile", "联系电话"),
            required=True,
            default="",
            parse=parse_phone,
            example="13812345678",
            text_format=True,
        ),
        Column(
            "id_number",
            gettext_lazy("证件号码"),
            english="id_number",
            aliases=("证件号", "身份证号", "身份证号码", "id_no"),
            required=True,
            default="",
            parse=parse_id_number,
            example="310101199001011234",
            text_format=True,
            help=gettext_lazy("请设为文本格式，否则 Excel 会丢失末几位"),
        ),
        Column(
            "risk_level",
            gettext_lazy("风险等级"),
            english="risk_level",
            aliases=("风险承受能力", "客户风险等级"),
            required=True,
            default="",
            parse=parse_risk_level,
            example="C3",
            help=gettext_lazy("C1–C5、1–5 或 保守型/谨慎型/稳健型/积极型/激进型"),
        ),
        Column(
            "total_assets",
            gettext_lazy("资产"),
            english="assets",
            aliases=("总资产", "资产总额", "total_assets"),
            required=True,
            default=Decimal("0.00"),
            parse=parse_decimal(max_digits=16, places=2, min_value=0),
            example="1,234,567.89",
            help=gettext_lazy("单位：元；可带千位分隔符；客户层级按本营业部门槛自动计算"),
        ),
        Column(
            "manager",
            gettext_lazy("客户经理"),
            english="manager",
            aliases=("客户经理账号", "经理"),
            required=True,
            default=None,
            parse=parse_text(max_length=150),
            example="manager1",
            help=gettext_lazy("员工账号（用户名），须为本营业部在职的客户经理或经纪人；留空表示未分配"),
        ),
        Column(
            "opened_on",
            gettext_lazy("开户日期"),
            english="opened_on",
            aliases=("开户时间",),
            required=True,
            default=None,
            parse=parse_date,
            example="2020-01-02",
            help=gettext_lazy("2026-11-25、2026/11/25、20261125、2026年11月25日 或 Excel 日期"),
        ),
        Column(
            "gender",
            gettext_lazy("性别"),
            english="gender",
            default="",
            parse=parse_choice(
                {"男": "M", "M": "M", "male": "M", "女": "F", "F": "F", "female": "F", "未知": ""},
                hint=gettext_lazy("性别应为 男/女 或 M/F"),
            ),
            example="男",
        ),
        Column("birthday", gettext_lazy("出生日期"), english="birthday", aliases=("生日",), parse=parse_date),
        Column(
            "status",
            gettext_lazy("状态"),
            english="status",
            aliases=("账户状态", "客户状态"),
            default=Client.Status.ACTIVE,
            parse=parse_choice(
                {
                    "正常": "active",
                    "active": "active",
                    "休眠": "dormant",
                    "dormant": "dormant",
                    "销户": "closed",
                    "已销户": "closed",
                    "closed": "closed",
                },
                hint=gettext_lazy("状态应为 正常/休眠/销户 或 active/dormant/closed"),
            ),
            example="正常",
        ),
        Column(
            "risk_assessed_on",
            gettext_lazy("风险测评日期"),
            english="risk_assessed_on",
            aliases=("测评日期", "风险测评时间"),
            parse=parse_date,
        ),
        Column(
            "is_premium",
            gettext_lazy("高端客户"),
            english="premium",
            aliases=("is_premium", "是否高端客户"),
            default=False,
            parse=parse_bool,
            example="否",
        ),
        Column(
            "commission_rate",
            gettext_lazy("佣金率"),
            english="commission_rate",
            parse=parse_commission_rate,
            example="0.25",
            help=gettext_lazy("以 ‰ 计，0.25 表示万分之二点五"),
        ),
        Column("notes", gettext_lazy("备注"), english="notes", default="", parse=parse_text(max_length=2000)),
    )

    def prepare(self, *, branch: Branch, actor: Any, present: frozenset[str]) -> ClientImportContext:
        staff = list(
            User.objects.filter(branch=branch, is_active=True, roles__code__in=MANAGER_ROLES)
            .distinct()
            .values_list("pk", "username", "name")
        )
        by_ci: dict[str, int | None] = {}
        by_name: dict[str, int | None] = {}
        for pk, username, name in staff:
            by_ci[username.lower()] = pk if username.lower() not in by_ci else None
            if name:
                by_name[name] = pk if name not in by_name else None
        return ClientImportContext(
            branch=branch,
            actor=actor,
            present=present,
            managers={username: pk for pk, username, _n in staff},
            managers_ci=by_ci,
            managers_by_name=by_name,
        )

    def _resolve_manager(self, ref: str, ctx: ClientImportContext) -> int | str:
        """The manager's pk, or the Chinese reason why ``ref`` cannot be one."""
        for table, key in ((ctx.managers, ref), (ctx.managers_ci, ref.lower()), (ctx.managers_by_name, ref)):
            pk = table.get(key)
            if pk is not None:
                return pk
        if ref not in ctx.manager_errors:
            if User.objects.filter(username=ref).exists():
                ctx.manager_errors[ref] = _("%(user)s 不是本营业部在职的客户经理或经纪人") % {"user": ref}
            else:
                ctx.manager_errors[ref] = _("客户经理账号 %(user)s 不存在") % {"user": ref}
        return ctx.manager_errors[ref]

    def check_batch(self, rows: list[Row], ctx: ClientImportContext) -> None:
        today = timezone.localdate()
        for row in rows:
            values = row.values
            ref = values.get("manager")
            if ref:
                resolved = self._resolve_manager(ref, ctx)
                if isinstance(resolved, str):
                    row.error("manager", resolved)
                else:
                    values["manager"] = resolved
            for key in _PAST_DATES:
                date = values.get(key)
                if date is not None and date > today:
                    row.error(key, _("日期不能晚于今天"))
            birthday, opened = values.get("birthday"), values.get("opened_on")
            if birthday and opened and opened < birthday:
                row.error("opened_on", _("开户日期早于出生日期"))

    def preview_counts(self, batches: Iterable[list[dict[str, Any]]], ctx: ClientImportContext) -> Counts:
        """How many client numbers are new and how many exist already (the latter may turn out unchanged)."""
        counts = Counts()
        for records in batches:
            for part in _chunks([r["client_no"] for r in records], _lookup_batch()):
                found = Client.objects.filter(branch=ctx.branch, client_no__in=part).count()
                counts.updated += found
                counts.created += len(part) - found
        return counts

    def commit(self, batches: Iterable[list[dict[str, Any]]], ctx: ClientImportContext) -> Counts:
        """Upsert the clients (see :func:`clients_import_commit`)."""
        return clients_import_commit(batches=batches, ctx=ctx)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal | dt.date):
        return str(value)
    return value


def _created_changes(after: dict[str, Any]) -> dict[str, list[Any]]:
    """``diff({}, after)`` (personal data masked) without its generality: the audit of a created client."""
    changes: dict[str, list[Any]] = {}
    for key, new in after.items():
        if new is None:
            continue
        masker = PERSONAL_FIELDS.get(key)
        changes[key] = ["", masker(new)] if masker else [None, _jsonable(new)]
    return changes


def _stored_clients(branch: Branch, nos: list[str], fields: list[str]) -> list[tuple[Any, ...]]:
    """The stored rows (``fields``) of the given client numbers, locked for the commit."""
    if not imports.copy_available():
        return list(
            Client.objects.select_for_update()
            .filter(branch=branch, client_no__in=nos)
            .values_list(*fields)
            .order_by()
        )
    # One array parameter instead of thousands of literals in an IN list.
    columns = ", ".join("id" if f == "pk" else connection.ops.quote_name(f) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {Client._meta.db_table} "  # noqa: S608 - identifiers from the model
            "WHERE branch_id = %s AND client_no = ANY(%s) FOR UPDATE",
            [branch.pk, nos],
        )
        return cursor.fetchall()


def _client_columns() -> tuple[list[str], dict[str, Any]]:
    """The columns an upsert writes (every concrete field but the id and the seat) and their defaults."""
    fields = [f for f in Client._meta.concrete_fields if not f.primary_key and f.attname != "seat_id"]
    return [f.attname for f in fields], {f.attname: f.get_default() for f in fields}


def _clients_upsert(rows: list[dict[str, Any]], *, columns: list[str], update: list[str]) -> dict[str, int]:
    """Write new and changed client rows in one upsert on (branch, client_no); ``{client_no: pk}``.

    PostgreSQL: COPY into a staging table and one ``INSERT … ON CONFLICT … RETURNING``. Elsewhere:
    ``bulk_create(update_conflicts=True)``, re-reading the ids when the backend does not return them."""
    if imports.copy_available():
        # JSON columns go as text; imports never set tags, so they keep their default.
        tags = columns.index("tags")
        empty = json.dumps(Client._meta.get_field("tags").get_default())
        tuples = (
            (*(row[c] for c in columns[:tags]), empty, *(row[c] for c in columns[tags + 1 :])) for row in rows
        )
        returned = imports.copy_upsert(
            Client,
            columns,
            tuples,
            conflict=["branch_id", "client_no"],
            update=update,
            returning=["id", "client_no"],
        )
        return {no: pk for pk, no in returned}
    objs = [Client(**row) for row in rows]
    Client.objects.bulk_create(
        objs,
        update_conflicts=True,
        unique_fields=["branch", "client_no"],
        update_fields=[c.removesuffix("_id") if c == "manager_id" else c for c in update],
    )
    ids = {o.client_no: o.pk for o in objs if o.pk is not None}
    if len(ids) < len(objs):  # backends that cannot return ids from an upsert
        ids = dict(
            Client.objects.filter(
                branch_id=rows[0]["branch_id"], client_no__in=[r["client_no"] for r in rows]
            ).values_list("client_no", "pk")
        )
    return ids


def clients_import_commit(*, batches: Iterable[list[dict[str, Any]]], ctx: ClientImportContext) -> Counts:
    """Upsert validated client records into ``ctx.branch``; call inside ``transaction.atomic``.

    Per chunk: the stored rows are read (``FOR UPDATE`` on PostgreSQL) and each record is compared with its
    stored row on the columns the file holds; new and changed clients are written with one upsert on
    (branch, client_no) — unchanged ones are not touched — with derived pinyin, phone tail and tier, and
    the version bumped. Audit records (``client.create`` with the new values, ``client.import`` with the
    field diff; personal data masked) are spooled and appended to the audit chain at the end.
    """
    branch = ctx.branch
    keys = [k for k in (c.key for c in ClientImportSpec.columns) if k in ctx.present and k != "client_no"]
    attnames = [_CLIENT_FIELD.get(k, k) for k in keys]
    pairs = list(zip(keys, attnames, strict=True))
    load_fields = ["pk", "client_no", "version", *_DERIVED, *attnames]
    columns, defaults = _client_columns()
    update = [*attnames, *_DERIVED, "version", "updated_at"]
    audited = [(k, _CLIENT_FIELD.get(k, k)) for k in keys if k in AUDITED_FIELDS]
    large, medium = branch.large_threshold, branch.medium_threshold
    now = timezone.now()
    counts = Counts()
    audits = imports.Spool()
    created_ids: list[int] = []
    risk_changes: list[tuple[int, Any, Any]] = []
    for records in batches:
        for part in _chunks(records, _lookup_batch()):
            stored = {
                row[1]: row for row in _stored_clients(branch, [r["client_no"] for r in part], load_fields)
            }
            rows: list[dict[str, Any]] = []
            pending: list[tuple[str, str, dict[str, Any]]] = []  # (client_no, action, changes)
            for rec in part:
                no = rec["client_no"]
                row = dict(defaults)
                for key, att in pairs:
                    row[att] = rec[key]
                row["branch_id"], row["client_no"] = branch.pk, no
                row["created_at"] = row["updated_at"] = now
                old = stored.get(no)
                if old is None:
                    row["name_pinyin"], row["name_initials"] = name_pinyin(row["name"])
                    row["phone_tail"] = _phone_tail(row["phone"])
                    row["tier"] = tier_for(row["total_assets"] or Decimal(0), large=large, medium=medium)
                    after = {"client_no": no}
                    for key, att in audited:
                        after[key] = row[att]
                    after["tier"] = row["tier"]
                    rows.append(row)
                    pending.append((no, "client.create", _created_changes(after)))
                    continue
                old_values = dict(zip(load_fields, old, strict=True))
                for key in _DERIVED:
                    row[key] = old_values[key]
                if "name" in rec and rec["name"] != old_values["name"]:
                    row["name_pinyin"], row["name_initials"] = name_pinyin(rec["name"])
                if "phone" in rec:
                    row["phone_tail"] = _phone_tail(rec["phone"])
                if "total_assets" in rec:
                    row["tier"] = tier_for(rec["total_assets"], large=large, medium=medium)
                before = {key: old_values[att] for key, att in audited}
                after = {key: row[att] for key, att in audited}
                before["tier"], after["tier"] = old_values["tier"], row["tier"]
                changes = diff(before, after)
                if not changes and all(row[k] == old_values[k] for k in _DERIVED):
                    counts.unchanged += 1
                    continue
                row["version"] = old_values["version"] + 1
                rows.append(row)
                pending.append((no, "client.import", changes))
            if not rows:
                continue
            ids = _clients_upsert(rows, columns=columns, update=update)
            entries = []
            for row, (no, action, changes) in zip(rows, pending, strict=True):
                if action == "client.create":
                    counts.created += 1
                    created_ids.append(ids[no])
                else:
                    counts.updated += 1
                    if "risk_level" in changes:
                        risk_changes.append((ids[no], *changes["risk_level"]))
                entries.append(
                    {
                        "action": action,
                        "object_type": "clients.client",
                        "object_id": str(ids[no]),
                        "object_repr": f"{no} {row['name']}",
                        "branch_id": branch.pk,
                        "changes": changes,
                    }
                )
            audits.append(entries)
    _append_audits(audits, ctx.actor)
    if created_ids:
        events.publish(
            "clients.created", client_ids=created_ids, branch_id=branch.pk, actor=ctx.actor, source="import"
        )
    if risk_changes:
        events.publish("clients.risk_level_changed", changes=risk_changes, actor=ctx.actor)
    return counts


def _append_audits(audits: imports.Spool, actor: Any) -> None:
    """Append the spooled audit entries to the audit chain, last thing in the commit: on PostgreSQL the
    chain's lock then blocks other writers only for this final step, not for the whole import."""
    try:
        audit_bulk_append({**entry, "actor": actor} for batch in audits for entry in batch)
    finally:
        audits.close()


def _phone_tail(phone: str | None) -> str:
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    return digits[-4:] if len(digits) >= 4 else ""


# ---------------------------------------------------------------------------------------------------------
# Holdings
# ---------------------------------------------------------------------------------------------------------

_EXCHANGE_SUFFIX = re.compile(r"(?:(SH|SZ|BJ)\.?)?(\d{6})(?:\.(SH|SZ|BJ|SS))?")


def infer_exchange(code: str) -> str | None:
    """The exchange a six-digit A-share code belongs to: 6/5/9 → SH, 0/3/1/2 → SZ, 8/4/92 → BJ."""
    if len(code) != 6 or not code.isdigit():
        return None
    if code.startswith(("92", "8", "4")):
        return Security.Exchange.BJ
    if code.startswith(("6", "5", "9")):
        return Security.Exchange.SH
    if code.startswith(("0", "3", "1", "2")):
        return Security.Exchange.SZ
    return None


def parse_security_code(value: Any) -> tuple[str, str]:
    """``(code, exchange)`` from ``600519``, ``1`` (Excel dropped the zeros: ``000001``), ``600519.SH`` or
    ``SH600519``. The exchange is the one written, else inferred from the code."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = clean_text(value).upper().replace(" ", "")
    if text.isdigit() and len(text) < 6:
        text = text.zfill(6)
    m = _EXCHANGE_SUFFIX.fullmatch(text)
    if not m:
        raise CellError(_("证券代码应为 6 位数字"))
    exchange = (m[1] or m[3] or "").replace("SS", "SH") or infer_exchange(m[2])
    if not exchange:
        raise CellError(_("无法根据代码判断交易所"))
    return m[2], exchange


@dataclass
class HoldingImportContext:
    branch: Branch
    actor: Any
    present: frozenset[str]
    securities: dict[str, list[tuple[int, str]]]  # code -> [(pk, exchange)]
    clients: dict[str, int] = field(default_factory=dict)  # client_no -> pk (known to exist)
    new_securities: dict[tuple[str, str], str] = field(default_factory=dict)  # (code, exchange) -> name
    positions: int = 0
    client_ids: set[int] = field(default_factory=set)


class HoldingImportSpec(ImportSpec):
    """持仓导入: replace the positions of each listed client."""

    kind = "holdings"
    label = gettext_lazy("持仓")
    audit_action = "holdings.import"
    unique_together = ("client_no", "security_code")
    count_labels = {"created": gettext_lazy("写入持仓"), "updated": gettext_lazy("涉及客户")}
    columns = (
        Column(
            "client_no",
            gettext_lazy("客户号"),
            english="client_no",
            aliases=("客户编号", "客户代码"),
            required=True,
            allow_blank=False,
            parse=parse_client_no,
            example="31000001",
            text_format=True,
            help=gettext_lazy("须为本营业部已有客户"),
        ),
        Column(
            "security_code",
            gettext_lazy("证券代码"),
            english="security_code",
            aliases=("代码", "股票代码"),
            required=True,
            allow_blank=False,
            parse=parse_security_code,
            example="600519",
            text_format=True,
            help=gettext_lazy("6 位代码，可写成 600519.SH；Excel 丢掉的前导 0 会自动补齐"),
        ),
        Column(
            "security_name",
            gettext_lazy("证券名称"),
            english="security_name",
            aliases=("名称", "股票名称"),
            default="",
            parse=parse_text(max_length=50),
            example="贵州茅台",
            help=gettext_lazy("系统中没有的证券代码须填写名称，将自动新建该证券"),
        ),
        Column(
            "quantity",
            gettext_lazy("持仓数量"),
            english="quantity",
            aliases=("数量", "股份余额", "持股数量"),
            required=True,
            allow_blank=False,
            parse=parse_int(min_value=0, max_value=10**15),
            example="1000",
            help=gettext_lazy("0 表示清仓"),
        ),
        Column(
            "cost_price",
            gettext_lazy("成本价"),
            english="cost_price",
            aliases=("成本", "参考成本价"),
            required=True,
            allow_blank=False,
            parse=parse_decimal(max_digits=14, places=4, min_value=0),
            example="1,650.50",
        ),
        Column(
            "as_of",
            gettext_lazy("日期"),
            english="as_of",
            aliases=("持仓日期", "日期"),
            required=True,
            allow_blank=False,
            parse=parse_date,
            example="2026-11-25",
        ),
    )

    def prepare(self, *, branch: Branch, actor: Any, present: frozenset[str]) -> HoldingImportContext:
        securities: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for pk, code, exchange in Security.objects.values_list("pk", "code", "exchange"):
            securities[code].append((pk, exchange))
        return HoldingImportContext(branch=branch, actor=actor, present=present, securities=dict(securities))

    def check_batch(self, rows: list[Row], ctx: HoldingImportContext) -> None:
        today = timezone.localdate()
        unknown = {row.values["client_no"] for row in rows} - ctx.clients.keys()
        for part in _chunks(sorted(unknown), _lookup_batch()):
            ctx.clients.update(
                Client.objects.filter(branch=ctx.branch, client_no__in=part).values_list("client_no", "pk")
            )
        for row in rows:
            values = row.values
            client_id = ctx.clients.get(values["client_no"])
            if client_id is None:
                row.error("client_no", _("客户号在本营业部不存在，请先导入客户资料"))
            else:
                values["client_id"] = client_id
            code, exchange = values["security_code"]
            known = ctx.securities.get(code, [])
            match = next((pk for pk, ex in known if ex == exchange), None)
            if match is None and len(known) == 1:
                match = known[0][0]
            if match is not None:
                values["security_id"] = match
            elif (code, exchange) in ctx.new_securities:
                values["security_id"] = None
            elif values.get("security_name"):
                ctx.new_securities[(code, exchange)] = values["security_name"]
                values["security_id"] = None
            else:
                row.error(
                    "security_code", _("证券代码 %(code)s 不存在；如为新证券请填写证券名称") % {"code": code}
                )
            if values["as_of"] > today:
                row.error("as_of", _("日期不能晚于今天"))
            if row.ok:
                ctx.client_ids.add(client_id)  # type: ignore[arg-type]
                ctx.positions += 1 if values["quantity"] > 0 else 0

    def preview_counts(self, batches: Iterable[list[dict[str, Any]]], ctx: HoldingImportContext) -> Counts:
        return Counts(created=ctx.positions, updated=len(ctx.client_ids))

    def commit(self, batches: Iterable[list[dict[str, Any]]], ctx: HoldingImportContext) -> Counts:
        """Replace positions (see :func:`holdings_import_commit`)."""
        return holdings_import_commit(batches=batches, ctx=ctx)


def holdings_import_commit(*, batches: Iterable[list[dict[str, Any]]], ctx: HoldingImportContext) -> Counts:
    """Replace the positions of every client in the records; call inside ``transaction.atomic``.

    Securities named in the file but unknown are created first (risk R3, exchange from the code). Then, per
    chunk of clients: their current positions are read (for the audit), deleted, and the file's positions
    with a quantity above 0 are bulk-inserted (``COPY`` on PostgreSQL); each client gets one
    ``holdings.import`` audit record, appended to the audit chain at the end.
    """
    if ctx.new_securities:
        Security.objects.bulk_create(
            [
                Security(code=code, exchange=exchange, name=name, risk_rating="R3")
                for (code, exchange), name in ctx.new_securities.items()
            ],
            ignore_conflicts=True,
        )
    sec_ids = {
        (code, exchange): pk
        for pk, code, exchange in Security.objects.filter(
            code__in={code for code, _e in ctx.new_securities}
        ).values_list("pk", "code", "exchange")
    }
    codes: dict[int, str] = {}
    positions: dict[int, list[tuple[int, int, Decimal, dt.date]]] = defaultdict(list)
    for records in batches:
        for rec in records:
            code, exchange = rec["security_code"]
            sec_id = rec["security_id"] or sec_ids[(code, exchange)]
            codes[sec_id] = code
            positions[rec["client_id"]].append((sec_id, rec["quantity"], rec["cost_price"], rec["as_of"]))
    counts = Counts()
    audits = imports.Spool()
    client_ids = sorted(positions)
    use_copy = imports.copy_available()
    for part in _chunks(client_ids, _lookup_batch()):
        clients = {
            pk: f"{no} {name}"
            for pk, no, name in Client.objects.select_for_update()
            .filter(pk__in=part)
            .values_list("pk", "client_no", "name")
            .order_by()
        }
        before: dict[int, dict[str, list[Any]]] = defaultdict(dict)
        for client_id, code, qty, cost in Holding.objects.filter(client_id__in=part).values_list(
            "client_id", "security__code", "quantity", "cost_price"
        ):
            before[client_id][code] = [qty, str(cost)]
        Holding.objects.filter(client_id__in=part).delete()
        new_rows: list[tuple[int, int, int, Decimal, dt.date]] = []
        entries = []
        for client_id in part:
            after: dict[str, list[Any]] = {}
            latest: dt.date | None = None
            for sec_id, qty, cost, as_of in positions[client_id]:
                latest = max(latest or as_of, as_of)
                if qty > 0:
                    new_rows.append((client_id, sec_id, qty, cost, as_of))
                    after[codes[sec_id]] = [qty, str(cost)]
            counts.created += len(after)
            counts.updated += 1
            entries.append(
                {
                    "action": "holdings.import",
                    "object_type": "clients.client",
                    "object_id": str(client_id),
                    "object_repr": clients[client_id],
                    "branch_id": ctx.branch.pk,
                    "changes": {
                        "holdings": [before.get(client_id, {}), after],
                        "as_of": [None, str(latest)],
                        "source": [None, "import"],
                    },
                }
            )
        if use_copy:
            imports.copy_insert(
                Holding, ["client_id", "security_id", "quantity", "cost_price", "as_of"], new_rows
            )
        else:
            Holding.objects.bulk_create(
                [
                    Holding(client_id=c, security_id=sec, quantity=q, cost_price=cost, as_of=d)
                    for c, sec, q, cost, d in new_rows
                ],
                batch_size=2000,
            )
        audits.append(entries)
    _append_audits(audits, ctx.actor)
    return counts


imports.register(ClientImportSpec())
imports.register(HoldingImportSpec())
