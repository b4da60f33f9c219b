"""Property-based API tests: Schemathesis generates requests from our own OpenAPI schema.

The schema is fetched through the WSGI application (no server). Every operation is called with the
token of a director (broad rights) and of a customer-service agent (view only, masked data), with
positive and negative inputs; path ids are steered towards real objects (own, another manager's and
another branch's client) part of the time. Each response must not be a 5xx, must use a documented
status code and content type, and must match the documented response schema. Runs on whichever
database the suite uses (SQLite or PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from branchcare.testing.factories import HoldingFactory, PriceFactory, SecurityFactory
from config.wsgi import application

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "all"},
        # The coverage phase enumerates hundreds of boundary cases per operation; the fuzzing phase
        # with a small example budget keeps the whole run well under a minute.
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
# Loaded at collection time: the schema view needs neither a database nor a user.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Which real object a path id is replaced with (None: keep the generated id).
TARGETS = [None, "client_m1", "client_m2", "client_b2", "director", "b2director"]


@pytest.fixture
def wsgi_keeps_test_connection():
    """Calling the WSGI application directly fires ``request_finished``, whose handler closes the
    database connection, and with it the test transaction on PostgreSQL. Django's own test client
    detaches that handler during a request; do the same for the Schemathesis WSGI client."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def holdings(world):
    security = SecurityFactory(code="600036")
    PriceFactory(security=security, date=dt.date(2026, 11, 24), close=Decimal("11.00"))
    HoldingFactory(client=world.client_m1, security=security)


@pytest.fixture(params=["director", "agent1"])
def auth_headers(request, world) -> dict[str, str]:
    """``Authorization`` for a director (broad rights) and for an agent (view only, masked data)."""
    token, _created = Token.objects.get_or_create(user=world[request.param])
    return {"Authorization": f"Token {token.key}"}


def _steer_id(case, world, target: str | None) -> None:
    """Point the generated ``id`` at a real client or staff member, so that found objects, scope
    refusals and writes are exercised too, not only 404s for random numbers."""
    if target is None or "id" not in (case.path_parameters or {}):
        return
    obj = world[target] if target in world.users else getattr(world, target)
    case.path_parameters["id"] = obj.pk


@schema.parametrize()
@schema.given(target=st.sampled_from(TARGETS))
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, target, world, holdings, auth_headers, wsgi_keeps_test_connection):
    _steer_id(case, world, target)
    case.call_and_validate(headers=auth_headers, checks=CHECKS)
