"""The capped-count paginator used by the client list."""

from __future__ import annotations

from branchcare.api import pagination
from branchcare.api.pagination import CappedCountPaginator
from branchcare.clients.models import Client
from branchcare.testing.factories import ClientFactory


def test_count_is_exact_below_the_cap(db):
    ClientFactory.create_batch(3)

    assert CappedCountPaginator(Client.objects.order_by("pk"), 2).count == 3


def test_count_stops_at_the_cap(db, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 5)
    ClientFactory.create_batch(8)

    paginator = CappedCountPaginator(Client.objects.order_by("pk"), 2)

    assert paginator.count == 5
    assert paginator.num_pages == 3


def test_count_of_a_plain_list():
    assert CappedCountPaginator([1, 2, 3], 2).count == 3
