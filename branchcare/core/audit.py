"""Audit records. Every service function that writes calls :func:`audit_log` inside its transaction.

The records form a hash chain (``AuditLog.prev_hash`` / ``AuditLog.hash``): every way of adding records
(``audit_log``, ``audit_bulk_append``, ``AuditLog.objects.create`` and ``.bulk_create``) chains them, and
:func:`audit_chain_verify` (``branchcare verify_audit``) detects a changed, deleted or reordered record.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain, islice
from typing import Any, cast

from django.db import connections, models, router, transaction
from django.utils import timezone

from .masking import mask_id_number, mask_phone
from .middleware import current_ip
from .models import AuditLog

# Field names whose values are personal data: stored masked in the audit log, so that the log does
# not become a second, unprotected copy of the data.
PERSONAL_FIELDS = {"phone": mask_phone, "id_number": mask_id_number}


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, Decimal | dt.date | dt.datetime):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """The current values of ``fields`` on ``obj`` (foreign keys as their ids)."""
    out: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        attname = getattr(field, "attname", name)
        out[name] = _jsonable(getattr(obj, attname))
    return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields whose value changed, personal data masked."""
    changes: dict[str, list[Any]] = {}
    for key in after:
        old, new = before.get(key), after[key]
        if old != new:
            masker = PERSONAL_FIELDS.get(key)
            if masker:
                old, new = masker(old), masker(new)
            changes[key] = [_jsonable(old), _jsonable(new)]
    return changes


def audit_log(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    object_repr: str | None = None,
    branch_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditLog:
    """Record that ``actor`` performed ``action`` on ``obj``. Call inside the writing transaction."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        if branch_id is None:
            branch_id = getattr(obj, "branch_id", None)
    actor_obj = actor if getattr(actor, "pk", None) else None
    return AuditLog.objects.create(
        actor=actor_obj,
        actor_username=getattr(actor, "username", "") or "system",
        action=action,
        object_type=object_type or "",
        object_id=object_id or "",
        object_repr=(object_repr or "")[:200],
        branch_id=branch_id,
        changes=changes or {},
        ip=current_ip(),
    )


def _entry_record(entry: Mapping[str, Any], *, now: dt.datetime, ip: str | None) -> AuditLog:
    actor = entry.get("actor")
    return AuditLog(
        created_at=entry.get("created_at") or now,
        actor_id=getattr(actor, "pk", None) or None,
        actor_username=getattr(actor, "username", "") or "system",
        action=entry["action"],
        object_type=entry.get("object_type") or "",
        object_id=str(entry.get("object_id") or ""),
        object_repr=str(entry.get("object_repr") or "")[:200],
        branch_id=entry.get("branch_id"),
        changes=entry.get("changes") or {},
        ip=entry.get("ip", ip),
    )


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


_COPY_COLUMNS = (
    "created_at", "actor_id", "actor_username", "action", "object_type", "object_id", "object_repr",
    "branch_id", "changes", "ip", "prev_hash", "hash",
)  # fmt: skip


def _copy_rows(
    entries: Iterable[Mapping[str, Any]], *, prev: str, now: dt.datetime, ip: str | None
) -> Iterator[tuple[tuple[Any, ...], str]]:
    """COPY rows for ``entries`` chained from ``prev``; yields ``(row, hash)``. The same normalisation
    as ``AuditLog.seal``, without building model instances (this path carries imports of millions of
    rows)."""
    ip_field = cast(models.GenericIPAddressField, AuditLog._meta.get_field("ip"))
    default_ip = ip_field.get_prep_value(ip) or None
    for entry in entries:
        actor = entry.get("actor")
        created_at = entry.get("created_at") or now
        if timezone.is_naive(created_at):
            created_at = timezone.make_aware(created_at)
        username = str(getattr(actor, "username", "") or "system")
        action = str(entry["action"])
        object_type = str(entry.get("object_type") or "")
        object_id = str(entry.get("object_id") or "")
        object_repr = str(entry.get("object_repr") or "")[:200]
        branch_id = entry.get("branch_id")
        branch_id = None if branch_id is None else int(branch_id)
        changes_text = json.dumps(entry.get("changes") or {}, ensure_ascii=False)
        entry_ip = (ip_field.get_prep_value(entry["ip"]) or None) if "ip" in entry else default_ip
        digest = AuditLog.compute_hash(
            created_at=created_at, actor_username=username, action=action, object_type=object_type,
            object_id=object_id, object_repr=object_repr, branch_id=branch_id,
            changes=json.loads(changes_text), ip=entry_ip, prev_hash=prev,
        )  # fmt: skip
        actor_id = getattr(actor, "pk", None) or None
        row = (created_at, actor_id, username, action, object_type, object_id, object_repr, branch_id,
               changes_text, entry_ip, prev, digest)  # fmt: skip
        yield row, digest
        prev = digest


def audit_bulk_append(entries: Iterable[Mapping[str, Any]], *, batch_size: int = 1000) -> int:
    """Append many audit records at once, chained in the order given; returns how many.

    Each entry holds ``actor``, ``action``, ``object_type``, ``object_id``, ``object_repr``,
    ``branch_id`` and ``changes`` (already masked, JSON-ready), optionally ``created_at`` and ``ip``
    (default: now and the request's IP). ``entries`` may be a generator; it is consumed in batches.
    On PostgreSQL the rows go in by ``COPY`` (under the chain lock, taken once there is a first entry),
    elsewhere by ``bulk_create``. Call inside the transaction of the change the records describe, as
    late in it as possible: on PostgreSQL other audited writes wait for the chain lock until it commits."""
    using = router.db_for_write(AuditLog)
    connection = connections[using]
    now = timezone.now()
    ip = current_ip()
    count = 0
    with transaction.atomic(using=using, savepoint=False):
        if connection.vendor != "postgresql":
            records = (_entry_record(e, now=now, ip=ip) for e in entries)
            for batch in _batches(records, batch_size):
                AuditLog.objects.using(using).bulk_create(batch)
                count += len(batch)
            return count
        iterator = iter(entries)
        first = next(iterator, None)
        if first is None:
            return 0
        prev = AuditLog.chain_tip(using=using)
        table = connection.ops.quote_name(AuditLog._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in _COPY_COLUMNS)
        rows = _copy_rows(chain([first], iterator), prev=prev, now=now, ip=ip)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row, _digest in rows:
                copy.write_row(row)
                count += 1
    return count


# ---------------------------------------------------------------------------------------------------------
# Verifying the chain
# ---------------------------------------------------------------------------------------------------------

_VERIFY_FIELDS = (
    "pk", "created_at", "actor_username", "action", "object_type", "object_id", "object_repr",
    "branch_id", "changes", "ip", "prev_hash", "hash",
)  # fmt: skip


@dataclass
class ChainReport:
    """What :func:`audit_chain_verify` found. ``ok`` is False at the first broken link, which is
    ``broken_id`` (the record whose check failed) with ``problem`` saying what differs."""

    ok: bool
    count: int  # records read (up to and including the broken one)
    head_id: int | None = None  # the last record found intact, and its hash: note it as the next anchor
    head_hash: str = ""
    broken_id: int | None = None
    problem: str = ""


def audit_chain_verify(
    *,
    batch_size: int = 5000,
    anchors: Mapping[int, str] | None = None,
    using: str = "default",
) -> ChainReport:
    """Walk the audit chain in id order, ``batch_size`` records per query (constant memory, so it works
    for millions of records), recomputing every hash.

    ``anchors`` maps record ids to hashes noted earlier (e.g. the head printed by a previous run and kept
    outside the database): a missing anchor record or a different hash there is a broken link too. That is
    how deleting the newest records is caught, which the chain by itself cannot show."""
    anchor_ids = sorted((anchors or {}).keys())
    next_anchor = 0  # index into anchor_ids of the first anchor not yet passed
    expected_prev = AuditLog.GENESIS_HASH
    count = 0
    last_id = 0
    qs = AuditLog._base_manager.using(using).order_by("pk")

    def broken(pk: int, problem: str) -> ChainReport:
        return ChainReport(
            ok=False, count=count, head_id=last_id or None, head_hash=expected_prev if last_id else "",
            broken_id=pk, problem=problem,
        )  # fmt: skip

    while True:
        rows = list(qs.filter(pk__gt=last_id).values_list(*_VERIFY_FIELDS)[:batch_size])
        if not rows:
            break
        for pk, created_at, username, action, otype, oid, orepr, branch_id, changes, ip, prev, digest in rows:
            count += 1
            if next_anchor < len(anchor_ids) and anchor_ids[next_anchor] < pk:
                return broken(
                    anchor_ids[next_anchor], f"锚点记录 #{anchor_ids[next_anchor]} 不存在（已被删除）"
                )
            if prev != expected_prev:
                where = f"上一条记录 #{last_id}" if last_id else "链首（创世值）"
                return broken(pk, f"prev_hash 与{where}的 hash 不符：其间的记录被删除、插入或调换了顺序")
            computed = AuditLog.compute_hash(
                created_at=created_at, actor_username=username, action=action, object_type=otype,
                object_id=oid, object_repr=orepr, branch_id=branch_id, changes=changes, ip=ip, prev_hash=prev,
            )  # fmt: skip
            if digest != computed:
                return broken(
                    pk, "记录内容与其 hash 不符：记录被修改" if digest else "记录没有 hash：未经审计链写入"
                )
            if next_anchor < len(anchor_ids) and anchor_ids[next_anchor] == pk:
                if anchors[pk] != digest:  # type: ignore[index]
                    return broken(pk, f"记录 #{pk} 的 hash 与锚点不符：自锚点以来审计链被改写")
                next_anchor += 1
            expected_prev = digest
            last_id = pk
    if next_anchor < len(anchor_ids):
        return broken(anchor_ids[next_anchor], f"锚点记录 #{anchor_ids[next_anchor]} 不存在（已被删除）")
    return ChainReport(
        ok=True, count=count, head_id=last_id or None, head_hash=expected_prev if last_id else ""
    )
