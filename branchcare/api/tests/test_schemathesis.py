"""Property-based API tests: Schemathesis generates requests from our own OpenAPI schema.

The schema is fetched through the WSGI application (no server), every operation is called with
the token of a director (broad rights) and of a customer-service agent (narrow rights), and each
response must not be a 5xx, must use a documented status code and content type, and must match the
documented response schema. Runs against whichever database the suite uses (SQLite or PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
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
        "generation": {"mode": "all", "max-examples": 20},
        # The coverage phase enumerates hundreds of boundary cases per operation; the fuzzing phase
        # with a small example budget keeps the run short (about half a minute per role).
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(world):
    # Give the generated ids something to hit: the fixture clients have ids 1..3 on a fresh database.
    security = SecurityFactory(code="600036")
    PriceFactory(security=security, date=dt.date(2026, 11, 24), close=Decimal("11.00"))
    HoldingFactory(client=world.client_m1, security=security)
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(params=["director", "agent1"])
def auth_headers(request, world) -> dict[str, str]:
    """``Authorization`` for a director (broad rights) and for an agent (view only, masked data)."""
    token, _created = Token.objects.get_or_create(user=world[request.param])
    return {"Authorization": f"Token {token.key}"}


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.usefixtures("auth_headers")  # puts the parametrized fixture in the test's closure
def test_api_conforms_to_its_schema(case, auth_headers):
    case.call_and_validate(headers=auth_headers, checks=CHECKS)
