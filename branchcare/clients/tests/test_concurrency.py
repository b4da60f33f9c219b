"""Fifty people editing the same client at once, against the real database (committed transactions, one
connection per thread): no update is lost, no duplicate is created, and every refusal is a DomainError
with a Chinese message — never an IntegrityError or "database is locked".

PostgreSQL serialises the writers with ``SELECT … FOR UPDATE`` and the unique constraint; SQLite with
``BEGIN IMMEDIATE`` (the write lock is taken at the start of each transaction) and the 20 s busy timeout.

On SQLite the suite's test database lives in memory in *shared-cache* mode, where a second connection
meets table-level locks ("database table is locked", which no busy timeout waits for) — unlike the WAL
database file of a real installation. For these tests the in-memory database is therefore copied to a
temporary file (same schema and data, WAL like production) and restored afterwards.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, cast

import pytest
from django.db import connection, connections
from django.urls import reverse

from branchcare.clients.models import Client
from branchcare.clients.services import client_create, client_update
from branchcare.core.errors import DomainError
from branchcare.core.models import AuditLog

THREADS = 50

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def django_db_setup(django_db_setup, django_db_blocker, tmp_path_factory):
    """On SQLite, run this module against a WAL database file instead of the shared-cache memory database
    (see the module docstring); elsewhere, the suite's test database as it is."""
    if connection.vendor != "sqlite" or not cast(Any, connection).is_in_memory_db():
        yield
        return
    path = tmp_path_factory.mktemp("concurrency") / "test.sqlite3"
    with django_db_blocker.unblock():
        connection.ensure_connection()
        memory, name = connection.connection, connection.settings_dict["NAME"]
        import sqlite3

        target = sqlite3.connect(path)
        memory.backup(target)
        target.close()
        # Closing the memory connection would destroy the database: set it aside instead. New
        # connections, in this thread and in the editors' threads, open the file.
        connection.connection = None
        connection.settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            connections.close_all()
            connection.settings_dict["NAME"] = name
            connection.connection = memory


def in_parallel(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` for i in 0..n-1 in n threads released together; the result or the exception of each.

    Every thread opens its own database connection (Django's connections are per thread) and closes it
    at the end."""
    start = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            start.wait(timeout=60)
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,), name=f"editor-{i}") for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "an editor thread hung"
    return results


def unexpected(results: list[Any], allowed: type[BaseException] | None = None) -> list[BaseException]:
    return [r for r in results if isinstance(r, BaseException) and not (allowed and isinstance(r, allowed))]


@pytest.fixture
def actors(world):
    """The thread bodies must not touch the fixture's objects' lazy relations from other threads."""
    return {"director": world["director"], "manager1": world["manager1"]}


def test_fifty_editors_appending_tags_with_optimistic_lock_lose_nothing(transactional_db, world, actors):
    """Each editor reads the client, adds its own tag and saves with the version it read; on a conflict
    (someone saved in between) it re-reads and tries again — as the edit form tells a user to."""
    pk = world.client_m1.pk
    Client.objects.filter(pk=pk).update(tags=[])
    start_version = Client.objects.get(pk=pk).version
    actor = actors["manager1"]
    conflicts: Counter[int] = Counter()

    def edit(i: int) -> int:
        for attempt in range(1, 500):
            client = Client.objects.get(pk=pk)
            try:
                client_update(
                    actor=actor,
                    client=client,
                    data={"tags": [*client.tags, f"t{i:02d}"]},
                    expected_version=client.version,
                )
            except DomainError as exc:
                assert exc.code == "conflict", exc.message
                assert "已被他人修改" in exc.message
                conflicts[i] += 1
                time.sleep(0.001 * (i % 7))  # a user re-reads, then saves again
                continue
            return attempt
        raise AssertionError(f"editor {i} never got its edit in")

    results = in_parallel(THREADS, edit)

    assert unexpected(results) == []
    assert sum(conflicts.values()) > 0  # the editors did collide, and the version check caught it
    client = Client.objects.get(pk=pk)
    assert sorted(client.tags) == [f"t{i:02d}" for i in range(THREADS)]
    assert client.version == start_version + THREADS
    assert AuditLog.objects.filter(action="client.update", object_id=str(pk)).count() == THREADS


def test_fifty_blind_editors_each_bump_the_version_once(transactional_db, world, actors):
    """Without a version to compare (API PUT/PATCH without ``version``), concurrent saves are serialised by
    the row lock: every one of them counts (version incremented with F() under the lock)."""
    pk = world.client_m1.pk
    start_version = Client.objects.get(pk=pk).version
    actor = actors["director"]

    def edit(i: int) -> int:
        client = Client.objects.get(pk=pk)
        saved = client_update(actor=actor, client=client, data={"notes": f"第 {i} 位编辑的备注"})
        return saved.version

    results = in_parallel(THREADS, edit)

    assert unexpected(results) == []
    # Each save saw a distinct version: no two editors read-modified-wrote the same state.
    assert sorted(results) == list(range(start_version + 1, start_version + THREADS + 1))
    client = Client.objects.get(pk=pk)
    assert client.version == start_version + THREADS
    assert client.notes in {f"第 {i} 位编辑的备注" for i in range(THREADS)}
    assert AuditLog.objects.filter(action="client.update", object_id=str(pk)).count() == THREADS


def test_fifty_concurrent_creates_of_one_client_number_make_one_client(transactional_db, world, actors):
    """Double clicks and retried requests arriving together: one client, 49 clear refusals."""
    branch = world.b1
    actor = actors["director"]
    manager = actors["manager1"]

    def create(i: int) -> int:
        client = client_create(
            actor=actor,
            branch=branch,
            data={"client_no": "77000001", "name": "并发测试", "manager": manager, "notes": f"#{i}"},
        )
        return client.pk

    results = in_parallel(THREADS, create)

    assert unexpected(results, allowed=DomainError) == []
    created = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(created) == 1 and len(refused) == THREADS - 1
    assert {(e.field, e.message) for e in refused} == {("client_no", "客户号 77000001 在本营业部已存在。")}
    assert Client.objects.filter(branch=branch, client_no="77000001").count() == 1
    assert AuditLog.objects.filter(action="client.create", object_id=str(created[0])).count() == 1


def test_fifty_concurrent_api_creates_answer_201_once_and_400_otherwise(transactional_db, world):
    """The same through the API, as retried POSTs would arrive: one 201, the rest 400 with the reason."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=world["director"]).key
    payload = {"client_no": "77000002", "name": "重复提交"}

    def post(_i: int) -> tuple[int, Any]:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = api.post("/api/v1/clients/", payload, format="json")
        return response.status_code, response.json()

    results = in_parallel(THREADS, post)

    assert unexpected(results) == []
    statuses = Counter(status for status, _body in results)
    assert statuses == {201: 1, 400: THREADS - 1}, statuses
    bodies = [body for status, body in results if status == 400]
    assert all("客户号 77000002 在本营业部已存在。" in str(body) for body in bodies), bodies[0]
    assert Client.objects.filter(client_no="77000002").count() == 1


def test_web_create_form_posted_twice_makes_one_client_and_says_why(transactional_db, world, client):
    """A double-clicked (or re-sent) create form: the second POST is refused with a Chinese message."""
    client.force_login(world["director"])
    form = {
        "client_no": "77000003",
        "name": "双击测试",
        "status": "active",
        "total_assets": "1000",
        "manager": world["manager1"].pk,
    }
    first = client.post(reverse("clients:create"), form)
    assert first.status_code == 302
    second = client.post(reverse("clients:create"), form)
    assert second.status_code == 200
    assert "客户号 77000003 在本营业部已存在。" in second.content.decode()
    assert Client.objects.filter(client_no="77000003").count() == 1
    assert AuditLog.objects.filter(action="client.create").count() == 1
