"""The audit log's hash chain: every way of writing chains, and tampering below the application
(raw SQL UPDATE / DELETE / swapped rows) is found by ``verify_audit``."""

from __future__ import annotations

import threading
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from branchcare.core.audit import audit_bulk_append, audit_chain_verify, audit_log
from branchcare.core.models import AuditLog

pytestmark = pytest.mark.django_db

TABLE = AuditLog._meta.db_table


def _write(n: int, **kwargs) -> list[AuditLog]:
    return [
        audit_log(
            actor=None,
            action="test.event",
            object_type="test",
            object_id=str(i),
            object_repr=f"记录 {i}",
            branch_id=kwargs.get("branch_id"),
            changes={"n": [None, i], "名称": ["旧", "新"]},
        )
        for i in range(n)
    ]


def _sql(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement.format(table=connection.ops.quote_name(TABLE)), params)


def _ids() -> list[int]:
    return list(AuditLog.objects.order_by("pk").values_list("pk", flat=True))


# --- writing -----------------------------------------------------------------------------------------


def test_audit_log_chains_each_record_to_the_one_before():
    records = _write(4)
    rows = list(AuditLog.objects.order_by("pk").values_list("pk", "prev_hash", "hash"))
    assert rows[0][1] == AuditLog.GENESIS_HASH
    for (_, _, before), (_, prev, digest) in zip(rows, rows[1:], strict=False):
        assert prev == before and len(digest) == 64
    assert [r.hash for r in records] == [h for _, _, h in rows]
    assert audit_chain_verify().ok


def test_the_hash_covers_the_content_and_not_the_id():
    record = _write(1)[0]
    assert record.hash == AuditLog.compute_hash(
        created_at=record.created_at,
        actor_username="system",
        action="test.event",
        object_type="test",
        object_id="0",
        object_repr="记录 0",
        branch_id=None,
        changes={"n": [None, 0], "名称": ["旧", "新"]},
        ip=None,
        prev_hash=AuditLog.GENESIS_HASH,
    )


def test_values_the_database_normalises_still_verify(world):
    """What comes back from the database (IPv6 spelling, JSON keys and numbers, time zone) hashes the same."""
    from branchcare.core.middleware import _current_ip

    # An int key (JSON makes it "1"), a tuple (a list), integral floats (jsonb may give ints back).
    changes: dict = {1: (1.0, 1e16, 0.25), "nested": {"b": [True, None], "a": "中文"}}
    token = _current_ip.set("2001:0db8:0000:0000:0000:0000:0000:0001")
    try:
        audit_log(actor=world["director"], action="test.normalise", obj=world.client_m1, changes=changes)
    finally:
        _current_ip.reset(token)
    record = AuditLog.objects.get(action="test.normalise")
    assert record.ip == "2001:db8::1"
    assert audit_chain_verify().ok


def test_bulk_create_chains_the_rows_in_order():
    _write(2)
    AuditLog.objects.bulk_create(
        [
            AuditLog(action="test.bulk", object_type="test", object_id=str(i), changes={"i": i})
            for i in range(5)
        ],
        batch_size=2,
    )
    assert AuditLog.objects.filter(action="test.bulk").exclude(hash="").count() == 5
    assert audit_chain_verify(batch_size=3).ok


def test_bulk_create_refuses_conflict_handling_and_existing_rows():
    with pytest.raises(PermissionError):
        AuditLog.objects.bulk_create([AuditLog(action="x", object_type="t")], ignore_conflicts=True)
    record = _write(1)[0]
    with pytest.raises(PermissionError):
        AuditLog.objects.bulk_create([record])
    assert AuditLog.objects.count() == 1


def test_audit_bulk_append_streams_entries_into_the_chain(world):
    _write(1)
    entries = (
        {
            "actor": world["director"],
            "action": "client.import",
            "object_type": "clients.client",
            "object_id": str(i),
            "object_repr": f"客户 {i}",
            "branch_id": world.b1.pk,
            "changes": {"phone": ["138****0000", "139****0000"]},
        }
        for i in range(7)
    )
    assert audit_bulk_append(entries, batch_size=3) == 7
    rows = AuditLog.objects.filter(action="client.import")
    assert rows.count() == 7
    assert set(rows.values_list("actor_username", flat=True)) == {"director"}
    assert audit_chain_verify(batch_size=2).ok


def test_audit_bulk_append_with_nothing_writes_nothing():
    assert audit_bulk_append(iter(())) == 0
    assert AuditLog.objects.count() == 0


def test_records_still_cannot_be_changed_or_deleted_through_the_application():
    record = _write(1)[0]
    with pytest.raises(PermissionError):
        record.save()
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=record.pk).update(action="x")
    with pytest.raises(PermissionError):
        AuditLog.objects.all().delete()
    assert audit_chain_verify().ok


# --- tampering below the application -----------------------------------------------------------------------


def test_an_edited_record_is_detected():
    _write(5)
    target = _ids()[2]
    _sql("UPDATE {table} SET object_repr = %s WHERE id = %s", ["篡改", target])
    report = audit_chain_verify()
    assert not report.ok
    assert report.broken_id == target
    assert "修改" in report.problem
    assert report.head_id == _ids()[1]


def test_an_edited_record_with_a_recomputed_hash_breaks_the_next_link():
    _write(5)
    ids = _ids()
    record = AuditLog.objects.get(pk=ids[2])
    forged = AuditLog.compute_hash(
        created_at=record.created_at,
        actor_username="someone-else",
        action=record.action,
        object_type=record.object_type,
        object_id=record.object_id,
        object_repr=record.object_repr,
        branch_id=record.branch_id,
        changes=record.changes,
        ip=record.ip,
        prev_hash=record.prev_hash,
    )
    _sql("UPDATE {table} SET actor_username = %s, hash = %s WHERE id = %s", ["someone-else", forged, ids[2]])
    report = audit_chain_verify()
    assert (report.ok, report.broken_id) == (False, ids[3])
    assert "prev_hash" in report.problem


@pytest.mark.parametrize("position", [0, 2])
def test_a_deleted_record_is_detected(position):
    _write(5)
    ids = _ids()
    _sql("DELETE FROM {table} WHERE id = %s", [ids[position]])
    report = audit_chain_verify()
    assert (report.ok, report.broken_id) == (False, ids[position + 1])
    assert "删除" in report.problem


def test_swapped_records_are_detected():
    _write(5)
    ids = _ids()
    a, b = ids[1], ids[3]
    # Swap the two rows' ids (the content moves with them), as an attacker reordering the log would.
    _sql("UPDATE {table} SET id = %s WHERE id = %s", [-1, a])
    _sql("UPDATE {table} SET id = %s WHERE id = %s", [a, b])
    _sql("UPDATE {table} SET id = %s WHERE id = %s", [b, -1])
    report = audit_chain_verify()
    assert (report.ok, report.broken_id) == (False, a)


def test_swapped_content_between_two_records_is_detected():
    _write(4)
    ids = _ids()
    first, second = AuditLog.objects.get(pk=ids[1]), AuditLog.objects.get(pk=ids[2])
    _sql("UPDATE {table} SET object_id = %s WHERE id = %s", [second.object_id, first.pk])
    _sql("UPDATE {table} SET object_id = %s WHERE id = %s", [first.object_id, second.pk])
    report = audit_chain_verify()
    assert (report.ok, report.broken_id) == (False, ids[1])


def test_deleting_the_newest_records_needs_an_anchor_to_be_seen():
    _write(5)
    ids = _ids()
    head = audit_chain_verify()
    assert (head.head_id, head.head_hash) == (ids[-1], AuditLog.objects.get(pk=ids[-1]).hash)
    _sql("DELETE FROM {table} WHERE id >= %s", [ids[3]])
    # The chain that is left is consistent in itself: only the noted head shows the loss.
    assert audit_chain_verify().ok
    assert head.head_id is not None
    report = audit_chain_verify(anchors={head.head_id: head.head_hash})
    assert (report.ok, report.broken_id) == (False, ids[-1])
    assert "锚点" in report.problem


def test_an_anchor_with_a_different_hash_is_detected():
    _write(3)
    ids = _ids()
    report = audit_chain_verify(anchors={ids[1]: "f" * 64})
    assert (report.ok, report.broken_id) == (False, ids[1])


def test_a_record_written_without_the_chain_is_detected():
    _write(2)
    _sql(
        "INSERT INTO {table} (created_at, actor_username, action, object_type, object_id, object_repr, changes, "
        "prev_hash, hash) VALUES (%s, 'x', 'forged', 't', '', '', '{{}}', '', '')",
        [AuditLog.objects.order_by("pk")[0].created_at],
    )
    report = audit_chain_verify()
    assert not report.ok and report.broken_id == _ids()[-1]


# --- the command -------------------------------------------------------------------------------------------


def test_verify_audit_reports_ok_with_the_count_and_head(capsys):
    _write(3)
    call_command("verify_audit", "--batch-size", "2")
    out = capsys.readouterr().out
    ids = _ids()
    assert out.startswith("OK 3 条审计记录")
    assert f"{ids[-1]}:{AuditLog.objects.get(pk=ids[-1]).hash}" in out


def test_verify_audit_on_an_empty_log_is_ok(capsys):
    call_command("verify_audit")
    assert capsys.readouterr().out.startswith("OK 0 条")


def test_verify_audit_fails_with_exit_code_1_at_the_first_broken_link():
    _write(4)
    ids = _ids()
    _sql("UPDATE {table} SET action = %s WHERE id = %s", ["篡改", ids[1]])
    _sql("DELETE FROM {table} WHERE id = %s", [ids[3]])
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit")
    assert exc.value.returncode == 1
    assert f"#{ids[1]}" in str(exc.value)


def test_verify_audit_checks_an_anchor_from_an_earlier_run(capsys):
    _write(3)
    call_command("verify_audit")
    anchor = capsys.readouterr().out.rsplit("：", 1)[1].strip()
    call_command("verify_audit", "--anchor", anchor)
    _sql("DELETE FROM {table} WHERE id = %s", [_ids()[-1]])
    with pytest.raises(CommandError):
        call_command("verify_audit", "--anchor", anchor)
    with pytest.raises(CommandError):
        call_command("verify_audit", "--anchor", "not-an-anchor")


# --- migration of existing records ---------------------------------------------------------------------------


def test_the_migration_chains_records_written_before_the_chain():
    from django.apps import apps

    _write(5)
    _sql("UPDATE {table} SET prev_hash = '', hash = ''", [])
    assert not audit_chain_verify().ok
    migration = import_module("branchcare.core.migrations.0006_audit_hash_chain")
    migration.chain_existing_records(apps, SimpleNamespace(connection=connection))
    assert audit_chain_verify().ok


# --- concurrency -------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_the_chain_linear():
    """Writers in parallel threads (each its own connection and transaction) must queue on the chain:
    otherwise two records would chain to the same predecessor."""
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memorydb"):
        pytest.skip("the in-memory SQLite test database has no WAL/IMMEDIATE locking; see bench note")
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(15):
                with transaction.atomic():
                    audit_log(actor=None, action="test.concurrent", object_type="t", object_id=f"{n}-{i}")
                    if i % 5 == 0:
                        AuditLog.objects.bulk_create(
                            [AuditLog(action="test.concurrent.bulk", object_type="t") for _ in range(3)]
                        )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert AuditLog.objects.count() == 6 * (15 + 3 * 3)
    assert audit_chain_verify(batch_size=50).ok
