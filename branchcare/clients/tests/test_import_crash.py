"""Crash safety of imports: ``branchcare import_clients`` killed with SIGKILL at any moment leaves either
none or all of the file's rows, and a background import job retried by Huey never writes twice.

The CLI runs as a real subprocess against a database of its own — a copy of the suite's test database (a
WAL file on SQLite; ``CREATE DATABASE … TEMPLATE`` on PostgreSQL, or ``migrate`` when the template is
busy), dropped afterwards. It is killed while validating, and while its single write transaction is open
(checked from outside: SQLite's write lock is held, or PostgreSQL shows the backend with a transaction id),
at several points; afterwards the rows are counted and the file imported again to completion.
"""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from django.db import connection, connections

from branchcare.clients.models import Client
from branchcare.core.models import AuditLog, ImportJob

ROOT = Path(__file__).resolve().parents[3]
ROWS = 20_000
SMALL = 2_000
HEADER = "客户号,姓名,手机,证件号码,风险等级,资产,客户经理,开户日期\n"
WRITE_PHASE = "正在写入数据库"
VALIDATE_PHASE = "正在校验数据"


def client_rows(n: int, start: int = 0) -> Iterator[str]:
    for i in range(start, start + n):
        yield (
            f"{46000000 + i},客户{i},139{i:08d},31010119900101{i % 10000:04d},C3,"
            f"{(i * 37) % 5_000_000}.00,,2020-01-02\n"
        )


def write_csv(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER)
        f.writelines(client_rows(n))
    return path


# --- a database for the subprocesses --------------------------------------------------------------------


@dataclass
class CrashDb:
    vendor: str
    url: str
    sqlite_path: Path | None = None
    pg: dict[str, Any] | None = None

    def _pg_connect(self, dbname: str | None = None) -> Any:
        import psycopg

        assert self.pg is not None
        params = {**self.pg, "dbname": dbname or self.pg["dbname"]}
        return psycopg.connect(autocommit=True, connect_timeout=10, **params)

    def scalar(self, sql: str, params: tuple = ()) -> Any:
        if self.vendor == "sqlite":
            db = sqlite3.connect(str(self.sqlite_path), timeout=20)
            try:
                return db.execute(sql.replace("%s", "?"), params).fetchone()[0]
            finally:
                db.close()
        with self._pg_connect() as db:
            return db.execute(sql, params).fetchone()[0]

    def counts(self) -> tuple[int, int]:
        """(clients, audit records) in the crash database."""
        return (
            self.scalar("SELECT COUNT(*) FROM clients_client"),
            self.scalar("SELECT COUNT(*) FROM core_auditlog"),
        )

    def writer_in_transaction(self) -> bool:
        """Whether some other connection has an open transaction that has written (or holds the write
        lock) — the importer's commit, since nothing else writes to this database."""
        if self.vendor == "sqlite":
            probe = sqlite3.connect(str(self.sqlite_path), timeout=0, isolation_level=None)
            try:
                probe.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                return "locked" in str(exc)
            else:
                probe.execute("ROLLBACK")
                return False
            finally:
                probe.close()
        return bool(
            self.scalar(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
                "AND backend_xid IS NOT NULL",
                (self.pg["dbname"],),  # type: ignore[index]
            )
        )

    def integrity_ok(self) -> bool:
        if self.vendor != "sqlite":
            return True
        return self.scalar("PRAGMA integrity_check") == "ok"


def _sqlite_copy(tmp: Path) -> CrashDb:
    path = tmp / "crash.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    return CrashDb("sqlite", f"sqlite:///{path}", sqlite_path=path)


def _pg_copy(env: dict[str, str]) -> CrashDb:
    settings = connection.settings_dict
    name = f"{settings['NAME']}_crash"[:63]
    pg = {
        "host": settings["HOST"] or "127.0.0.1",
        "port": settings["PORT"] or 5432,
        "user": settings["USER"],
        "password": settings["PASSWORD"] or None,
        "dbname": name,
    }
    pg = {k: v for k, v in pg.items() if v is not None}
    db = CrashDb("postgresql", "", pg=pg)
    user = f"{pg['user']}:{pg['password']}" if pg.get("password") else pg["user"]
    db.url = f"postgres://{user}@{pg['host']}:{pg['port']}/{name}"
    connections.close_all()  # a template must have no other session
    with db._pg_connect("postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        try:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{settings["NAME"]}"')
        except Exception:  # noqa: BLE001 - template in use: build it the slow way
            admin.execute(f'CREATE DATABASE "{name}"')
            run(
                [sys.executable, "-m", "branchcare", "migrate", "--noinput", "-v", "0"],
                {**env, "DATABASE_URL": db.url},
            )
    return db


def _pg_drop(db: CrashDb) -> None:
    with db._pg_connect("postgres") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{db.pg["dbname"]}" WITH (FORCE)')  # type: ignore[index]


def run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def crash_db(
    django_db_setup, django_db_blocker, tmp_path_factory
) -> Iterator[tuple[CrashDb, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("crash")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "BRANCHCARE_VAR_DIR": str(tmp / "var"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    with django_db_blocker.unblock():
        name = str(connection.settings_dict["NAME"])
        in_memory = connection.vendor == "sqlite" and cast(Any, connection).is_in_memory_db()
        # Never copy (or take as a template) anything but the suite's own test database.
        assert in_memory or Path(name).name.startswith("test"), f"not a test database: {name}"
        db = _sqlite_copy(tmp) if connection.vendor == "sqlite" else _pg_copy(env)
    env["DATABASE_URL"] = db.url
    setup = (
        "import django; django.setup()\n"
        "from branchcare.org.models import Branch, Company, User\n"
        "company, _ = Company.objects.get_or_create(name='崩溃测试证券')\n"
        "Branch.objects.get_or_create(code='B001', defaults={'company': company, 'name': '崩溃测试营业部'})\n"
        "User.objects.get_or_create(username='crash_director')\n"
    )
    run([sys.executable, "-c", setup], env)
    try:
        yield db, env
    finally:
        if db.vendor == "postgresql":
            with django_db_blocker.unblock():
                _pg_drop(db)


# --- the importer as a subprocess -------------------------------------------------------------------------


class Importer:
    """``branchcare import_clients FILE --branch B001 -v 2`` with its progress lines read as they come."""

    def __init__(self, path: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "branchcare", "import_clients", str(path), "--branch", "B001",
             "--actor", "crash_director", "-v", "2"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )  # fmt: skip
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        for stream in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, text: str, timeout: float = 60) -> bool:
        """Read progress until a line containing ``text``; False if the process ended first."""
        deadline = time.monotonic() + timeout
        ended = 0
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.05)
            except queue.Empty:
                continue
            if line is None:
                ended += 1
                if ended == 2:
                    return False
                continue
            self.output.append(line)
            if text in line:
                return True
        raise AssertionError(f"no {text!r} within {timeout} s: {''.join(self.output)[-2000:]}")

    def kill(self) -> int:
        alive = self.proc.poll() is None
        if alive:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        return -signal.SIGKILL if alive else self.proc.returncode

    def finish(self, timeout: float = 300) -> subprocess.CompletedProcess:
        self.proc.wait(timeout=timeout)
        while (line := self._drain()) is not None:
            self.output.append(line)
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode, "".join(self.output), "")

    def _drain(self) -> str | None:
        while True:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                return None
            if line is not None:
                return line

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


KILLED_WRITING = "killed while writing"
FINISHED = "finished first"
KILLED_UNSEEN = "killed, write transaction not observed"


def kill_while_writing(importer: Importer, db: CrashDb, delay: float) -> str:
    """Wait for the write phase and ``delay`` more seconds, then SIGKILL the importer as soon as its write
    transaction is seen open. The outcome: killed while writing, or finished first (a fast machine
    commits before a late kill), or killed without having seen the transaction."""
    if not importer.wait_for(WRITE_PHASE):
        assert importer.proc.wait(timeout=30) == 0, "".join(importer.output)[-2000:]
        return FINISHED
    time.sleep(delay)
    deadline = time.monotonic() + 10
    while importer.proc.poll() is None and time.monotonic() < deadline:
        if db.writer_in_transaction():
            assert importer.kill() == -signal.SIGKILL
            return KILLED_WRITING
        time.sleep(0.01)
    if importer.kill() == -signal.SIGKILL:
        return KILLED_UNSEEN
    assert importer.proc.returncode == 0, "".join(importer.output)[-2000:]
    return FINISHED


@pytest.mark.django_db  # so that the suite's test database exists to be copied
def test_import_killed_at_any_point_leaves_none_or_all_rows(crash_db, tmp_path):
    db, env = crash_db
    big = write_csv(tmp_path / "clients.csv", ROWS)
    small = write_csv(tmp_path / "first.csv", SMALL)  # the first rows of the big file
    clients0, audits0 = db.counts()

    def attempt(kill: str, delay: float = 0.0) -> str:
        importer = Importer(big, env)
        try:
            if kill == "validating":
                # Killed as soon as validation starts (before any write): killed, or at worst finished.
                assert importer.wait_for(VALIDATE_PHASE), "".join(importer.output)
                if importer.kill() == -signal.SIGKILL:
                    return "killed while validating"
                assert importer.proc.returncode == 0, "".join(importer.output)[-2000:]
                return FINISHED
            return kill_while_writing(importer, db, delay)
        finally:
            importer.cleanup()

    outcomes = [attempt("validating")]
    outcomes += [attempt("writing", delay) for delay in (0.0, 0.5)]
    assert outcomes.count(KILLED_WRITING) >= 1, outcomes  # the commit was interrupted
    clients, audits = db.counts()
    assert clients - clients0 in (0, ROWS), outcomes  # none or all
    complete = clients - clients0 == ROWS
    if all(o != FINISHED and o != KILLED_UNSEEN for o in outcomes):
        assert (clients, audits) == (clients0, audits0), outcomes  # nothing at all, not even audit
    assert db.integrity_ok()

    # The database is usable at once (no lock or half-written state left behind): an import runs to
    # completion, every row with its audit record plus the one summary record of the import.
    done = Importer(small, env).finish()
    assert done.returncode == 0, done.stdout[-2000:]
    assert "导入完成" in done.stdout
    clients, audits = db.counts()
    if not complete:
        assert (clients - clients0, audits - audits0) == (SMALL, SMALL + 1)

    # Killed while importing the big file over it (new rows and unchanged ones): still none or all.
    outcome = attempt("writing", 0.2)
    added = db.counts()[0] - clients0
    if complete or outcome != KILLED_WRITING:
        assert added in (SMALL, ROWS), outcome
    else:
        assert added == SMALL, outcome
    assert db.integrity_ok()


# --- Huey retries ------------------------------------------------------------------------------------------


@pytest.fixture
def job_for(world, tmp_path):
    def make(rows: int, **kw: Any) -> ImportJob:
        path = write_csv(tmp_path / f"job{rows}.csv", rows)
        return ImportJob.objects.create(
            kind="clients",
            branch=world.b1,
            created_by=world["director"],
            file_name="客户资料.csv",
            file_path=str(path),
            **kw,
        )

    return make


def test_retried_import_task_runs_the_job_once(job_for):
    from branchcare.core.tasks import run_import_job

    job = job_for(25)
    before = Client.objects.count()
    run_import_job.call_local(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.created_count == 25
    audits = AuditLog.objects.count()

    # Huey delivers the task again (retry after a timeout, a duplicated message): nothing happens.
    run_import_job.call_local(job.pk)
    run_import_job.call_local(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.created_count == 25
    assert Client.objects.count() - before == 25
    assert AuditLog.objects.count() == audits
    assert AuditLog.objects.filter(action="client.import", object_type="core.importjob").count() == 1


def test_task_retried_while_the_first_run_is_still_running_does_not_run_it_twice(job_for):
    from branchcare.core.tasks import run_import_job

    job = job_for(10, status=ImportJob.Status.RUNNING)
    run_import_job.call_local(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING
    assert not Client.objects.filter(client_no__startswith="4600000").exists()
    assert not AuditLog.objects.filter(action="client.import").exists()


def test_importing_the_same_file_again_changes_nothing(job_for):
    """A user who re-uploads yesterday's file (or a job re-run by hand) gets "unchanged", not copies."""
    from branchcare.core import imports

    first = job_for(30, status=ImportJob.Status.RUNNING)
    imports.execute_job(first)
    audits = AuditLog.objects.count()
    second = job_for(30, status=ImportJob.Status.RUNNING)
    imports.execute_job(second)
    second.refresh_from_db()
    assert second.status == ImportJob.Status.DONE
    assert (second.created_count, second.updated_count, second.unchanged_count) == (0, 0, 30)
    assert Client.objects.filter(client_no__startswith="460000").count() == 30
    # Only the summary record of the second import; no client changed.
    assert AuditLog.objects.count() == audits + 1
